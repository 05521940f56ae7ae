// The hop model: the one place that knows what the drawn path is made of. A path is the chain a
// packet takes (source -> DNS -> Service ClusterIP -> the node's kube-proxy) and, at its end, the
// backends it fans out to (pods, or a host outside the cluster), with the NetworkPolicy verdict at
// the edges: egress where it leaves the source, ingress where it enters a backend.
//
// Every hop names the ladder layer whose condition decides it, so the hop the root cause sits on
// follows from status.failedLayer and status.reason by the rules in rootCauseHops() below. The hops
// themselves come from status (from-status.ts); nothing here diagnoses anything.
import { Cause, Layer, PROBE_LAYER } from '../../operator/diagnosis/index.ts';
import type { LayerName } from './layers.ts';
import type { Mark } from '../style.ts';

export type HopKind = 'source' | 'dns' | 'service' | 'proxy' | 'backend' | 'external';

/** The NetworkPolicy verdict on one edge. */
export interface PolicyEdge {
  readonly direction: 'egress' | 'ingress';
  readonly state: Mark;
  /** namespace/name of the policies that decide the edge (denying ones when it is denied). */
  readonly policies: readonly string[];
  /** "not restricted", "denied", "allowed by backend-allow-web ingress rule #0". */
  readonly text: string;
}

export interface Hop {
  readonly kind: HopKind;
  /** The ladder layer whose condition decides this hop's state. */
  readonly layer: LayerName;
  /** "pod shop/web", "DNS backend", "Service shop/backend", "kube-proxy", "pod backend-7d9f-abcde". */
  readonly label: string;
  /** An IP, IP:port or DNS server address. */
  readonly address?: string;
  readonly node?: string;
  /** True for a backend on the source's node, false for one on another node (the overlay is in the path). */
  readonly sameNode?: boolean;
  readonly state: Mark;
  /** What was measured there: "connected in 1 ms", "timed out after 5001 ms", "-> 10.96.12.7 in 1 ms". */
  readonly detail?: string;
  readonly latencyMs?: number;
  /** The policy verdict on the edge: egress out of the source, ingress into a backend. */
  readonly policy?: PolicyEdge;
  /** Marked: the root cause sits on this hop. */
  readonly rootCause?: boolean;
}

export interface NetworkPath {
  /** The chain, in packet order; backends last (consecutive backend/external hops fan out). */
  readonly hops: readonly Hop[];
  /** The evidence printed under the first root-cause hop: sentences of the failing layer's condition. */
  readonly evidence: readonly string[];
  readonly failedLayer?: string;
  readonly reason?: string;
}

/** Layers whose cause lies on the path into a backend rather than on a hop of the chain. */
const BACKEND_LAYERS = new Set<string>([Layer.PodIP, Layer.CNI, Layer.MTU]);

function backendsOf(hops: readonly Hop[]): Hop[] {
  return hops.filter((hop) => hop.kind === 'backend' || hop.kind === 'external');
}

/** The failing backends, or all of them when none is individually known to fail. */
function failingBackends(hops: readonly Hop[], predicate: (hop: Hop) => boolean = (hop) => hop.state === 'failed'): Hop[] {
  const backends = backendsOf(hops);
  const failing = backends.filter(predicate);
  return failing.length > 0 ? failing : backends;
}

const first = (hops: readonly Hop[], kind: HopKind): Hop[] => {
  const found = hops.find((hop) => hop.kind === kind);
  return found ? [found] : [];
};

/**
 * The hops the root cause sits on, from the failed layer and the reason: the ladder's layer says
 * where, a few reasons sharpen it (ServiceProxyMissing is the node's proxy, not the ClusterIP;
 * DNSEgressBlockedByPolicy is the DNS lookup, although its layer is NetworkPolicy).
 */
export function rootCauseHops(hops: readonly Hop[], failedLayer: string | undefined, reason: string | undefined): Hop[] {
  if (!failedLayer) return [];
  if (failedLayer === PROBE_LAYER || failedLayer === Layer.Source) return first(hops, 'source');
  if (reason === Cause.ServiceProxyMissing || failedLayer === Layer.Node) return first(hops, 'proxy').length ? first(hops, 'proxy') : first(hops, 'source');
  if (reason === Cause.DNSEgressBlockedByPolicy || failedLayer === Layer.DNS) return first(hops, 'dns');
  if (failedLayer === Layer.Endpoints || failedLayer === Layer.Service) return first(hops, 'service').length ? first(hops, 'service') : failingBackends(hops);
  if (failedLayer === Layer.NorthSouth) return first(hops, 'external').length ? first(hops, 'external') : first(hops, 'service');
  if (failedLayer === Layer.NetworkPolicy) return policyCauseHops(hops);
  if (failedLayer === Layer.CNI) return failingBackends(hops, (hop) => hop.state === 'failed' && hop.sameNode === false);
  if (BACKEND_LAYERS.has(failedLayer)) return failingBackends(hops);
  return [];
}

/** A policy cause: the edge whose verdict is denied, else (expect: Blocked, yet reachable) the backends. */
function policyCauseHops(hops: readonly Hop[]): Hop[] {
  const denied = hops.filter((hop) => hop.policy?.state === 'failed');
  return denied.length > 0 ? denied : failingBackends(hops);
}

/** Marks the root-cause hops; warning reasons of a Healthy result mark their hop as a warning. */
export function withRootCause(hops: readonly Hop[], failedLayer: string | undefined, reason: string | undefined): Hop[] {
  const marked = new Set(rootCauseHops(hops, failedLayer, reason));
  return hops.map((hop) => (marked.has(hop) ? { ...hop, rootCause: true, state: hop.state === 'ok' || hop.state === 'unknown' ? 'failed' : hop.state } : hop));
}

/** The hop a Healthy result's warning (DNSSearchPathAmplification, LoadBalancerPending, MTUMismatch) is about. */
export function warningHops(hops: readonly Hop[], reason: string | undefined): Hop[] {
  if (reason === Cause.DNSSearchPathAmplification) return first(hops, 'dns');
  if (reason === Cause.LoadBalancerPending) return first(hops, 'service');
  if (reason === Cause.MTUMismatch) return backendsOf(hops).slice(0, 1);
  return [];
}
