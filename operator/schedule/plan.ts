// The run decision the controller makes on every reconcile of a NetworkCheck: run now or not, why,
// and when to look again. Pure: the clock is an input, nothing is read or written.
//
// Rules:
// - Validity: an invalid spec.schedule or spec.timeZone blocks every run, run-now included (the spec
//   must be fixed first); `error` carries the message for the Stalled condition.
// - No overlap: while a run is in progress nothing starts; the controller is asked to look again
//   after RUN_IN_PROGRESS_RECHECK_MS (the run's completion should also trigger a reconcile).
// - run-now: a `netcheck.dev/run-now` annotation value that differs from the last handled value runs
//   the check once, even when suspended. The caller persists `runNowToken` so the same value never runs
//   twice; setting the annotation again to a new value (e.g. a timestamp) runs again.
// - Spec generations: a generation that has not run yet runs once (FirstRun / SpecChanged), with or
//   without a schedule, so status always describes the current spec soon after an edit and
//   `kubectl wait --for=condition=Ready` does not have to wait for the first fire time.
// - suspend: stops generation-triggered and scheduled runs; only run-now runs.
// - Schedule: fire times after the last one handled (status.lastScheduledTime, else the last run's
//   start, else creation) that are now due:
//     * none: wait until the next fire time (requeueAfterMs, capped at MAX_REQUEUE_MS);
//     * the latest due fire time is at most startingDeadlineSeconds old: run ONCE (Scheduled, or
//       MissedRun when older due fire times are skipped; skippedMissed counts them);
//     * otherwise: do not run (MissedRunExpired), skippedMissed counts them all.
//   Suspended time counts like downtime: on resume, a fire time within the deadline runs once.
//   A run started for another reason (run-now, new generation) also consumes due fire times.
//
// What the caller persists whenever it acts on the plan:
// - runNow: lastRun.startTime = now, lastRunGeneration = generation, plus `scheduledTime` (as
//   lastScheduledTime) and `runNowToken` (as the handled run-now value) when present;
// - no run but `scheduledTime` set (missed runs expired): lastScheduledTime = scheduledTime, so the
//   expired fire times are not reconsidered;
// - status.nextRunTime = nextRunTime (cleared when undefined); requeue after requeueAfterMs if set.

import { DEFAULT_TIME_ZONE, nextFireTime, parseCron, validateTimeZone, CronSyntaxError } from './cron.ts';
import type { CronSchedule } from './cron.ts';

export const RUN_NOW_ANNOTATION = 'netcheck.dev/run-now';
export const DEFAULT_STARTING_DEADLINE_SECONDS = 300;
export const RUN_IN_PROGRESS_RECHECK_MS = 10_000;
// Keeps timers well below Node's 2^31-1 ms setTimeout limit and lets a long wait re-check the clock.
export const MAX_REQUEUE_MS = 60 * 60 * 1000;
// Counting missed fire times stops here (e.g. an every-minute schedule after a week of downtime);
// skippedMissedTruncated tells the caller the count is a lower bound.
export const MAX_COUNTED_MISSED = 1000;
const INVALID_NOW_MESSAGE = 'planRun: `now` is an invalid Date';

export type RunReason = 'RunNowAnnotation' | 'FirstRun' | 'SpecChanged' | 'MissedRun' | 'Scheduled';
export type WaitReason =
  | 'InvalidSchedule'
  | 'RunInProgress'
  | 'Suspended'
  | 'UpToDate'
  | 'WaitingForSchedule'
  | 'MissedRunExpired';

export interface RunPlanInput {
  now: Date;
  schedule?: string;
  timeZone?: string;
  suspend?: boolean;
  /** metadata.generation */
  generation: number;
  /** The generation the latest run was started for; undefined before the first run. */
  lastRunGeneration?: number;
  /** The latest fire time that was run or deliberately skipped. */
  lastScheduledTime?: Date;
  /** status.lastRun.startTime */
  lastRunStartTime?: Date;
  runInProgress: boolean;
  /** Value of the netcheck.dev/run-now annotation, if present. */
  runNowAnnotation?: string;
  /** The run-now value handled last (persisted by the caller from runNowToken). */
  lastRunNowHandled?: string;
  startingDeadlineSeconds?: number;
  /** metadata.creationTimestamp */
  creationTime: Date;
}

export interface RunPlan {
  runNow: boolean;
  why: RunReason | WaitReason;
  /** Fire time this run stands for, or the newest fire time given up (MissedRunExpired). Persist as lastScheduledTime. */
  scheduledTime?: Date;
  /** Next fire time still ahead (or pending behind a run in progress); undefined without an active schedule. */
  nextRunTime?: Date;
  /** Reconcile again after this many ms; undefined means "only on the next watch event". */
  requeueAfterMs?: number;
  /** Fire times skipped instead of run (missed runs are never run as a burst). */
  skippedMissed?: number;
  /** True when skippedMissed stopped counting at MAX_COUNTED_MISSED. */
  skippedMissedTruncated?: boolean;
  /** The run-now annotation value this run consumes. Persist as lastRunNowHandled. */
  runNowToken?: string;
  /** Stalled-condition message when schedule or timeZone is invalid. */
  error?: string;
}

interface DueFireTimes {
  latest?: Date;
  count: number;
  truncated: boolean;
  next?: Date;
}

