// status.path: the packet path of a run, hop by hop, with the addresses and what each hop did, for
// whoever draws it (the kubectl plugin) or reads it (kubectl get -o jsonpath). Built from the same
// analysis and root cause as the conditions, so the two never disagree: source -> DNS -> Service
// ClusterIP -> the source node's service proxy -> each backend pod (or the external host), with the
// NetworkPolicy verdicts on the edges and the hop the root cause sits on marked (./cause.ts).
//
// One path per probe vantage: spread: EveryNode probes from several nodes, and a node-specific fault
// shows only on the paths from that node. The paths stay within the schema's 40 hops: backends past
// 16 per path, then whole paths (those without a failure first) are left out and counted.
//
// Pure: the same analysis gives the same path.
import { networkCheckSchema } from '../../api/schema.ts';
import type { NetworkPath, PathHop } from '../../api/types.generated.ts';
import { clip } from '../../util/text.ts';
import type { Analysis, LayerFinding, Vantage } from '../analysis.ts';
import type { RootCause } from '../causes/chain.ts';
import { PROBE_LAYER } from '../reasons.ts';
import { backendHops } from './backends.ts';
import { markCause, splitPaths } from './cause.ts';
import { dnsHop, externalHop, proxyHop, serviceHop, sourceHop } from './chain.ts';
import { sourceEdge } from './edges.ts';
import { defined, type PathContext } from './shared.ts';

export { markCause, rootCauseHops, splitPaths, warningHops, type PathOutcome } from './cause.ts';

const PATH = networkCheckSchema.properties!.status!.properties!.path!.properties!;
const HOP = PATH.hops!.items!.properties!;
/** The schema's limits: one source of truth for how much a path holds. */
export const MAX_PATH_HOPS = PATH.hops!.maxItems!;
const MAX_NAME = HOP.name!.maxLength!;
const MAX_DETAIL = HOP.detail!.maxLength!;

interface Built {
  readonly hops: PathHop[];
  readonly omitted: number;
}

/** The path from one vantage: the chain, then the fan-out (a DNS check's path ends at the lookup). */
function vantagePath(p: PathContext, vantage: Vantage | undefined): Built {
  const { a } = p;
  const source = sourceHop(p, vantage);
  const edge = p.measured ? sourceEdge(a) : undefined;
  const dnsOnly = a.protocol === 'DNS';
  const rest = dnsOnly ? [] : [serviceHop(p, vantage), proxyHop(p, vantage, source.node), externalHop(p, vantage)];
  const chain = [edge ? { ...source, policy: edge } : source, dnsHop(p, vantage), ...rest].filter((hop): hop is PathHop => hop !== undefined);
  const ends = dnsOnly ? { hops: [], omitted: 0 } : backendHops(p, { vantage, node: source.node });
  return { hops: [...chain, ...ends.hops], omitted: ends.omitted };
}

/** Whole paths within MAX_PATH_HOPS: those carrying the root cause first, then failing ones, in vantage order. */
function withinLimit(paths: PathHop[][]): { hops: PathHop[]; omitted: number } {
  const total = paths.reduce((sum, path) => sum + path.length, 0);
  if (total <= MAX_PATH_HOPS) return { hops: paths.flat(), omitted: 0 };
  const rank = (path: PathHop[]) => (path.some((hop) => hop.rootCause) ? 0 : path.some((hop) => hop.result === 'Failed') ? 1 : 2);
  const order = paths.map((path, index) => ({ path, index })).sort((x, y) => rank(x.path) - rank(y.path) || x.index - y.index);
  const kept = new Set<number>();
  let size = 0;
  for (const { path, index } of order) {
    if (size + path.length > MAX_PATH_HOPS) continue;
    kept.add(index);
    size += path.length;
  }
  const hops = paths.filter((_, index) => kept.has(index)).flat();
  return { hops, omitted: total - hops.length };
}

function bounded(hop: PathHop): PathHop {
  return defined({ ...hop, name: clip(hop.name, MAX_NAME), detail: hop.detail === undefined ? undefined : clip(hop.detail, MAX_DETAIL) });
}

/** The path of a run, from its analysis, its root cause and the layer findings as the verdict writes them. */
export function pathOfRun(a: Analysis, rootCause: RootCause, findings: readonly LayerFinding[]): NetworkPath {
  const measured = rootCause.layer !== PROBE_LAYER;
  const p: PathContext = { a, rootCause, measured, finding: (layer) => findings.find((finding) => finding.layer === layer) };
  // Without a vantage (no probe reported) the path is drawn from the source as the API knows it.
  const vantages = a.vantages.length === 0 ? [undefined] : measured ? a.vantages : a.vantages.slice(0, 1);
  const built = vantages.map((vantage) => vantagePath(p, vantage));
  const failed = rootCause.severity === 'failure' || rootCause.severity === 'error';
  const outcome = { result: failed ? 'Unhealthy' : 'Healthy', failedLayer: failed ? rootCause.layer : undefined, reason: rootCause.reason };
  const marked = markCause(built.flatMap((path) => path.hops), outcome);
  const { hops, omitted } = withinLimit(splitPaths(marked));
  const hopsOmitted = omitted + built.reduce((sum, path) => sum + path.omitted, 0);
  return { hops: hops.map(bounded), ...(hopsOmitted > 0 ? { hopsOmitted } : {}) };
}
