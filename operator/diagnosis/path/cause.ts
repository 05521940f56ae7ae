// Which hop of the drawn path the root cause sits on: the one home of that rule, for the operator
// (status.path, built by ./index.ts) and for the kubectl plugin (which draws older statuses from
// their condition messages and marks them with the same rules). The failed layer says where, a few
// reasons sharpen it (ServiceProxyMissing is the node's proxy, not the ClusterIP;
// DNSEgressBlockedByPolicy is the DNS lookup, although its layer is NetworkPolicy).
//
// A path is the hops from one probe vantage, starting at its Source hop; a status holds one path
// per vantage (spread: EveryNode), flat, in vantage order. Pure.
import type { PathHop } from '../../api/types.generated.ts';
import { Layer } from '../layers/index.ts';
import { Cause, PROBE_LAYER } from '../reasons.ts';

/** Layers whose cause lies on the path into a backend rather than on a hop of the chain. */
const BACKEND_LAYERS = new Set<string>([Layer.PodIP, Layer.CNI, Layer.MTU]);

/** What a run's outcome says about where to mark: status.result, failedLayer, reason. */
export interface PathOutcome {
  readonly result?: string;
  readonly failedLayer?: string;
  readonly reason?: string;
}

const isEnd = (hop: PathHop) => hop.kind === 'Backend' || hop.kind === 'External';

const first = (hops: readonly PathHop[], kind: PathHop['kind']): PathHop[] => {
  const found = hops.find((hop) => hop.kind === kind);
  return found ? [found] : [];
};

/** The failing backends, or all of them when none is individually known to fail. */
function failingBackends(hops: readonly PathHop[], failing: (hop: PathHop) => boolean = (hop) => hop.result === 'Failed'): PathHop[] {
  const ends = hops.filter(isEnd);
  const found = ends.filter(failing);
  return found.length > 0 ? found : ends;
}

/** A policy cause: the edge whose verdict is denied, else (expect: Blocked, yet reachable) the backends. */
function policyCauseHops(hops: readonly PathHop[]): PathHop[] {
  const denied = hops.filter((hop) => hop.policy?.result === 'Failed');
  return denied.length > 0 ? denied : failingBackends(hops);
}

const orElse = (found: PathHop[], otherwise: () => PathHop[]) => (found.length > 0 ? found : otherwise());

/** The hops of one path the root cause sits on, from the failed layer and the reason. */
export function rootCauseHops(hops: readonly PathHop[], failedLayer: string | undefined, reason: string | undefined): PathHop[] {
  if (!failedLayer) return [];
  if (failedLayer === PROBE_LAYER || failedLayer === Layer.Source) return first(hops, 'Source');
  if (reason === Cause.ServiceProxyMissing || failedLayer === Layer.Node) return orElse(first(hops, 'Proxy'), () => first(hops, 'Source'));
  if (reason === Cause.DNSEgressBlockedByPolicy || failedLayer === Layer.DNS) return first(hops, 'DNS');
  if (failedLayer === Layer.Endpoints || failedLayer === Layer.Service) return orElse(first(hops, 'Service'), () => failingBackends(hops));
  if (failedLayer === Layer.NorthSouth) return orElse(first(hops, 'External'), () => first(hops, 'Service'));
  if (failedLayer === Layer.NetworkPolicy) return policyCauseHops(hops);
  if (failedLayer === Layer.CNI) return failingBackends(hops, (hop) => hop.result === 'Failed' && hop.sameNode === false);
  if (BACKEND_LAYERS.has(failedLayer)) return failingBackends(hops);
  return [];
}

/** The hop a Healthy result's warning (DNSSearchPathAmplification, LoadBalancerPending, MTUMismatch) is about. */
export function warningHops(hops: readonly PathHop[], reason: string | undefined): PathHop[] {
  if (reason === Cause.DNSSearchPathAmplification) return first(hops, 'DNS');
  if (reason === Cause.LoadBalancerPending) return first(hops, 'Service');
  if (reason === Cause.MTUMismatch) return hops.filter(isEnd).slice(0, 1);
  return [];
}

/** The paths of a flat hop list: each starts at a Source hop (hops before the first one form a path too). */
export function splitPaths(hops: readonly PathHop[]): PathHop[][] {
  const paths: PathHop[][] = [];
  for (const hop of hops) {
    if (hop.kind === 'Source' || paths.length === 0) paths.push([]);
    paths[paths.length - 1].push(hop);
  }
  return paths;
}

const failedIn = (path: readonly PathHop[]) => path.some((hop) => hop.result === 'Failed' || hop.policy?.result === 'Failed');

/**
 * Marks where the outcome sits: rootCause (and Failed, unless already Warning or Failed) on the hops
 * the cause is about, or Warning on a Healthy result's warning hop. With several paths, a path on
 * which everything worked does not carry the cause, unless no path failed anywhere.
 */
export function markCause(hops: readonly PathHop[], outcome: PathOutcome): PathHop[] {
  const paths = splitPaths(hops);
  if (outcome.result === 'Healthy') {
    const warned = new Set(paths.flatMap((path) => warningHops(path, outcome.reason)));
    return hops.map((hop) => (warned.has(hop) ? { ...hop, result: 'Warning' as const } : hop));
  }
  const anyFailed = paths.some(failedIn);
  const marked = new Set(paths.flatMap((path) => (anyFailed && !failedIn(path) ? [] : rootCauseHops(path, outcome.failedLayer, outcome.reason))));
  return hops.map((hop) => {
    if (!marked.has(hop)) return hop;
    const result = hop.result === 'Ok' || hop.result === 'Unknown' ? 'Failed' : hop.result;
    return { ...hop, rootCause: true, result };
  });
}
