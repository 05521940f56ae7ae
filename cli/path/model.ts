// The hop model: the one place that knows what the drawn path is made of. A hop is the operator's
// status.path hop (operator/api: PathHop), so a path read from status and a path pieced together
// from an older operator's condition messages (from-messages.ts) are the same thing to the
// renderer. A path is the chain a packet takes (source -> DNS -> Service ClusterIP -> the node's
// kube-proxy) and, at its end, the backends it fans out to (pods, or a host outside the cluster),
// with the NetworkPolicy verdict at the edges; a status holds one path per probe vantage, each
// starting at its Source hop. Which hop the root cause sits on is the diagnosis's rule
// (operator/diagnosis: markCause); nothing here diagnoses anything.
import type { PathHop, PathPolicyEdge } from '../../operator/api/types.generated.ts';
import type { Mark } from '../style.ts';

export type Hop = PathHop;
export type PolicyEdge = PathPolicyEdge;
export type HopResult = PathHop['result'];

export interface NetworkPath {
  /** The hops in packet order, one path per vantage (each starts at a Source hop); backends last in each. */
  readonly hops: readonly Hop[];
  /** The evidence printed under the first root-cause hop: sentences of the failing layer's condition. */
  readonly evidence: readonly string[];
  readonly failedLayer?: string;
  readonly reason?: string;
  /** Hops the operator left out of status.path (it keeps at most 40). */
  readonly hopsOmitted?: number;
}

const MARKS: Record<HopResult, Mark> = { Ok: 'ok', Failed: 'failed', Unknown: 'unknown', Warning: 'warning' };
const RESULTS: Record<Mark, HopResult> = { ok: 'Ok', failed: 'Failed', unknown: 'Unknown', warning: 'Warning' };

export const markOf = (result: HopResult): Mark => MARKS[result];
export const resultOf = (state: Mark): HopResult => RESULTS[state];

/** How a hop is named in the drawing: "pod shop/web", "DNS backend", "Service shop/backend", "kube-proxy", "pod backend-7d9f-abcde". */
export function hopLabel(hop: Hop): string {
  switch (hop.kind) {
    case 'DNS':
      return `DNS ${hop.name}`.trim();
    case 'Service':
      return `Service ${hop.name}`;
    case 'Backend':
      return `pod ${hop.name}`;
    default:
      return hop.name;
  }
}

export const isEnd = (hop: Hop): boolean => hop.kind === 'Backend' || hop.kind === 'External';
