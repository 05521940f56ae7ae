// What failed, computed once from the analysis, before any rule asks why. Each symptom names the
// first thing that went wrong on one kind of path, and they exclude each other the way the probe's
// steps depend on each other:
//
//   lookup           a name lookup failed: nothing after it was tested by name, so it comes first
//   pingToClusterIP  a ping to a ClusterIP: the check cannot test anything (only IPVS answers it)
//   external         the way out of the cluster failed (a host destination, an ExternalName alias)
//   bypass           the ClusterIP failed while the same probe reached the pods directly
//   path             connections on the way to the destination failed (pods, the ClusterIP, a ping)
//   http, blackhole, icmp   the HTTP exchange over a working connection, large packets, pings
//   healthy          nothing failed: only warnings may apply
//
// The rules of the chain (chain.ts) read these, so that a symptom is detected in one place.
import { listText, plural } from '../../util/text.ts';
import type { Analysis, DnsLookup, IcmpOutcome, PodHttpFailure, PodOutcome, ServiceAttempt, Vantage } from '../analysis.ts';
import { kubeProxyBroken } from '../layers/node.ts';
import type { PolicyFlow } from '../layers/policy.ts';
import { ingressControllersDown } from '../layers/north-south.ts';
import { connectCommand, digCommand, pingCommand, type Argv } from '../reproduce.ts';
import { attemptShort, outcomeShort, sourceNodeOf } from './shared.ts';

export interface LookupSymptom {
  readonly lookup: DnsLookup;
  /** The nameserver that answered, or the first one configured. */
  readonly server: string;
  /** "backend did not resolve from pod shop/web: TIMEOUT from 10.96.0.10 after 2 queries in 10006 ms (...)". */
  readonly text: string;
  /** No answer at all (timeout, unreachable, error): the way to the DNS servers is in question. */
  readonly noAnswer: boolean;
  /** The destination's ClusterIP fails too while its pods answer directly. */
  readonly clusterIPBroken: boolean;
  /**
   * The service proxy on the source's node is in question (the ClusterIP bypassed, rules missing, or
   * kube-proxy missing or not ready): the query to the kube-dns ClusterIP must be translated before
   * anything else on its way matters.
   */
  readonly proxyInQuestion: boolean;
  readonly node?: string;
  readonly reproduce: Argv[];
}

export interface ExternalSymptom {
  readonly host: string;
  /** The failed attempt on the host's address, if there was one. */
  readonly attempt?: ServiceAttempt;
  /** "api.example.com 198.51.100.7:443 timed out ... from pod shop/web on node node-1". */
  readonly text: string;
  readonly refused: boolean;
  /** A cluster name given as a host: the traffic never left the cluster. */
  readonly internal: boolean;
  /** Why the ingress controllers cannot serve the host's Ingress, when they cannot. */
  readonly ingressDown?: string;
  readonly reproduce: Argv[];
}

export interface BypassSymptom {
  readonly attempt: ServiceAttempt;
  /** The same vantage's direct pod connections, all of which worked. */
  readonly direct: PodOutcome[];
  /** "ClusterIP 10.96.12.7:8080 timed out ... from pod shop/web, but 2 backend pods answered directly (...)". */
  readonly text: string;
  /** The vantage's node, where the service translation failed. */
  readonly node?: string;
  readonly reproduce: Argv[];
}

export interface PathSymptom {
  readonly failed: PodOutcome[];
  /** Failed pod connections that got no answer (timeouts, unreachable): not refusals. */
  readonly silent: PodOutcome[];
  readonly refused: PodOutcome[];
  /** The failed attempt on the ClusterIP (or destination address), if any. */
  readonly attempt?: ServiceAttempt;
  /** Some failure got no answer at all (not only refusals): a node or the network may explain it. */
  readonly unanswered: boolean;
  readonly text: string;
  /** The source's node. */
  readonly node?: string;
  /** The nodes involved in the silent failures (the source's and the destinations'). */
  readonly involved: ReadonlySet<string>;
  readonly reproduce: Argv[];
}

export type HttpFailure = ServiceAttempt | PodHttpFailure;

