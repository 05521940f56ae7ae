// Layer 2, endpoints: does the Service have ready endpoints on the port the check uses? The API
// evidence only: the Service's selector against the pods (naming the nearest miss), the pods'
// readiness, the EndpointSlice addresses that carry the Service port, and whether the targetPort
// resolves on the pods.
import type { V1ServicePort } from '@kubernetes/client-node';
import { isProbePod } from '../../api/defaults.ts';
import { listText, plural, uniq } from '../../util/text.ts';
import type { AnalysisBase, Backend, Context, ServiceKind, SliceAddress, SliceAddresses } from '../analysis.ts';
import { explainServiceSelector, formatLabels, type SelectorMatchReport } from '../labels.ts';
import { fetchedError, fetchedValue } from '../objects.ts';
import { Cause, LayerReason } from '../reasons.ts';
import { podStateText } from '../text.ts';
import { defineLayer, finding } from './layer.ts';

declare module '../analysis.ts' {
  interface LayerAnalyses {
    readonly endpoints: EndpointsAnalysis;
  }
}

export type EndpointsStatus = 'ok' | 'partial' | 'noPods' | 'selectorMismatch' | 'notReady' | 'none' | 'unknown' | 'na';

export interface EndpointsAnalysis {
  readonly applicable: boolean;
  readonly notApplicable?: string;
  readonly service?: Context['dest']['service'];
  readonly serviceError?: string;
  readonly serviceKind?: ServiceKind;
  readonly selectorless: boolean;
  readonly servicePort?: V1ServicePort;
  readonly portError?: string;
  readonly backends: Backend[];
  readonly backendsError?: string;
  readonly selectorReport?: SelectorMatchReport;
  readonly slices?: SliceAddresses;
  readonly slicesError?: string;
  /** The targetPort problem: a named port no backend declares, or a number no container declares. */
  readonly targetPortProblem?: string;
  readonly status: EndpointsStatus;
}

/** What the endpoints layer found wrong, as a cause: the reason and the evidence sentence. */
export interface EndpointsFault {
  readonly reason: string;
  readonly message: string;
}

const NAME = 'Endpoints';

export const endpointsLayer = defineLayer({
  name: NAME,
  condition: 'EndpointsReady',
  key: 'endpoints',
  analyse: analyseEndpoints,
  finding: endpointsFinding,
});

function analyseEndpoints(context: Context): EndpointsAnalysis {
  const { evidence, kind } = context;
  const { service, serviceKind, servicePort, backends, slices } = context.dest;
  const empty = { selectorless: false, backends, status: 'na' as const };
  if (kind !== 'service')
    return { ...empty, applicable: false, notApplicable: `the destination is ${kind === 'pod' ? 'a pod' : 'a host'}, not a Service` };
  if (!service) {
    const gone = `Service ${context.destNamespace} no longer exists`;
    return {
      ...empty,
      applicable: true,
      status: 'unknown',
      serviceError: context.dest.serviceGone ? gone : (fetchedError(evidence.service) ?? 'the Service was not read'),
    };
  }
  if (serviceKind === 'ExternalName') {
    return {
      ...empty,
      applicable: false,
      service,
      serviceKind,
      notApplicable: `ExternalName Service: an alias for ${service.spec?.externalName}, without endpoints`,
    };
  }
  const selector = service.spec?.selector;
  const selectorless = !selector || Object.keys(selector).length === 0;
  const backendsError = fetchedError(evidence.backendPods);
  const slicesError = fetchedError(evidence.endpointSlices);
  let selectorReport: SelectorMatchReport | undefined;
  if (!selectorless && !backendsError && backends.length === 0) {
    const candidates = fetchedValue(evidence.namespacePods);
    if (candidates)
      selectorReport = explainServiceSelector(
        selector,
        candidates.filter((pod) => !isProbePod(pod)),
      );
  }
  const targetPortProblem = servicePort && backends.length > 0 ? targetPortProblemOf(servicePort, backends) : undefined;
  return {
    applicable: true,
    service,
    serviceKind,
    selectorless,
    ...(servicePort ? { servicePort } : {}),
    ...(context.dest.portError ? { portError: context.dest.portError } : {}),
    backends,
    ...(backendsError ? { backendsError } : {}),
    ...(selectorReport ? { selectorReport } : {}),
    ...(slices ? { slices } : {}),
    ...(slicesError ? { slicesError } : {}),
    ...(targetPortProblem ? { targetPortProblem } : {}),
    status: endpointsStatus({ selectorless, backendsError, backends, slices, selectorReport }),
  };
}

