import { expect } from 'chai';
import {
  DEFAULT_STARTING_DEADLINE_SECONDS,
  MAX_COUNTED_MISSED,
  MAX_REQUEUE_MS,
  RUN_IN_PROGRESS_RECHECK_MS,
  planRun,
} from '../../operator/schedule/plan.ts';
import type { RunPlan, RunPlanInput } from '../../operator/schedule/plan.ts';
import { appendHistory } from '../../operator/schedule/history.ts';
import type { HistoryEntry } from '../../operator/schedule/history.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

const at = (iso: string) => new Date(iso);

function input(overrides: Partial<RunPlanInput>): RunPlanInput {
  return {
    now: at('2025-06-02T10:00:00Z'),
    generation: 1,
    runInProgress: false,
    creationTime: at('2025-06-02T09:00:00Z'),
    ...overrides,
  };
}

describe('plan: checks without a schedule', () => {
  it('runs the first generation once (FirstRun), then waits without requeueing', () => {
    const first = planRun(input({}));
    expect(first).to.include({ runNow: true, why: 'FirstRun' });
    expect(first.requeueAfterMs).to.equal(undefined);
    expect(first.nextRunTime).to.equal(undefined);

    const after = planRun(input({ lastRunGeneration: 1, lastRunStartTime: at('2025-06-02T10:00:00Z'), now: at('2025-06-02T11:00:00Z') }));
    expect(after).to.deep.equal({ runNow: false, why: 'UpToDate', nextRunTime: undefined, requeueAfterMs: undefined });
  });

  it('runs again once per new generation (SpecChanged)', () => {
    expect(planRun(input({ generation: 2, lastRunGeneration: 1 }))).to.include({ runNow: true, why: 'SpecChanged' });
    expect(planRun(input({ generation: 2, lastRunGeneration: 2 }))).to.include({ runNow: false, why: 'UpToDate' });
  });

  it('treats an empty schedule string as no schedule', () => {
    expect(planRun(input({ schedule: '  ', lastRunGeneration: 1 }))).to.include({ runNow: false, why: 'UpToDate' });
  });
});

