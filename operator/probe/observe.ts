// What a run's probe pods say, read from their status (pure): still running, failed to start (with
// the kubelet's reason), or finished with a result document, parsed strictly. The node section of a
// result (ip_forward, conntrack, kube-proxy rules) is kept only from the operator's own hostNetwork
// pods in its namespace: any other probe could print one.
import type { V1Pod } from '@kubernetes/client-node';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../api/defaults.ts';
import { ICMP_UNAVAILABLE_PREFIX, parseProbeResult, type ProbeResult } from './result.ts';
import type { ProbeOutput, RunObservation } from './stage.ts';
import { LABEL_CHECK_NAMESPACE } from './template.ts';

/** Container states that mean the probe pod will never run without a human. */
const STUCK_WAITING_REASONS = new Set([
  'ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError',
]);

/** The reason of a run whose ICMP check could not ping at all. */
export const ICMP_UNAVAILABLE_REASON = 'ICMPUnavailable';

/** For an ICMP check: why its ping did not run (ICMP impossible in the probe's sandbox), if so. */
function icmpCheckNotRun(result: ProbeResult): string | undefined {
  const icmp = result.icmp;
  if (result.proto !== 'ICMP' || icmp?.status !== 'skipped' || !icmp.err?.startsWith(ICMP_UNAVAILABLE_PREFIX)) return undefined;
  return icmp.err;
}

/**
 * Whether a pod is a node probe this operator created: hostNetwork, in the operator's namespace
 * (where tenants create nothing), running the operator's image. Only such a pod's "node" section
 * (ip_forward, kube-proxy rules, ...) describes a node; any other probe could print one.
 */
export function isOperatorNodeProbe(pod: V1Pod, operatorNamespace: string | undefined): boolean {
  return operatorNamespace !== undefined && pod.metadata?.namespace === operatorNamespace && pod.spec?.hostNetwork === true &&
    pod.metadata?.labels?.[LABEL_MANAGED_BY] === MANAGED_BY && pod.metadata?.labels?.[LABEL_CHECK_NAMESPACE] !== undefined;
}

/** A probe result without its node section (from a pod whose word about the node does not count). */
function withoutNodeSection<T extends { node?: unknown }>(result: T): T {
  if (result.node === undefined) return result;
  const { node: _untrusted, ...rest } = result;
  return rest as T;
}

type PodOutcome =
  | { kind: 'failed'; reason: string; message: string }
  | { kind: 'running'; detail: string }
  | { kind: 'output'; output: ProbeOutput };

/**
 * Pure: what a run's pods say about the run. The node section of a result counts only from the
 * operator's own node probes (operatorNamespace); it is dropped from every other output here,
 * before the diagnosis sees it.
 */
export function observePods(pods: V1Pod[], ephemeralContainer?: string, operatorNamespace?: string): RunObservation {
  const names = pods.map((p) => p.metadata!.name!);
  const outputs: ProbeOutput[] = [];
  const running: string[] = [];
  for (const pod of pods) {
    const outcome = observePod(pod, ephemeralContainer, operatorNamespace);
    if (outcome.kind === 'failed') return { state: 'Failed', pods: names, reason: outcome.reason, message: outcome.message };
    if (outcome.kind === 'running') running.push(outcome.detail);
    else outputs.push(outcome.output);
  }
  if (running.length > 0) return { state: 'Running', pods: names, detail: `waiting for ${running.join(', ')}` };
  return { state: 'Completed', pods: names, outputs };
}

function observePod(pod: V1Pod, ephemeralContainer: string | undefined, operatorNamespace: string | undefined): PodOutcome {
  const name = pod.metadata!.name!;
  const status = pod.status;
  const containerStatus = ephemeralContainer
    ? status?.ephemeralContainerStatuses?.find((c) => c.name === ephemeralContainer)
    : status?.containerStatuses?.find((c) => c.name === 'probe');
  if (ephemeralContainer && !containerStatus) return { kind: 'running', detail: `${name} (ephemeral container ${ephemeralContainer} not started yet)` };
  const waiting = containerStatus?.state?.waiting;
  if (waiting?.reason && STUCK_WAITING_REASONS.has(waiting.reason)) {
    return { kind: 'failed', reason: 'ProbeFailed', message: `Probe pod ${name} cannot start: ${waiting.reason}: ${(waiting.message ?? '').slice(0, 300)}` };
  }
  const unschedulable = status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
  if (unschedulable && !ephemeralContainer) {
    return { kind: 'failed', reason: 'ProbeFailed', message: `Probe pod ${name} cannot be scheduled: ${(unschedulable.message ?? '').slice(0, 300)}` };
  }
  const terminated = containerStatus?.state?.terminated;
  if (!ephemeralContainer && status?.phase === 'Failed' && !terminated) {
    return { kind: 'failed', reason: 'ProbeFailed', message: `Probe pod ${name} failed: ${status.reason ?? ''} ${(status.message ?? '').slice(0, 300)}`.trim() };
  }
  if (!terminated) return { kind: 'running', detail: `${name} ${status?.phase ?? 'Pending'}${waiting?.reason ? ` (${waiting.reason})` : ''}` };
  const parsed = parseProbeResult(terminated.message ?? '');
  if (!parsed.ok) return { kind: 'failed', reason: 'ProbeOutputInvalid', message: `Probe pod ${name} exited ${terminated.exitCode} with invalid output: ${parsed.error}` };
  if (parsed.result.status === 'invalidInput') {
    // The program refused a parameter the operator passed: an operator-side problem, not the network's.
    const refused = parsed.result.errors.map((e) => `${e.param ?? e.probe ?? e.code}: ${e.msg}`).join('; ');
    return { kind: 'failed', reason: 'ProbeFailed', message: `Probe pod ${name} refused its parameters: ${refused.slice(0, 300)}` };
  }
  const noIcmp = icmpCheckNotRun(parsed.result);
  if (noIcmp) {
    // Ping is what an ICMP check tests: without it the check says nothing (other checks only lose their MTU layer).
    return { kind: 'failed', reason: ICMP_UNAVAILABLE_REASON, message: `Probe pod ${name} could not ping, so the ICMP check was not evaluated: ${noIcmp.slice(ICMP_UNAVAILABLE_PREFIX.length)}.` };
  }
  const trusted = !ephemeralContainer && isOperatorNodeProbe(pod, operatorNamespace);
  return { kind: 'output', output: { pod: name, node: pod.spec?.nodeName, result: trusted ? parsed.result : withoutNodeSection(parsed.result) } };
}

/** The API server's own words for a refused request (its Status message), cut to 400 characters. */
export function refusalMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  let message = String((err as Error).message);
  if (typeof body === 'string') {
    try { message = (JSON.parse(body) as { message?: string }).message ?? body; } catch { message = body; }
  }
  return message.slice(0, 400);
}
