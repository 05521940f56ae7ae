// Layer 9, north-south: is the path in from outside (a LoadBalancer address, an Ingress and its
// controller) or out to a host outside the cluster in place?
import type { V1Service } from '@kubernetes/client-node';
import { listText, plural } from '../../util/text.ts';
import type { AnalysisBase, Context } from '../analysis.ts';
import { fetchedError, fetchedValue, isPodReady } from '../objects.ts';
import { Cause, LayerReason } from '../reasons.ts';
import { attemptText, podRef, podStateText } from '../text.ts';
import { defineLayer, finding } from './layer.ts';

declare module '../analysis.ts' {
  interface LayerAnalyses {
    readonly northSouth: NorthSouthAnalysis;
  }
}

export interface NorthSouthAnalysis {
  readonly loadBalancer?: { readonly pending: boolean; readonly addresses: string[] };
  readonly ingresses: string[];
  readonly ingressesError?: string;
  readonly controllers?: { readonly error?: string; readonly total: number; readonly ready: number; readonly names: string[] };
  /** Host destinations (and ExternalName aliases): the path out of the cluster. */
  readonly external?: {
    readonly host: string;
    readonly viaIngress: boolean;
    /** A cluster name (…svc.cluster.local): the traffic never leaves the cluster. */
    readonly internal: boolean;
  };
}

const NAME = 'NorthSouth';

export const northSouthLayer = defineLayer({
  name: NAME,
  condition: 'NorthSouthReady',
  key: 'northSouth',
  analyse: analyseNorthSouth,
  finding: northSouthFinding,
});

function analyseNorthSouth(context: Context): NorthSouthAnalysis {
  const { evidence, kind } = context;
  const service = context.dest.service;
  const names = (fetchedValue(evidence.ingresses) ?? []).map((ingress) => `${ingress.metadata?.namespace}/${ingress.metadata?.name}`);
  const host =
    kind === 'host' ? context.input.spec.destination.host : context.dest.serviceKind === 'ExternalName' ? service?.spec?.externalName : undefined;
  const controllers = controllerPods(context);
  const loadBalancer = kind === 'service' ? loadBalancerOf(service) : undefined;
  return {
    ...(loadBalancer ? { loadBalancer } : {}),
    ingresses: names,
    ingressesError: fetchedError(evidence.ingresses),
    ...(controllers ? { controllers } : {}),
    ...(host ? { external: { host, viaIngress: kind === 'host' && names.length > 0, internal: isClusterName(host) } } : {}),
  };
}

function controllerPods(context: Context): NorthSouthAnalysis['controllers'] {
  const read = context.evidence.ingressControllerPods;
  if (!read) return undefined;
  const pods = fetchedValue(read.pods) ?? [];
  return {
    error: fetchedError(read.pods),
    total: pods.length,
    ready: pods.filter(isPodReady).length,
    names: pods.map((pod) => `${podRef(pod)} ${podStateText(pod)}`),
  };
}

function loadBalancerOf(service: V1Service | undefined): NorthSouthAnalysis['loadBalancer'] {
  if (service?.spec?.type !== 'LoadBalancer') return undefined;
  const addresses = (service.status?.loadBalancer?.ingress ?? []).map((entry) => entry.ip ?? entry.hostname ?? '').filter(Boolean);
  return { pending: addresses.length === 0, addresses };
}

/** A name only the cluster DNS serves: a Service or pod name, never an address outside the cluster. */
export function isClusterName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return /(^|\.)svc(\.cluster\.local)?$/.test(name) || name.endsWith('.cluster.local') || /\.pod(\.cluster\.local)?$/.test(name);
}