export interface Symptoms {
  readonly lookup?: LookupSymptom;
  readonly pingToClusterIP?: IcmpOutcome;
  readonly external?: ExternalSymptom;
  /** A Service destination failed (connect, direct pod or HTTP): its endpoints may explain it. */
  readonly serviceFailed: boolean;
  readonly bypass?: BypassSymptom;
  readonly path?: PathSymptom;
  readonly http?: HttpFailure;
  /** Large packets vanish without an ICMP error, and no HTTP exchange failed. */
  readonly blackhole: boolean;
  readonly icmp?: IcmpOutcome;
  readonly healthy: boolean;
}

interface Failures {
  readonly connectFailed: ServiceAttempt[];
  readonly podFailed: PodOutcome[];
  readonly httpFailed: HttpFailure[];
  readonly icmpFailed: IcmpOutcome[];
  readonly udpDenied: boolean;
  readonly blackhole: boolean;
}

export function symptomsOf(a: Analysis): Symptoms {
  const failures = failuresOf(a);
  const failing = Object.values(failures).some((value) => (Array.isArray(value) ? value.length > 0 : value));
  const none = { serviceFailed: false, blackhole: false };
  if (a.dns.failed) return { ...none, lookup: lookupSymptom(a, a.dns.failed), healthy: false };
  if (!failing) return { ...none, healthy: true };
  const { connectFailed, podFailed, httpFailed, icmpFailed } = failures;
  if (a.protocol === 'ICMP' && a.kind === 'service' && a.service.applicable && icmpFailed.length)
    return { ...none, pingToClusterIP: icmpFailed[0], healthy: false };
  const external = a.kind === 'host' || a.endpoints.serviceKind === 'ExternalName' ? externalSymptom(a) : undefined;
  if (external) return { ...none, external, healthy: false };
  const bypass = bypassOf(a, connectFailed);
  const pathFailing = podFailed.length > 0 || connectFailed.length > 0 || (icmpFailed.length > 0 && a.kind === 'pod') || failures.udpDenied;
  return {
    serviceFailed: a.kind === 'service' && (connectFailed.length > 0 || podFailed.length > 0 || httpFailed.length > 0),
    ...(bypass ? { bypass } : {}),
    ...(!bypass && pathFailing ? { path: pathSymptom(a) } : {}),
    ...(httpFailed[0] ? { http: httpFailed[0] } : {}),
    blackhole: failures.blackhole && httpFailed.length === 0,
    ...(icmpFailed[0] && a.kind !== 'pod' && httpFailed.length === 0 && !failures.blackhole ? { icmp: icmpFailed[0] } : {}),
    healthy: false,
  };
}

/** The denied flows to destinations that did not answer: a pod that answered is not blocked. */
export function deniedUnanswered(a: Analysis): PolicyFlow[] {
  const answered = new Set(a.pods.outcomes.filter((o) => o.status === 'ok').map((o) => o.ip));
  return a.policy.denied.filter((flow) => !flow.backend?.ip || !answered.has(flow.backend.ip));
}

function failuresOf(a: Analysis): Failures {
  const noReply = [...a.service.attempts.map((t) => t.connect?.status), ...a.pods.outcomes.map((o) => o.status)].includes('noReply');
  return {
    connectFailed: a.service.connectFailed,
    podFailed: a.pods.failed,
    httpFailed: [...a.service.httpFailed, ...a.podHttpFailed],
    icmpFailed: a.icmp.filter((entry) => entry.icmp.status !== 'ok'),
    // UDP without a reply proves nothing by itself; it fails when a policy denies a flow that did not answer.
    udpDenied: a.transport === 'UDP' && noReply && deniedUnanswered(a).length > 0,
    blackhole: a.mtu.broken?.mtu.status === 'blackhole',
  };
}

function lookupSymptom(a: Analysis, lookup: DnsLookup): LookupSymptom {
  const result = lookup.dns;
  const server = result.server ?? lookup.resolv?.ns[0] ?? 'the nameserver';
  const tries = result.tries.slice(0, 3).map((t) => `${t.qname} ${t.result}`);
  const after = `after ${plural(result.queries, 'query', 'queries')} in ${result.ms} ms${tries.length ? ` (${tries.join(', ')})` : ''}`;
  const node = sourceNodeOf(a, lookup.vantage);
  const clusterIPBroken = bypassOf(a, a.service.connectFailed) !== undefined;
  return {
    lookup,
    server,
    text: `${result.name} did not resolve from ${lookup.vantage.label}: ${result.status.toUpperCase()} from ${server} ${after}`,
    noAnswer: !['nxdomain', 'nodata', 'servfail', 'refused'].includes(result.status),
    clusterIPBroken,
    proxyInQuestion: clusterIPBroken || a.node.serviceRulesMissing.length > 0 || kubeProxyBroken(a.node, node),
    node,
    reproduce: digCommand(a.repro, result.name),
  };
}

