// Small readers of Kubernetes objects, evidence reads and probe sections, shared by the context and
// the layers. Pure.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { ConnectResult, IcmpResult, MtuResult, SkippedProbe } from '../probe/result.ts';
import { uniq } from '../util/text.ts';
import type { Fetched } from './evidence.ts';

export function fetchedValue<T>(value: Fetched<T> | undefined): T | undefined {
  return value && value.ok ? value.value : undefined;
}

export function fetchedError(value: Fetched<unknown> | undefined): string | undefined {
  return value && !value.ok ? value.error : undefined;
}

export function isPodReady(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && Boolean(pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
}

export function podIPs(pod: V1Pod): string[] {
  const ips = [pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((entry) => entry.ip)];
  return uniq(ips.filter((ip): ip is string => Boolean(ip)));
}

export function nodeCondition(node: V1Node | undefined, type: string): string | undefined {
  return node?.status?.conditions?.find((c) => c.type === type)?.status;
}

export function nodeInternalIP(node: V1Node | undefined): string | undefined {
  return node?.status?.addresses?.find((address) => address.type === 'InternalIP')?.address;
}

export function isConnectResult(value: ConnectResult | SkippedProbe | undefined): value is ConnectResult {
  return value !== undefined && value.status !== 'skipped';
}

export function isMtuResult(value: MtuResult | SkippedProbe | undefined): value is MtuResult {
  return value !== undefined && value.status !== 'skipped';
}

export function isIcmpResult(value: IcmpResult | SkippedProbe | undefined): value is IcmpResult {
  return value !== undefined && value.status !== 'skipped';
}