describe('plan: scheduled checks', () => {
  const schedule = '*/5 * * * *';

  it('runs a new check immediately (FirstRun) and reports the next fire time', () => {
    const plan = planRun(input({ schedule, now: at('2025-06-02T10:00:30Z'), creationTime: at('2025-06-02T10:00:29Z') }));
    expect(plan).to.include({ runNow: true, why: 'FirstRun', requeueAfterMs: 270 * SECOND });
    expect(plan.nextRunTime?.toISOString()).to.equal('2025-06-02T10:05:00.000Z');
    expect(plan.scheduledTime).to.equal(undefined);
  });

  it('waits for the next fire time with requeueAfter computed from the injected clock', () => {
    const plan = planRun(
      input({
        schedule,
        now: at('2025-06-02T10:02:00Z'),
        creationTime: at('2025-06-02T10:00:29Z'),
        lastRunGeneration: 1,
        lastRunStartTime: at('2025-06-02T10:00:30Z'),
      }),
    );
    expect(plan).to.include({ runNow: false, why: 'WaitingForSchedule', requeueAfterMs: 3 * MINUTE });
    expect(plan.nextRunTime?.toISOString()).to.equal('2025-06-02T10:05:00.000Z');
  });

  it('runs at the fire time (Scheduled) and hands back the fire time to persist', () => {
    const plan = planRun(
      input({
        schedule,
        now: at('2025-06-02T10:05:00.250Z'),
        creationTime: at('2025-06-02T10:00:29Z'),
        lastRunGeneration: 1,
        lastRunStartTime: at('2025-06-02T10:00:30Z'),
      }),
    );
    expect(plan).to.include({ runNow: true, why: 'Scheduled' });
    expect(plan.scheduledTime?.toISOString()).to.equal('2025-06-02T10:05:00.000Z');
    expect(plan.nextRunTime?.toISOString()).to.equal('2025-06-02T10:10:00.000Z');
    expect(plan.requeueAfterMs).to.equal(5 * MINUTE - 250);
    expect(plan.skippedMissed).to.equal(undefined);
  });

  it('does not run the same fire time twice once lastScheduledTime is persisted', () => {
    const plan = planRun(
      input({
        schedule,
        now: at('2025-06-02T10:05:01Z'),
        lastRunGeneration: 1,
        lastScheduledTime: at('2025-06-02T10:05:00Z'),
        lastRunStartTime: at('2025-06-02T10:05:00Z'),
      }),
    );
    expect(plan).to.include({ runNow: false, why: 'WaitingForSchedule', requeueAfterMs: 299 * SECOND });
  });

  it('runs a scheduled check again when its spec changes (SpecChanged), consuming a due fire time', () => {
    const plan = planRun(
      input({
        schedule,
        generation: 3,
        lastRunGeneration: 2,
        now: at('2025-06-02T10:05:10Z'),
        lastScheduledTime: at('2025-06-02T10:00:00Z'),
      }),
    );
    expect(plan).to.include({ runNow: true, why: 'SpecChanged' });
    expect(plan.scheduledTime?.toISOString()).to.equal('2025-06-02T10:05:00.000Z');
  });

  it('caps requeueAfter so long waits re-check the clock (and stay below the setTimeout limit)', () => {
    const plan = planRun(input({ schedule: '0 0 1 1 *', lastRunGeneration: 1, now: at('2025-06-02T10:00:00Z') }));
    expect(plan).to.include({ runNow: false, why: 'WaitingForSchedule', requeueAfterMs: MAX_REQUEUE_MS });
    expect(plan.nextRunTime?.toISOString()).to.equal('2026-01-01T00:00:00.000Z');
  });

  it('computes fire times in spec.timeZone, with the DST rule (02:30 Berlin on spring-forward day fires at 03:00 CEST)', () => {
    const plan = planRun(
      input({
        schedule: '30 2 * * *',
        timeZone: 'Europe/Berlin',
        lastRunGeneration: 1,
        creationTime: at('2025-03-28T00:00:00Z'),
        lastScheduledTime: at('2025-03-29T01:30:00Z'),
        now: at('2025-03-30T00:59:00Z'),
      }),
    );
    expect(plan.nextRunTime?.toISOString()).to.equal('2025-03-30T01:00:00.000Z');
    expect(plan.requeueAfterMs).to.equal(MINUTE);
  });
});

describe('plan: missed runs', () => {
  const base = {
    schedule: '*/5 * * * *',
    lastRunGeneration: 1,
    lastScheduledTime: at('2025-06-02T10:05:00Z'),
    lastRunStartTime: at('2025-06-02T10:05:00Z'),
  };

  it('runs ONCE for the latest missed fire time within the deadline and counts the skipped ones', () => {
    // Down from 10:06 to 10:32: 10:10 ... 10:30 were missed (5); 10:30 is 2 minutes old.
    const plan = planRun(input({ ...base, now: at('2025-06-02T10:32:00Z') }));
    expect(plan).to.include({ runNow: true, why: 'MissedRun', skippedMissed: 4 });
    expect(plan.scheduledTime?.toISOString()).to.equal('2025-06-02T10:30:00.000Z');
    expect(plan.nextRunTime?.toISOString()).to.equal('2025-06-02T10:35:00.000Z');

    // After the caller persisted the run, the next reconcile does not run again: no burst.
    const next = planRun(
      input({ ...base, now: at('2025-06-02T10:32:01Z'), lastScheduledTime: plan.scheduledTime, lastRunStartTime: at('2025-06-02T10:32:00Z') }),
    );
    expect(next).to.include({ runNow: false, why: 'WaitingForSchedule' });
  });

  it('skips missed runs whose latest fire time is older than the starting deadline (default 300 s)', () => {
    expect(DEFAULT_STARTING_DEADLINE_SECONDS).to.equal(300);
    const hourly = { ...base, schedule: '0 * * * *', lastScheduledTime: at('2025-06-02T09:00:00Z'), lastRunStartTime: at('2025-06-02T09:00:00Z') };
    const plan = planRun(input({ ...hourly, now: at('2025-06-02T10:05:01Z') }));
    expect(plan).to.include({ runNow: false, why: 'MissedRunExpired', skippedMissed: 1 });
    // Handed back so the caller persists it and the expired fire time is not reconsidered.
    expect(plan.scheduledTime?.toISOString()).to.equal('2025-06-02T10:00:00.000Z');
    expect(plan.nextRunTime?.toISOString()).to.equal('2025-06-02T11:00:00.000Z');
    expect(plan.requeueAfterMs).to.equal(55 * MINUTE - SECOND);

    // Exactly at the deadline it still runs.
    expect(planRun(input({ ...hourly, now: at('2025-06-02T10:05:00Z') }))).to.include({ runNow: true, why: 'Scheduled' });
    // A longer deadline lets it run.
    expect(planRun(input({ ...hourly, now: at('2025-06-02T10:05:01Z'), startingDeadlineSeconds: 600 }))).to.include({
      runNow: true,
      why: 'Scheduled',
    });
  });

  it('counts a very long outage without stepping through every fire time, and still runs once', () => {
    const started = performance.now();
    const plan = planRun(input({ ...base, schedule: '* * * * *', now: at('2025-07-02T10:00:30Z') }));
    const elapsedMs = performance.now() - started;
    expect(plan).to.include({ runNow: true, why: 'MissedRun', skippedMissedTruncated: true });
    expect(plan.skippedMissed).to.be.at.least(MAX_COUNTED_MISSED - 1);
    expect(plan.scheduledTime?.toISOString()).to.equal('2025-07-02T10:00:00.000Z');
    expect(elapsedMs).to.be.below(1000);
  });

  it('finds the latest fire time after a long outage for a sparse schedule too', () => {
    // Every minute of 03:00-03:59 only: 30 days of outage = 1,800 fire times, the latest 6 h 30 min ago.
    const plan = planRun(
      input({
        ...base,
        schedule: '* 3 * * *',
        lastScheduledTime: at('2025-06-01T03:59:00Z'),
        now: at('2025-07-01T10:29:00Z'),
      }),
    );
    expect(plan).to.include({ runNow: false, why: 'MissedRunExpired', skippedMissedTruncated: true });
    expect(plan.scheduledTime?.toISOString()).to.equal('2025-07-01T03:59:00.000Z');
  });
});

