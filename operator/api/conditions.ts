// Condition types, reasons and their named constructors. Reasons are CamelCase and stable once
// released: dashboards, alerts and GitOps health checks match on them.
import type { Condition } from './types.generated.ts';

export const ConditionType = {
  // kstatus: https://github.com/kubernetes-sigs/cli-utils/blob/master/pkg/kstatus/README.md
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
} as const;

export const Reason = {
  // Ready / Reconciling / Stalled
  CheckHealthy: 'CheckHealthy',
  CheckUnhealthy: 'CheckUnhealthy',
  CheckError: 'CheckError',
  RunPending: 'RunPending',
  RunInProgress: 'RunInProgress',
  RerunInProgress: 'RerunInProgress',
  SpecChanged: 'SpecChanged',
  Suspended: 'Suspended',
  SpecInvalid: 'SpecInvalid',
  InvalidSchedule: 'InvalidSchedule',
  InvalidCaptureFilter: 'InvalidCaptureFilter',
  SourceNotFound: 'SourceNotFound',
  SourceNotReady: 'SourceNotReady',
  DestinationNotFound: 'DestinationNotFound',
  NodeSourceForbidden: 'NodeSourceForbidden',
  ProbeFailed: 'ProbeFailed',
  ProbeOutputInvalid: 'ProbeOutputInvalid',
  Observed: 'Observed',
} as const;
export type ReasonName = (typeof Reason)[keyof typeof Reason] | string;

/** The Ready/Stalled reasons a completed run's verdict writes; every other Stalled reason is a stall before any probe. */
export const VERDICT_REASONS: ReadonlySet<string> = new Set([Reason.CheckHealthy, Reason.CheckUnhealthy, Reason.CheckError]);

/** Whether the check is Stalled because it could not be probed (bad spec, missing source), not because a run failed. */
export function stalledBeforeProbing(conditions: readonly Condition[] | undefined): boolean {
  return (conditions ?? []).some((c) => c.type === ConditionType.Stalled && c.status === 'True' && !VERDICT_REASONS.has(c.reason));
}

export const Result = {
  Pending: 'Pending',
  Running: 'Running',
  Healthy: 'Healthy',
  Unhealthy: 'Unhealthy',
  Error: 'Error',
} as const;
export type ResultName = (typeof Result)[keyof typeof Result];

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** A condition before lastTransitionTime is decided (that depends on the previous status). */
export type DesiredCondition = Omit<Condition, 'lastTransitionTime'>;

export function condition(type: string, status: ConditionStatus, reason: ReasonName, message: string, observedGeneration: number): DesiredCondition {
  return { type, status, reason, message, observedGeneration };
}

/** kstatus: the check was evaluated and is in its desired state. */
export const ready = (reason: ReasonName, message: string, generation: number) => condition(ConditionType.Ready, 'True', reason, message, generation);
export const notReady = (reason: ReasonName, message: string, generation: number) => condition(ConditionType.Ready, 'False', reason, message, generation);
export const reconciling = (reason: ReasonName, message: string, generation: number) => condition(ConditionType.Reconciling, 'True', reason, message, generation);
export const notReconciling = (generation: number) => condition(ConditionType.Reconciling, 'False', Reason.Observed, 'The operator is not working on this check.', generation);
export const stalled = (reason: ReasonName, message: string, generation: number) => condition(ConditionType.Stalled, 'True', reason, message, generation);
export const notStalled = (generation: number) => condition(ConditionType.Stalled, 'False', Reason.Observed, 'The operator can make progress on this check.', generation);

/**
 * Merges desired conditions into the previous ones following metav1.Condition rules:
 * lastTransitionTime changes only when status flips; conditions not desired any more are dropped.
 */
export function mergeConditions(previous: Condition[] | undefined, desired: DesiredCondition[], now: Date): Condition[] {
  const before = new Map((previous ?? []).map((c) => [c.type, c]));
  return desired.map((want) => {
    const had = before.get(want.type);
    const lastTransitionTime = had && had.status === want.status ? had.lastTransitionTime : rfc3339(now);
    return { ...want, lastTransitionTime };
  });
}

/** metav1.Time serialises at second precision. */
export function rfc3339(time: Date): string {
  return new Date(Math.floor(time.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
