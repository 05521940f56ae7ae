// Adapts the pure schedule planner (operator/schedule/plan.ts) to a NetworkCheck: reads its inputs
// from the spec, the run-now annotation and status, and returns RFC 3339 times for status.
import { rfc3339 } from '../api/conditions.ts';
import { ANNOTATION_RUN_NOW } from '../api/defaults.ts';
import type { NetworkCheck } from '../api/types.generated.ts';
import { planRun as schedulePlan } from '../schedule/plan.ts';

export interface RunPlan {
  start: boolean;
  /** Why a run starts (FirstRun, SpecChanged, Scheduled, MissedRun, RunNowAnnotation) or why not. */
  trigger: string;
  /** The run-now value this run consumes; persisted as status.runNowHandled. */
  runNowToken?: string;
  /** The fire time this run stands for, or the newest one given up; persisted as status.lastScheduledTime. */
  scheduledTime?: string;
  nextRunTime?: string;
  requeueAfterMs?: number;
  suspended: boolean;
  skippedMissed?: number;
  /** An invalid schedule or time zone, naming the field. */
  error?: string;
}

const time = (value: string | undefined) => (value ? new Date(value) : undefined);

export function planRun(check: NetworkCheck, now: Date): RunPlan {
  const status = check.status ?? {};
  const lastRun = status.lastRun;
  const plan = schedulePlan({
    now,
    schedule: check.spec.schedule,
    timeZone: check.spec.timeZone,
    suspend: check.spec.suspend,
    generation: check.metadata?.generation ?? 0,
    lastRunGeneration: lastRun?.generation,
    lastScheduledTime: time(status.lastScheduledTime),
    lastRunStartTime: time(lastRun?.startTime),
    runInProgress: Boolean(lastRun?.id && !lastRun.completionTime),
    runNowAnnotation: check.metadata?.annotations?.[ANNOTATION_RUN_NOW],
    lastRunNowHandled: status.runNowHandled,
    creationTime: time(check.metadata?.creationTimestamp as unknown as string) ?? now,
  });
  return {
    start: plan.runNow,
    trigger: plan.why,
    runNowToken: plan.runNowToken,
    scheduledTime: plan.scheduledTime ? rfc3339(plan.scheduledTime) : undefined,
    nextRunTime: plan.nextRunTime ? rfc3339(plan.nextRunTime) : undefined,
    requeueAfterMs: plan.requeueAfterMs,
    suspended: plan.why === 'Suspended',
    skippedMissed: plan.skippedMissed,
    error: plan.error,
  };
}