describe('plan: suspend', () => {
  const scheduled = { schedule: '*/5 * * * *', lastRunGeneration: 1, lastScheduledTime: at('2025-06-02T09:55:00Z') };

  it('stops scheduled runs: no run, no nextRunTime, no requeue', () => {
    const plan = planRun(input({ ...scheduled, suspend: true, now: at('2025-06-02T10:00:00Z') }));
    expect(plan).to.deep.equal({ runNow: false, why: 'Suspended', nextRunTime: undefined, requeueAfterMs: undefined });
  });

  it('also holds back the run for a new generation', () => {
    expect(planRun(input({ suspend: true, generation: 2, lastRunGeneration: 1 }))).to.include({ runNow: false, why: 'Suspended' });
    expect(planRun(input({ suspend: true }))).to.include({ runNow: false, why: 'Suspended' });
  });

  it('still runs an explicit run-now', () => {
    const plan = planRun(input({ ...scheduled, suspend: true, runNowAnnotation: '2025-06-02T10:00:00Z' }));
    expect(plan).to.include({ runNow: true, why: 'RunNowAnnotation', runNowToken: '2025-06-02T10:00:00Z' });
    expect(plan.scheduledTime).to.equal(undefined);
  });

  it('on resume runs once if the latest fire time is within the deadline, else skips', () => {
    const resumedSoon = planRun(input({ ...scheduled, now: at('2025-06-02T11:02:00Z') }));
    expect(resumedSoon).to.include({ runNow: true, why: 'MissedRun', skippedMissed: 12 });
    expect(resumedSoon.scheduledTime?.toISOString()).to.equal('2025-06-02T11:00:00.000Z');

    const hourly = planRun(input({ ...scheduled, schedule: '0 * * * *', now: at('2025-06-02T11:10:00Z') }));
    expect(hourly).to.include({ runNow: false, why: 'MissedRunExpired', skippedMissed: 2 });
  });
});