/** Fire times in (since, now]: how many (up to MAX_COUNTED_MISSED), the latest, and the first after now. */
function dueFireTimes(schedule: CronSchedule, timeZone: string, since: Date, now: Date): DueFireTimes {
  let count = 0;
  let latest: Date | undefined;
  let cursor = nextFireTime(schedule, since, timeZone);
  while (cursor !== undefined && cursor.getTime() <= now.getTime()) {
    count++;
    latest = cursor;
    if (count >= MAX_COUNTED_MISSED) {
      return { latest: latestFireTimeAfter(schedule, timeZone, cursor, now), count, truncated: true, next: nextFireTime(schedule, now, timeZone) };
    }
    cursor = nextFireTime(schedule, cursor, timeZone);
  }
  return { latest, count, truncated: false, next: cursor };
}

/**
 * The latest fire time in [known, now], given that `known` is one. Searches windows ending at `now`
 * that grow 4x, so a long outage costs a few searches instead of one step per missed fire time.
 */
function latestFireTimeAfter(schedule: CronSchedule, timeZone: string, known: Date, now: Date): Date {
  for (let window = 60_000; ; window *= 4) {
    const from = new Date(Math.max(known.getTime(), now.getTime() - window));
    let latest: Date | undefined;
    let cursor = nextFireTime(schedule, from, timeZone);
    while (cursor !== undefined && cursor.getTime() <= now.getTime()) {
      latest = cursor;
      cursor = nextFireTime(schedule, cursor, timeZone);
    }
    if (latest !== undefined) return latest;
    if (from.getTime() === known.getTime()) return known;
  }
}

function requeueUntil(target: Date | undefined, now: Date): number | undefined {
  if (target === undefined) return undefined;
  return Math.min(MAX_REQUEUE_MS, Math.max(1, target.getTime() - now.getTime()));
}

/** The latest valid date; an unparsable status timestamp (Invalid Date) is ignored rather than stalling the schedule. */
function latestOf(...dates: (Date | undefined)[]): Date | undefined {
  let latest: Date | undefined;
  for (const date of dates) {
    if (!date || Number.isNaN(date.getTime())) continue;
    if (!latest || date.getTime() > latest.getTime()) latest = date;
  }
  return latest;
}

/** Decides whether the check runs now. See the file header for the rules. */
export function planRun(input: RunPlanInput): RunPlan {
  const { now } = input;
  if (Number.isNaN(now.getTime())) throw new RangeError(INVALID_NOW_MESSAGE);
  const hasSchedule = input.schedule !== undefined && input.schedule.trim() !== '';
  const timeZone = input.timeZone && input.timeZone !== '' ? input.timeZone : DEFAULT_TIME_ZONE;

  let schedule: CronSchedule | undefined;
  if (hasSchedule) {
    try {
      schedule = parseCron(input.schedule as string);
    } catch (error) {
      if (error instanceof CronSyntaxError) return { runNow: false, why: 'InvalidSchedule', error: error.message };
      throw error;
    }
    const timeZoneError = validateTimeZone(timeZone);
    if (timeZoneError) return { runNow: false, why: 'InvalidSchedule', error: timeZoneError };
  }

  const runNowRequested =
    input.runNowAnnotation !== undefined && input.runNowAnnotation !== '' && input.runNowAnnotation !== input.lastRunNowHandled;
  const generationPending = input.lastRunGeneration !== input.generation;
  const suspended = input.suspend === true;

  // Scheduled fire times, computed even while a run is in progress so nextRunTime stays meaningful.
  let due: DueFireTimes | undefined;
  if (schedule && !suspended) {
    // Without any valid reference time, start counting from now: nothing is treated as missed.
    const since = latestOf(input.creationTime, input.lastScheduledTime, input.lastRunStartTime) ?? now;
    due = dueFireTimes(schedule, timeZone, since, now);
  }
  const deadlineMs = (input.startingDeadlineSeconds ?? DEFAULT_STARTING_DEADLINE_SECONDS) * 1000;
  const latestDueWithinDeadline = due?.latest !== undefined && now.getTime() - due.latest.getTime() <= deadlineMs;

  if (input.runInProgress) {
    // A due fire time stays pending (it runs when this run ends, deadline permitting).
    return {
      runNow: false,
      why: 'RunInProgress',
      nextRunTime: due ? (due.latest ?? due.next) : undefined,
      requeueAfterMs: Math.min(RUN_IN_PROGRESS_RECHECK_MS, requeueUntil(due?.next, now) ?? RUN_IN_PROGRESS_RECHECK_MS),
    };
  }

  let why: RunReason | undefined;
  if (runNowRequested) why = 'RunNowAnnotation';
  else if (generationPending && !suspended) why = input.lastRunGeneration === undefined ? 'FirstRun' : 'SpecChanged';
  else if (latestDueWithinDeadline) why = due && due.count > 1 ? 'MissedRun' : 'Scheduled';

  const nextRunTime = due?.next;
  const plan: RunPlan = { runNow: why !== undefined, why: why ?? 'UpToDate', nextRunTime, requeueAfterMs: requeueUntil(nextRunTime, now) };

  if (due?.latest !== undefined) {
    // Any run consumes the due fire times; without a run they are given up only once expired.
    if (why !== undefined) {
      plan.scheduledTime = due.latest;
      const skipped = latestDueWithinDeadline ? due.count - 1 : due.count;
      if (skipped > 0) plan.skippedMissed = skipped;
    } else {
      plan.why = 'MissedRunExpired';
      plan.scheduledTime = due.latest;
      plan.skippedMissed = due.count;
    }
    if (due.truncated) plan.skippedMissedTruncated = true;
  }
  if (why === 'RunNowAnnotation') plan.runNowToken = input.runNowAnnotation;
  if (why === undefined && plan.why === 'UpToDate') {
    if (suspended && (hasSchedule || generationPending)) plan.why = 'Suspended';
    else if (schedule) plan.why = 'WaitingForSchedule';
  }
  return plan;
}