function endpointsStatus(e: Pick<EndpointsAnalysis, 'selectorless' | 'backendsError' | 'backends' | 'slices' | 'selectorReport'>): EndpointsStatus {
  const { selectorless, backendsError, backends, slices } = e;
  const readyCount = slices ? slices.ready.length : backends.filter((backend) => backend.ready && backend.ip).length;
  const someNotReady = (slices && slices.notReady.length > 0) || backends.some((backend) => !backend.ready);
  if (!selectorless && backendsError && !slices) return 'unknown';
  if (!selectorless && !backendsError && backends.length === 0)
    return e.selectorReport && e.selectorReport.candidateCount > 0 ? 'selectorMismatch' : 'noPods';
  if (readyCount === 0) return someNotReady ? 'notReady' : 'none';
  return someNotReady ? 'partial' : 'ok';
}

/** A named targetPort that resolves on no backend, or a number that none of the declared ports is. */
function targetPortProblemOf(servicePort: V1ServicePort, backends: Backend[]): string | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  const named = typeof target === 'string' && !/^\d+$/.test(target);
  const readyBackends = backends.filter((backend) => backend.ready);
  const considered = readyBackends.length > 0 ? readyBackends : backends;
  const undeclared = considered.filter((backend) => !backend.portDeclared);
  // Declaring container ports is optional: a numeric targetPort is only "wrong" when the pods do
  // declare ports and none of them is it. A named one must resolve.
  const containersOf = (backend: Backend) => [...(backend.pod.spec?.containers ?? []), ...(backend.pod.spec?.initContainers ?? [])];
  const declaresAny = considered.some((backend) => containersOf(backend).some((c) => (c.ports ?? []).length > 0));
  if (undeclared.length !== considered.length || !(named || declaresAny)) return undefined;
  const declared = uniq(
    considered.flatMap((backend) =>
      (backend.pod.spec?.containers ?? []).flatMap((c) =>
        (c.ports ?? []).map((p) => `${p.name ? `${p.name}=` : ''}${p.containerPort}/${p.protocol ?? 'TCP'}`),
      ),
    ),
  );
  return named
    ? `targetPort ${target} names no container port of the backend pods (they declare ${declared.length ? declared.join(', ') : 'no ports'})`
    : `targetPort ${target} is not among the ports the backend containers declare (${declared.length ? declared.join(', ') : 'no ports declared'})`;
}

/** The endpoints fault behind a Service, if its endpoints explain a failure on the way to it. */
export function endpointsFault(endpoints: EndpointsAnalysis, destNamespace: string): EndpointsFault | undefined {
  const service = endpoints.service;
  const name = `${destNamespace}/${service?.metadata?.name ?? '?'}`;
  const selector = formatLabels(service?.spec?.selector);
  switch (endpoints.status) {
    case 'selectorMismatch':
      return {
        reason: Cause.SelectorMismatch,
        message: `Service ${name}: ${endpoints.selectorReport?.message ?? `selector ${selector} matches no pods`}`,
      };
    case 'noPods':
      return {
        reason: Cause.NoEndpoints,
        message: `Service ${name} selector ${selector} matches no pods: namespace ${destNamespace} has no pods it could select`,
      };
    case 'notReady':
      return { reason: Cause.EndpointsNotReady, message: notReadyMessage(endpoints, name, selector) };
    case 'none':
      return { reason: Cause.NoEndpoints, message: noEndpointsMessage(endpoints, name, selector) };
    default:
      return undefined;
  }
}