describe('plan: run-now annotation', () => {
  const upToDate = { lastRunGeneration: 1, lastRunStartTime: at('2025-06-02T09:30:00Z') };

  it('runs once per annotation value', () => {
    const first = planRun(input({ ...upToDate, runNowAnnotation: 'a' }));
    expect(first).to.include({ runNow: true, why: 'RunNowAnnotation', runNowToken: 'a' });
    expect(planRun(input({ ...upToDate, runNowAnnotation: 'a', lastRunNowHandled: 'a' }))).to.include({ runNow: false, why: 'UpToDate' });
    expect(planRun(input({ ...upToDate, runNowAnnotation: 'b', lastRunNowHandled: 'a' }))).to.include({
      runNow: true,
      why: 'RunNowAnnotation',
      runNowToken: 'b',
    });
  });

  it('ignores an empty annotation value', () => {
    expect(planRun(input({ ...upToDate, runNowAnnotation: '' }))).to.include({ runNow: false });
  });

  it('takes precedence in `why` when it coincides with a new generation, and one run covers both', () => {
    const plan = planRun(input({ generation: 2, lastRunGeneration: 1, runNowAnnotation: 'x' }));
    expect(plan).to.include({ runNow: true, why: 'RunNowAnnotation', runNowToken: 'x' });
  });

  it('consumes a due fire time so the schedule does not run right after', () => {
    const plan = planRun(
      input({ ...upToDate, schedule: '0 * * * *', lastScheduledTime: at('2025-06-02T09:00:00Z'), runNowAnnotation: 'x', now: at('2025-06-02T10:00:10Z') }),
    );
    expect(plan).to.include({ runNow: true, why: 'RunNowAnnotation' });
    expect(plan.scheduledTime?.toISOString()).to.equal('2025-06-02T10:00:00.000Z');
  });
});

describe('plan: no overlap', () => {
  it('never starts a run while one is in progress, whatever is pending, and re-checks soon', () => {
    const plan = planRun(
      input({
        schedule: '* * * * *',
        generation: 2,
        lastRunGeneration: 1,
        lastScheduledTime: at('2025-06-02T09:58:00Z'),
        runNowAnnotation: 'x',
        runInProgress: true,
        now: at('2025-06-02T10:00:05Z'),
      }),
    );
    expect(plan.runNow).to.equal(false);
    expect(plan.why).to.equal('RunInProgress');
    expect(plan.requeueAfterMs).to.equal(RUN_IN_PROGRESS_RECHECK_MS);
    expect(plan.runNowToken).to.equal(undefined);
    expect(plan.scheduledTime).to.equal(undefined);
    // The due fire time stays pending and is shown as the next run.
    expect(plan.nextRunTime?.toISOString()).to.equal('2025-06-02T10:00:00.000Z');
  });

  it('requeues no later than the next fire time while a run is in progress', () => {
    const plan = planRun(
      input({ schedule: '* * * * *', lastRunGeneration: 1, lastRunStartTime: at('2025-06-02T10:00:00Z'), runInProgress: true, now: at('2025-06-02T10:00:57Z') }),
    );
    expect(plan.requeueAfterMs).to.equal(3 * SECOND);
  });
});

describe('plan: unparsable timestamps', () => {
  it('ignores an Invalid Date in status instead of stalling the schedule', () => {
    const plan = planRun(
      input({
        schedule: '*/5 * * * *',
        lastRunGeneration: 1,
        lastScheduledTime: new Date('not a time'),
        lastRunStartTime: new Date('2025-06-02T09:50:00Z'),
        now: at('2025-06-02T09:55:30Z'),
      }),
    );
    expect(plan).to.include({ runNow: true, why: 'Scheduled' });
    expect(plan.scheduledTime?.toISOString()).to.equal('2025-06-02T09:55:00.000Z');
  });

  it('rejects an invalid `now` loudly', () => {
    expect(() => planRun(input({ now: new Date(Number.NaN) }))).to.throw(RangeError, 'invalid Date');
  });
});

describe('plan: invalid spec', () => {
  it('reports an invalid schedule for the Stalled condition and runs nothing, not even run-now', () => {
    const plan = planRun(input({ schedule: '0 25 * * *', runNowAnnotation: 'x' }));
    expect(plan).to.deep.equal({ runNow: false, why: 'InvalidSchedule', error: "spec.schedule: field 'hour' value '25' is out of range 0-23" });
  });

  it('reports an unknown time zone', () => {
    const plan = planRun(input({ schedule: '0 1 * * *', timeZone: 'Mars/Base' }));
    expect(plan).to.deep.equal({ runNow: false, why: 'InvalidSchedule', error: "spec.timeZone: unknown time zone 'Mars/Base'" });
  });
});