/** The way out of the cluster, when it failed: an attempt on the host's address, or an Ingress whose controllers are down. */
function externalSymptom(a: Analysis): ExternalSymptom | undefined {
  const ns = a.northSouth;
  const attempt = a.service.connectFailed[0];
  const host = ns.external?.host ?? a.endpoints.service?.spec?.externalName ?? a.destinationText;
  const down = ingressControllersDown(ns);
  const ingressDown = ns.external?.viaIngress && down && (attempt || a.service.httpFailed.length) ? down : undefined;
  if (!attempt && !ingressDown) return undefined;
  return {
    host,
    ...(attempt ? { attempt } : {}),
    text: attempt ? `${host} ${attemptShort(a, attempt)} from ${attempt.vantage.label}` : host,
    refused: attempt?.connect?.status === 'refused',
    internal: ns.external?.internal === true,
    ...(ingressDown ? { ingressDown } : {}),
    reproduce: attempt?.connect ? connectCommand(a.repro, a.transport, attempt.connect.ip, attempt.connect.port) : [],
  };
}

/** The first ClusterIP attempt that failed while the same vantage's pod connections all worked. */
export function bypassOf(a: Analysis, connectFailed: ServiceAttempt[]): BypassSymptom | undefined {
  if (!a.service.applicable) return undefined;
  for (const attempt of connectFailed) {
    const direct = a.pods.outcomes.filter((outcome) => outcome.vantage === attempt.vantage);
    if (direct.length === 0 || !direct.every((outcome) => outcome.status === 'ok')) continue;
    const answered = `${plural(direct.length, 'backend pod')} answered directly (${listText(
      direct.map((o) => outcomeShort(a, o)),
      3,
    )})`;
    return {
      attempt,
      direct,
      text: `ClusterIP ${attemptShort(a, attempt)} from ${attempt.vantage.label}, but ${answered}`,
      node: sourceNodeOf(a, attempt.vantage),
      reproduce: [
        ...connectCommand(a.repro, a.transport, attempt.connect?.ip, attempt.connect?.port),
        ...connectCommand(a.repro, a.transport, direct[0].ip, direct[0].port),
      ],
    };
  }
  return undefined;
}

function pathSymptom(a: Analysis): PathSymptom {
  const failed = a.pods.failed;
  const silent = failed.filter((outcome) => outcome.status !== 'refused');
  const attempt = a.service.connectFailed[0];
  const first: Vantage | undefined = failed[0]?.vantage ?? attempt?.vantage;
  const node = sourceNodeOf(a, first);
  return {
    failed,
    silent,
    refused: failed.filter((outcome) => outcome.status === 'refused'),
    ...(attempt ? { attempt } : {}),
    unanswered: silent.length > 0 || failed.length === 0,
    text: pathText(a, failed, attempt),
    node,
    involved: new Set([node, ...silent.map((o) => o.node)].filter((n): n is string => Boolean(n))),
    reproduce: pathReproduce(a, failed, attempt),
  };
}

function pathText(a: Analysis, failed: PodOutcome[], attempt: ServiceAttempt | undefined): string {
  if (failed.length > 0)
    return `${listText(
      failed.map((o) => outcomeShort(a, o)),
      3,
    )} from ${failed[0].vantage.label}`;
  if (attempt) return `ClusterIP ${attemptShort(a, attempt)} from ${attempt.vantage.label}`;
  const ping = a.icmp[0]?.icmp;
  return ping ? `ping to ${ping.ip}: ${ping.received}/${ping.sent} replies` : `${a.destinationText} got no reply`;
}

function pathReproduce(a: Analysis, failed: PodOutcome[], attempt: ServiceAttempt | undefined): Argv[] {
  if (failed[0]) return connectCommand(a.repro, a.transport, failed[0].ip, failed[0].port);
  const any = (attempt ?? a.service.attempts[0])?.connect;
  if (any) return connectCommand(a.repro, a.transport, any.ip, any.port);
  // A ping check to a pod: repeat the ping.
  return pingCommand(a.repro, a.icmp.find((entry) => entry.icmp.status !== 'ok')?.icmp.ip);
}
