// The fan-out at the end of a path: the backend pods the packets go to, each with what this vantage's
// direct connection to it did. The pods a Service routes to are its ready EndpointSlice addresses
// (and the not-ready ones beside them when some are ready); a pod destination's are its pods; the
// probe's own connections add any address the API did not list.
import type { PathHop } from '../../api/types.generated.ts';
import { hostPort } from '../../util/text.ts';
import type { Analysis, PodOutcome, Vantage } from '../analysis.ts';
import { connectFailed } from '../context.ts';
import { LayerReason } from '../reasons.ts';
import { describeConnect } from '../text.ts';
import { pingOutcome } from './chain.ts';
import { backendEdge } from './edges.ts';
import { applies, defined, resultOfConnect, resultOfStatus, type PathContext } from './shared.ts';

/** Backends drawn per path at most: the failing ones are kept first. */
export const MAX_BACKENDS_PER_PATH = 16;

/** Where the path starts: the probe vantage and its node. */
export interface From {
  readonly vantage?: Vantage;
  readonly node?: string;
}

interface Listed {
  readonly ip: string;
  readonly name?: string;
  readonly node?: string;
  readonly port?: number;
  readonly notReady?: boolean;
}

/** The addresses the API says the packets go to, in the API's order. */
function listedBackends(a: Analysis): Listed[] {
  const portOf = (ip: string) => a.dest.backends.find((backend) => backend.ip === ip)?.port;
  if (a.kind === 'pod') return a.dest.backends.filter((b) => b.ip).map((b) => ({ ip: b.ip!, name: b.name, node: b.node, port: b.port }));
  const slices = a.dest.slices;
  if (!slices) return [];
  const ready = slices.ready.map((s) => ({ ip: s.ip, name: s.pod, node: s.node, port: portOf(s.ip) }));
  const notReady = ready.length > 0 ? slices.notReady.map((s) => ({ ip: s.ip, name: s.pod, node: s.node, port: portOf(s.ip), notReady: true })) : [];
  return [...ready, ...notReady];
}

/** This vantage's direct connection to the IP: a failed one first, when it tried more than one port. */
function outcomeFor(outcomes: readonly PodOutcome[], ip: string): PodOutcome | undefined {
  const mine = outcomes.filter((outcome) => outcome.ip === ip);
  return mine.find((outcome) => connectFailed(outcome.status)) ?? mine[0];
}

/** What a backend's hop says when this vantage did not connect to it. */
function unmeasured(p: PathContext, listed: Listed): Pick<PathHop, 'result' | 'detail'> {
  const podLayer = p.finding('PodIP');
  const result = applies(podLayer) && podLayer.status !== 'False' ? resultOfStatus(podLayer.status) : 'Unknown';
  if (!p.measured) return { result, detail: podLayer?.reason };
  if (listed.notReady) return { result, detail: 'not ready' };
  return { result, detail: podLayer?.reason === LayerReason.NotProbed ? 'not probed' : undefined };
}

function connected(p: PathContext, outcome: PodOutcome): Pick<PathHop, 'result' | 'detail' | 'latencyMs'> {
  return {
    result: resultOfConnect(outcome.status),
    detail: describeConnect(outcome.status, outcome.ms, outcome.err, p.a.transport),
    latencyMs: outcome.status === 'ok' ? outcome.ms : undefined,
  };
}

function backendHop(p: PathContext, from: From, listed: Listed, outcome: PodOutcome | undefined): PathHop {
  const { a } = p;
  const node = outcome?.node ?? listed.node;
  const port = outcome?.port ?? listed.port;
  const pinged = p.measured && a.protocol === 'ICMP' ? a.icmp.find((entry) => entry.vantage === from.vantage && entry.icmp.ip === listed.ip) : undefined;
  const measured = outcome ? connected(p, outcome) : pinged ? pingOutcome(pinged.icmp) : unmeasured(p, listed);
  return defined({
    kind: 'Backend',
    layer: 'PodIP',
    name: outcome?.pod?.metadata?.name ?? listed.name ?? a.input.spec.destination.pod ?? listed.ip,
    address: port !== undefined ? hostPort(listed.ip, port) : listed.ip,
    node,
    sameNode: outcome?.sameNode ?? (node && from.node ? node === from.node : undefined),
    ...measured,
    policy: p.measured ? backendEdge(a, listed.ip, p.rootCause.reason) : undefined,
  });
}

/** The backends of one vantage's path, at most MAX_BACKENDS_PER_PATH (failing ones first), and how many were left out. */
export function backendHops(p: PathContext, from: From): { hops: PathHop[]; omitted: number } {
  const { a } = p;
  const { vantage } = from;
  if (a.kind === 'host' || a.dest.serviceKind === 'ExternalName') return { hops: [], omitted: 0 };
  const outcomes = p.measured ? a.podOutcomes.filter((outcome) => outcome.vantage === vantage) : [];
  const listed = listedBackends(a);
  const ips = [...new Set([...listed.map((entry) => entry.ip), ...outcomes.map((outcome) => outcome.ip)])];
  const hops = ips.map((ip) => backendHop(p, from, listed.find((entry) => entry.ip === ip) ?? { ip }, outcomeFor(outcomes, ip)));
  if (hops.length <= MAX_BACKENDS_PER_PATH) return { hops, omitted: 0 };
  const kept = new Set([...new Set([...hops.filter((hop) => hop.result === 'Failed'), ...hops])].slice(0, MAX_BACKENDS_PER_PATH));
  return { hops: hops.filter((hop) => kept.has(hop)), omitted: hops.length - kept.size };
}