// ----------------------------------------------------------------------------------------------------
// A fake-clock controller loop: reconcile at requeue times, start runs the plan asks for, finish them
// after `runDurationMs` (completion triggers a reconcile, as a watch event would), persist what the
// plan says to persist, and record every run.

interface SimulatedState {
  generation: number;
  lastRunGeneration?: number;
  lastScheduledTime?: Date;
  lastRunStartTime?: Date;
  lastRunNowHandled?: string;
  runNowAnnotation?: string;
  suspend?: boolean;
  runEndsAt?: number;
  history: HistoryEntry[];
}

interface SimulatedRun {
  start: string;
  why: string;
  skippedMissed?: number;
}

function simulate(options: {
  schedule?: string;
  timeZone?: string;
  start: string;
  until: string;
  runDurationMs: number;
  historyLimit?: number;
  edits?: Array<{ at: string; apply: (state: SimulatedState) => void }>;
}): { runs: SimulatedRun[]; state: SimulatedState; reconciles: number; maxConcurrent: number } {
  const creationTime = new Date(options.start);
  const until = new Date(options.until).getTime();
  const state: SimulatedState = { generation: 1, history: [] };
  const runs: SimulatedRun[] = [];
  const edits = [...(options.edits ?? [])].sort((a, b) => a.at.localeCompare(b.at));
  let now = creationTime.getTime();
  let requeueAt: number | undefined = now;
  let reconciles = 0;
  let running = 0;
  let maxConcurrent = 0;
  while (true) {
    // The next event: a requeue, a run completing, or a user edit (each also triggers a reconcile).
    const candidates = [requeueAt, state.runEndsAt, edits.length > 0 ? new Date(edits[0].at).getTime() : undefined].filter(
      (time): time is number => time !== undefined,
    );
    if (candidates.length === 0) break;
    now = Math.min(...candidates);
    if (now > until) break;
    if (state.runEndsAt !== undefined && state.runEndsAt <= now) {
      state.history = appendHistory(
        state.history,
        { time: (state.lastRunStartTime as Date).toISOString(), result: 'Healthy', durationMs: options.runDurationMs },
        options.historyLimit,
      );
      state.runEndsAt = undefined;
      running--;
    }
    while (edits.length > 0 && new Date(edits[0].at).getTime() <= now) (edits.shift() as { apply: (s: SimulatedState) => void }).apply(state);

    reconciles++;
    const plan: RunPlan = planRun({
      now: new Date(now),
      schedule: options.schedule,
      timeZone: options.timeZone,
      suspend: state.suspend,
      generation: state.generation,
      lastRunGeneration: state.lastRunGeneration,
      lastScheduledTime: state.lastScheduledTime,
      lastRunStartTime: state.lastRunStartTime,
      runInProgress: state.runEndsAt !== undefined,
      runNowAnnotation: state.runNowAnnotation,
      lastRunNowHandled: state.lastRunNowHandled,
      creationTime,
    });
    if (plan.scheduledTime) state.lastScheduledTime = plan.scheduledTime;
    if (plan.runNow) {
      runs.push({ start: new Date(now).toISOString(), why: plan.why, skippedMissed: plan.skippedMissed });
      state.lastRunGeneration = state.generation;
      state.lastRunStartTime = new Date(now);
      if (plan.runNowToken !== undefined) state.lastRunNowHandled = plan.runNowToken;
      state.runEndsAt = now + options.runDurationMs;
      running++;
      maxConcurrent = Math.max(maxConcurrent, running);
    }
    requeueAt = plan.requeueAfterMs !== undefined ? now + plan.requeueAfterMs : undefined;
  }
  return { runs, state, reconciles, maxConcurrent };
}