/** Why the ingress controllers cannot serve, or undefined when some controller pod is ready. */
export function ingressControllersDown(northSouth: NorthSouthAnalysis): string | undefined {
  const controllers = northSouth.controllers;
  if (!controllers || controllers.error || northSouth.ingresses.length === 0) return undefined;
  if (controllers.total === 0)
    return 'no ingress controller pods were found (by app.kubernetes.io/name; the controller may run outside Kubernetes or use other labels)';
  if (controllers.ready === 0)
    return `none of the ${plural(controllers.total, 'ingress controller pod')} is ready (${listText(controllers.names, 3)})`;
  return undefined;
}

function northSouthFinding(a: AnalysisBase) {
  const ns = a.northSouth;
  const down = ingressControllersDown(ns);
  if (ns.external?.internal) {
    const text =
      `Not evaluated: ${ns.external.host} is a cluster name, the traffic stays inside the cluster (spec.destination.service gives the ` +
      `full ladder for a Service).`;
    return finding(NAME, 'Unknown', LayerReason.NotApplicable, text);
  }
  if (ns.external) return externalFinding(a, down);
  if (ns.loadBalancer?.pending) {
    const text = `LoadBalancer Service ${a.destNamespace}/${a.dest.service?.metadata?.name} has no external address yet (status.loadBalancer is empty)`;
    return finding(NAME, 'False', Cause.LoadBalancerPending, `${text}: no load-balancer controller has provisioned it.${ingressText(ns)}`);
  }
  if (down)
    return finding(NAME, 'False', Cause.IngressControllerUnavailable, `Ingress ${listText(ns.ingresses)} routes to this Service, but ${down}.`);
  if (ns.loadBalancer || ns.ingresses.length) {
    return finding(
      NAME,
      'True',
      LayerReason.ExternalPathReady,
      `${ns.loadBalancer ? `LoadBalancer address ${listText(ns.loadBalancer.addresses)}.` : ''}${ingressText(ns)}`.trim(),
    );
  }
  const why = ns.ingressesError
    ? `Ingresses could not be read (${ns.ingressesError})`
    : a.kind === 'service'
      ? 'the Service is not a LoadBalancer and no Ingress routes to it'
      : 'the destination is inside the cluster';
  return finding(NAME, 'Unknown', ns.ingressesError ? LayerReason.EvidenceUnavailable : LayerReason.NotApplicable, `Not evaluated: ${why}.`);
}

function ingressText(ns: NorthSouthAnalysis): string {
  if (!ns.ingresses.length) return '';
  return ` Ingresses: ${listText(ns.ingresses)}${ns.controllers ? `; controller pods ${ns.controllers.ready}/${ns.controllers.total} ready` : ''}.`;
}

/** A host destination (or an ExternalName alias): the path out of the cluster. */
function externalFinding(a: AnalysisBase, down: string | undefined) {
  const ns = a.northSouth;
  const host = ns.external!.host;
  const ingresses = ingressText(ns);
  if (down) return finding(NAME, 'False', Cause.IngressControllerUnavailable, `${host} is served by Ingress ${listText(ns.ingresses)}, but ${down}.`);
  const attempt = a.service.attempts[0];
  const failed = a.service.connectFailed[0];
  if (!attempt && a.icmp.length === 0) return finding(NAME, 'Unknown', LayerReason.NotProbed, `The path to ${host} was not tested.${ingresses}`);
  if (failed?.skipped) {
    return finding(
      NAME,
      'Unknown',
      LayerReason.NotProbed,
      `The path to ${host} was not tested: ${failed.skipped.err ?? 'no destination address'}.${ingresses}`,
    );
  }
  if (failed) {
    const egress = a.policy.denied[0];
    return finding(
      NAME,
      'False',
      Cause.EgressBlocked,
      `Egress to ${host} ${attemptText(failed, a.transport)}.${egress ? ` ${egress.verdict.message}` : ''}${ingresses}`,
    );
  }
  const how = attempt ? attemptText(attempt, a.transport) : `ping ${a.icmp[0]?.icmp.status}`;
  return finding(NAME, 'True', LayerReason.ExternalPathReady, `Egress to ${host} works: ${how}.${ingresses}`);
}