function notReadyMessage(endpoints: EndpointsAnalysis, name: string, selector: string): string {
  const notReady = endpoints.backends.filter((b) => !b.ready).map((b) => `${b.name} ${podStateText(b.pod)}${b.node ? ` on node ${b.node}` : ''}`);
  const slices = endpoints.slices
    ? `its EndpointSlices list 0 ready and ${plural(endpoints.slices.notReady.length, 'not-ready address', 'not-ready addresses')}`
    : 'no pod is ready';
  const pods = notReady.length ? ` (${listText(notReady, 3)})` : '';
  return `Service ${name} has no ready endpoints: ${plural(endpoints.backends.length, 'pod')} match ${selector} but ${slices}${pods}`;
}

function noEndpointsMessage(endpoints: EndpointsAnalysis, name: string, selector: string): string {
  if (endpoints.selectorless)
    return `Service ${name} has no selector and no endpoints: its EndpointSlices must be managed by hand and list no ready address`;
  const port = endpoints.servicePort?.name || endpoints.servicePort?.port || '?';
  const withoutPort = endpoints.slices?.withoutPort.length
    ? ` (its EndpointSlices list ${plural(endpoints.slices.withoutPort.length, 'address', 'addresses')} without that port)`
    : '';
  const problem = endpoints.targetPortProblem ? `: ${endpoints.targetPortProblem}` : '';
  return `Service ${name} has no endpoints for port ${port} although ${plural(endpoints.backends.length, 'pod')} match ${selector}${withoutPort}${problem}`;
}

function addressText(address: SliceAddress): string {
  const details = [address.pod, address.node ? `node ${address.node}` : undefined].filter((detail): detail is string => Boolean(detail));
  return details.length > 0 ? `${address.ip} (${details.join(', ')})` : address.ip;
}

function addressesText(addresses: readonly SliceAddress[]): string {
  return listText(addresses.map(addressText), 4);
}

function endpointsFinding(a: AnalysisBase) {
  const { endpoints } = a;
  if (!endpoints.applicable) return finding(NAME, 'Unknown', LayerReason.NotApplicable, `Not evaluated: ${endpoints.notApplicable}.`);
  if (endpoints.status === 'unknown') {
    const why = endpoints.serviceError ?? endpoints.backendsError ?? endpoints.slicesError ?? 'the endpoints could not be read';
    return finding(NAME, 'Unknown', LayerReason.EvidenceUnavailable, `Not evaluated: ${why}.`);
  }
  const fault = endpointsFault(endpoints, a.destNamespace);
  if (fault) return finding(NAME, 'False', fault.reason, `${fault.message}.`);
  const ready = endpoints.slices?.ready ?? [];
  const notReady = endpoints.slices?.notReady ?? [];
  const sp = endpoints.servicePort;
  const port = sp ? ` port ${sp.port} -> targetPort ${sp.targetPort ?? sp.port}` : '';
  const name = `${a.destNamespace}/${endpoints.service?.metadata?.name}`;
  const text = endpoints.slices
    ? `Service ${name}${port} has ${plural(ready.length, 'ready endpoint')}: ${addressesText(ready)}`
    : `Service ${name}${port}: ${plural(endpoints.backends.filter((b) => b.ready).length, 'ready pod')} match its selector (EndpointSlices not ` +
      `read: ${endpoints.slicesError})`;
  const partial = notReady.length > 0 ? `; ${plural(notReady.length, 'address', 'addresses')} not ready: ${addressesText(notReady)}` : '';
  const portNote = endpoints.targetPortProblem ? `; note: ${endpoints.targetPortProblem}` : '';
  const reason = endpoints.status === 'partial' ? LayerReason.EndpointsPartiallyReady : LayerReason.EndpointsAvailable;
  return finding(NAME, 'True', reason, `${text}${partial}${portNote}.`);
}