describe('plan: fake-clock controller loop', () => {
  it('an every-minute check runs on time, once per minute, with history capped', () => {
    const { runs, state, maxConcurrent } = simulate({
      schedule: '* * * * *',
      start: '2025-06-02T10:00:30Z',
      until: '2025-06-02T10:05:30Z',
      runDurationMs: 20 * SECOND,
      historyLimit: 3,
    });
    expect(runs.map((run) => `${run.start} ${run.why}`)).to.deep.equal([
      '2025-06-02T10:00:30.000Z FirstRun',
      '2025-06-02T10:01:00.000Z Scheduled',
      '2025-06-02T10:02:00.000Z Scheduled',
      '2025-06-02T10:03:00.000Z Scheduled',
      '2025-06-02T10:04:00.000Z Scheduled',
      '2025-06-02T10:05:00.000Z Scheduled',
    ]);
    expect(maxConcurrent).to.equal(1);
    expect(state.history.map((entry) => entry.time)).to.deep.equal([
      '2025-06-02T10:05:00.000Z',
      '2025-06-02T10:04:00.000Z',
      '2025-06-02T10:03:00.000Z',
    ]);
  });

  it('runs longer than the period never overlap and never burst: one run after each finishes', () => {
    const { runs, maxConcurrent } = simulate({
      schedule: '* * * * *',
      start: '2025-06-02T10:00:00Z',
      until: '2025-06-02T10:10:00Z',
      runDurationMs: 150 * SECOND,
    });
    expect(maxConcurrent).to.equal(1);
    expect(runs.map((run) => `${run.start} ${run.why} ${run.skippedMissed ?? 0}`)).to.deep.equal([
      '2025-06-02T10:00:00.000Z FirstRun 0',
      '2025-06-02T10:02:30.000Z MissedRun 1', // 10:01 and 10:02 were due: run once for 10:02
      '2025-06-02T10:05:00.000Z MissedRun 2', // 10:03, 10:04, 10:05 due: run once for 10:05
      '2025-06-02T10:07:30.000Z MissedRun 1',
      '2025-06-02T10:10:00.000Z MissedRun 2',
    ]);
  });

  it('suspend stops the schedule, run-now still runs once, resume picks the schedule up again', () => {
    const { runs } = simulate({
      schedule: '*/10 * * * *',
      start: '2025-06-02T10:00:00Z',
      until: '2025-06-02T11:05:00Z',
      runDurationMs: 5 * SECOND,
      edits: [
        { at: '2025-06-02T10:15:00Z', apply: (s) => (s.suspend = true) },
        { at: '2025-06-02T10:33:00Z', apply: (s) => (s.runNowAnnotation = 'first') },
        { at: '2025-06-02T10:41:00Z', apply: (s) => (s.runNowAnnotation = 'first') }, // same value: no run
        { at: '2025-06-02T10:52:00Z', apply: (s) => (s.suspend = false) }, // 10:50 is 2 min old: runs once
      ],
    });
    expect(runs.map((run) => `${run.start} ${run.why}`)).to.deep.equal([
      '2025-06-02T10:00:00.000Z FirstRun',
      '2025-06-02T10:10:00.000Z Scheduled',
      '2025-06-02T10:33:00.000Z RunNowAnnotation',
      '2025-06-02T10:52:00.000Z MissedRun',
      '2025-06-02T11:00:00.000Z Scheduled',
    ]);
  });

  it('a check without a schedule runs once per generation and then stays idle', () => {
    const { runs, reconciles } = simulate({
      start: '2025-06-02T10:00:00Z',
      until: '2025-06-03T10:00:00Z',
      runDurationMs: 5 * SECOND,
      edits: [{ at: '2025-06-02T12:00:00Z', apply: (s) => (s.generation = 2) }],
    });
    expect(runs.map((run) => `${run.start} ${run.why}`)).to.deep.equal([
      '2025-06-02T10:00:00.000Z FirstRun',
      '2025-06-02T12:00:00.000Z SpecChanged',
    ]);
    // Creation, 2 completions, 1 edit; no polling while idle.
    expect(reconciles).to.equal(4);
  });

  it('an every-minute check in Europe/Berlin runs exactly once per real minute across the fall-back change', () => {
    const { runs, maxConcurrent } = simulate({
      schedule: '* * * * *',
      timeZone: 'Europe/Berlin',
      start: '2025-10-26T00:00:00Z',
      until: '2025-10-26T02:00:00Z',
      runDurationMs: 10 * SECOND,
    });
    expect(runs).to.have.length(121);
    expect(runs.slice(1).every((run) => run.why === 'Scheduled')).to.equal(true);
    expect(maxConcurrent).to.equal(1);
  });
});
