// The schedule as the controller applies it, on a fake clock: the real NetworkCheckReconciler,
// WorkQueue and status writer, with the API replaced by an in-memory store (status merge patches
// applied as the API server applies them, guarded by resourceVersion, each write re-queuing the check
// as its watch event would) and a probe stage whose runs take a set time and end with a pod event.
// schedule-plan.test.ts covers the pure planner; this file covers what the controller persists
// between reconciles (lastRun, lastScheduledTime, runNowHandled, history, nextRunTime) and that
// requeues, completions, restarts and edits drive it correctly.
import { expect } from 'chai';
import { condition } from '../../operator/api/conditions.ts';
import type { NetworkCheck, NetworkCheckSpec, NetworkCheckStatus } from '../../operator/api/types.generated.ts';
import type { CustomObjectsApi } from '@kubernetes/client-node';
import { FakeClock } from '../../operator/controller/clock.ts';
import { StatusPatcher } from '../../operator/controller/kube.ts';
import { NetworkCheckReconciler, type Caches } from '../../operator/controller/networkcheck.ts';
import { WorkQueue } from '../../operator/controller/queue.ts';
import type { Verdict } from '../../operator/diagnosis/verdict.ts';
import { silentLogger } from '../../operator/log.ts';
import type { ProbeStage } from '../../operator/probe/stage.ts';
import { buildPod, buildService, servicePort } from '../support/builders.ts';
import { applyMergePatch } from '../support/merge-patch.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const NS = 'shop';
// Second precision, as status times are: a run started 1 ms after a completion reads as that second.
const iso = (ms: number) => new Date(Math.floor(ms / SECOND) * SECOND).toISOString().replace('.000Z', 'Z');
const at = (text: string) => Date.parse(text);

interface Run { key: string; runId: string; start: number; end: number; trigger?: string; scheduledTime?: string }

/** One operator process (reconciler + queue) over a store that outlives it. */
class Harness {
  readonly clock: FakeClock;
  readonly store = new Map<string, NetworkCheck>();
  readonly runs: Run[] = [];
  readonly events: string[] = [];
  /** Every status version written, per check. */
  readonly written = new Map<string, NetworkCheckStatus[]>();
  runMs: number;
  queue: WorkQueue;
  private reconciler: NetworkCheckReconciler;
  private resourceVersion = 1;
  private readonly active = new Map<string, Run>();
  /** Runs whose pods were removed: the controller saw them finish and recorded their verdict. */
  private readonly cleaned = new Set<string>();

  constructor(start: string, runMs: number) {
    this.clock = new FakeClock(at(start));
    this.runMs = runMs;
    this.queue = new WorkQueue(this.clock);
    this.reconciler = this.newReconciler();
  }

  private newReconciler(): NetworkCheckReconciler {
    const web = buildPod('web', { namespace: NS, labels: { app: 'web' }, ip: '10.244.1.10', nodeName: 'node-1' });
    const backend = buildService('backend', NS, { selector: { app: 'backend' }, clusterIP: '10.96.12.7', ports: [servicePort(8080)] });
    const caches: Caches = {
      check: (key) => this.store.get(key),
      pod: (namespace, name) => (namespace === NS && name === 'web' ? web : undefined),
      pods: (namespace) => (namespace === NS ? [web] : []),
      service: (namespace, name) => (namespace === NS && name === 'backend' ? backend : undefined),
    };
    const stage: ProbeStage = {
      start: async (request) => {
        const key = `${NS}/${request.check.metadata?.name}`;
        const id = `${key}/${request.runId}`;
        if (!this.active.has(id)) {
          // The run is recorded in status before its pods are created: read what was recorded.
          const lastRun = this.store.get(key)?.status?.lastRun;
          const run: Run = { key, runId: request.runId, start: this.clock.now(), end: this.clock.now() + this.runMs, trigger: lastRun?.trigger, scheduledTime: lastRun?.scheduledTime };
          this.runs.push(run);
          this.active.set(id, run);
          // The probe pod finishing is a pod event: it re-queues the check.
          this.clock.after(this.runMs, () => this.queue.add(key));
        }
        return [`${request.check.metadata?.name}-${request.runId}-0`];
      },
      observe: async (check, runId) => {
        const run = this.active.get(`${NS}/${check.metadata?.name}/${runId}`);
        if (!run) return { state: 'NotFound' };
        if (this.clock.now() < run.end) return { state: 'Running', pods: ['p'], detail: 'probe pod Running' };
        return { state: 'Completed', pods: ['p'], outputs: [] };
      },
      cleanup: async (check, runId) => { this.cleaned.add(`${NS}/${check.metadata?.name}/${runId}`); },
    };
    const diagnose = (): Verdict => ({ result: 'Healthy', reason: 'Reachable', summary: 'Connected.', layers: [condition('DNSResolved', 'True', 'NameResolved', 'Resolved.', 1)], reproduce: [] });
    return new NetworkCheckReconciler({
      caches, stage, diagnose, clock: this.clock, log: silentLogger(), nodeSourceNamespaces: new Set(),
      // The real status writer, against an API that applies its merge patch as the API server does.
      writer: new StatusPatcher(this.api()),
      events: { event: (_check, type, reason) => this.events.push(`${iso(this.clock.now())} ${type}/${reason}`) },
    });
  }

  /** patchNamespacedCustomObjectStatus of an in-memory API server: resourceVersion-guarded JSON merge patch. */
  private api(): CustomObjectsApi {
    const patchStatus = async (request: { namespace: string; name: string; body: { metadata?: { resourceVersion?: string }; status?: unknown } }) => {
      const key = `${request.namespace}/${request.name}`;
      const stored = this.store.get(key)!;
      if (request.body.metadata?.resourceVersion !== stored.metadata?.resourceVersion) throw Object.assign(new Error('Conflict'), { code: 409 });
      const status = applyMergePatch(stored.status ?? {}, request.body.status) as NetworkCheckStatus;
      const updated: NetworkCheck = structuredClone({ ...stored, metadata: { ...stored.metadata, resourceVersion: String(++this.resourceVersion) }, status });
      this.store.set(key, updated);
      this.written.set(key, [...(this.written.get(key) ?? []), structuredClone(status)]);
      // The watch event of the write.
      this.queue.add(key);
      return structuredClone(updated);
    };
    return { patchNamespacedCustomObjectStatus: patchStatus } as unknown as CustomObjectsApi;
  }

  create(name: string, spec: Partial<NetworkCheckSpec>): string {
    const key = `${NS}/${name}`;
    this.store.set(key, {
      apiVersion: 'netcheck.dev/v1alpha1', kind: 'NetworkCheck',
      metadata: { name, namespace: NS, generation: 1, uid: `uid-${name}`, resourceVersion: String(++this.resourceVersion), creationTimestamp: iso(this.clock.now()) as unknown as Date },
      spec: { source: { pod: 'web' }, destination: { service: 'backend', port: 8080 }, ...spec },
    });
    this.queue.add(key);
    return key;
  }

  /** A user edit: spec changes bump the generation, metadata changes do not. */
  edit(key: string, change: (check: NetworkCheck) => void, specChange: boolean): void {
    const check = structuredClone(this.store.get(key)!);
    change(check);
    check.metadata!.resourceVersion = String(++this.resourceVersion);
    if (specChange) check.metadata!.generation = (check.metadata!.generation ?? 0) + 1;
    this.store.set(key, check);
    this.queue.add(key);
  }

  status(key: string): NetworkCheckStatus { return this.store.get(key)?.status ?? {}; }

  /** Every run of the check whose probe ended before now was followed to its verdict and cleaned up. */
  expectRunsCompleted(key: string): void {
    const ended = this.runsOf(key).filter((run) => run.end < this.clock.now());
    expect(ended.filter((run) => !this.cleaned.has(`${key}/${run.runId}`)).map((run) => run.runId), 'runs never completed').to.deep.equal([]);
  }
  runsOf(key: string): Run[] { return this.runs.filter((run) => run.key === key); }

  /** Processes every queued key (one worker), honouring requeueAfter as the manager does. */
  private async drain(): Promise<void> {
    while (this.queue.length() > 0) {
      const key = (await this.queue.get())!;
      try {
        const result = await this.reconciler.reconcile(key);
        this.queue.forget(key);
        if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        if ((err as { code?: number }).code !== 409) throw err;
        this.queue.addAfter(key, 200);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** Runs the operator until `until`, stepping the clock from one timer to the next. */
  async runUntil(until: string): Promise<void> {
    const end = at(until);
    await this.drain();
    for (;;) {
      const next = this.clock.nextTimerAt();
      if (next === undefined || next > end) break;
      this.clock.advance(next - this.clock.now());
      await this.drain();
    }
    this.clock.advance(end - this.clock.now());
    await this.drain();
  }

  /** The operator is down until `until` (nothing is reconciled), then starts afresh and lists every check. */
  async downUntil(until: string): Promise<void> {
    this.queue.shutDown();
    this.clock.advance(at(until) - this.clock.now());
    this.queue = new WorkQueue(this.clock);
    this.reconciler = this.newReconciler();
    for (const key of this.store.keys()) this.queue.add(key);
    await this.drain();
  }
}

const startsOf = (runs: Run[]) => runs.map((run) => `${iso(run.start)} ${run.trigger}`);

describe('schedule on the controller (fake clock)', () => {
  it('runs an every-minute check at each minute, caps history, and records scheduledTime and nextRunTime', async () => {
    const h = new Harness('2025-06-02T10:00:30Z', 5 * SECOND);
    const key = h.create('every-minute', { schedule: '* * * * *', historyLimit: 3 });
    await h.runUntil('2025-06-02T10:05:30Z');
    expect(startsOf(h.runsOf(key))).to.deep.equal([
      '2025-06-02T10:00:30Z FirstRun',
      '2025-06-02T10:01:00Z Scheduled',
      '2025-06-02T10:02:00Z Scheduled',
      '2025-06-02T10:03:00Z Scheduled',
      '2025-06-02T10:04:00Z Scheduled',
      '2025-06-02T10:05:00Z Scheduled',
    ]);
    expect(h.runsOf(key).slice(1).map((run) => run.scheduledTime)).to.deep.equal(['10:01', '10:02', '10:03', '10:04', '10:05'].map((t) => `2025-06-02T${t}:00Z`));
    const status = h.status(key);
    expect(status.history?.map((entry) => entry.time)).to.deep.equal(['2025-06-02T10:05:00Z', '2025-06-02T10:04:00Z', '2025-06-02T10:03:00Z']);
    expect(status.nextRunTime).to.equal('2025-06-02T10:06:00Z');
    expect(status.lastScheduledTime).to.equal('2025-06-02T10:05:00Z');
    expect(Math.max(...h.written.get(key)!.map((s) => s.history?.length ?? 0)), 'history length in any written status').to.equal(3);
    // Only the first result is a transition.
    expect(h.events).to.deep.equal(['2025-06-02T10:00:35Z Normal/CheckHealthy']);
    h.expectRunsCompleted(key);
  });

  it('never overlaps runs longer than the period and never bursts: one run for the latest missed minute after each', async () => {
    const h = new Harness('2025-06-02T10:00:00Z', 90 * SECOND);
    const key = h.create('slow', { schedule: '* * * * *', timeoutSeconds: 20 });
    await h.runUntil('2025-06-02T10:08:00Z');
    const runs = h.runsOf(key);
    // Each run starts when the previous one is seen to end (the pod event), for the latest due minute.
    expect(startsOf(runs)).to.deep.equal([
      '2025-06-02T10:00:00Z FirstRun',
      '2025-06-02T10:01:30Z Scheduled',
      '2025-06-02T10:03:00Z MissedRun',
      '2025-06-02T10:04:30Z Scheduled',
      '2025-06-02T10:06:00Z MissedRun',
      '2025-06-02T10:07:30Z Scheduled',
    ]);
    expect(runs.map((run) => run.scheduledTime)).to.deep.equal([undefined, '2025-06-02T10:01:00Z', '2025-06-02T10:03:00Z', '2025-06-02T10:04:00Z', '2025-06-02T10:06:00Z', '2025-06-02T10:07:00Z']);
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.start, `run ${i} starts after run ${i - 1} ended`).to.be.at.least(runs[i - 1]!.end);
    h.expectRunsCompleted(key);
  });

  it('after operator downtime runs once for the latest missed fire time within the deadline, and skips expired ones', async () => {
    const h = new Harness('2025-06-02T10:00:10Z', 5 * SECOND);
    const minutely = h.create('minutely', { schedule: '* * * * *' });
    const hourly = h.create('hourly', { schedule: '0 * * * *' });
    await h.runUntil('2025-06-02T10:02:30Z');
    await h.downUntil('2025-06-02T12:03:20Z');
    await h.runUntil('2025-06-02T12:03:50Z');
    // Minutely: 121 fire times were missed; the latest (12:03) is 20 s old, so it runs once, now.
    expect(startsOf(h.runsOf(minutely)).slice(-2)).to.deep.equal(['2025-06-02T10:02:00Z Scheduled', '2025-06-02T12:03:20Z MissedRun']);
    expect(h.runsOf(minutely).at(-1)!.scheduledTime).to.equal('2025-06-02T12:03:00Z');
    // Hourly: 11:00 and 12:00 were missed and 12:00 is 200 s old, within the 300 s deadline: one run.
    expect(startsOf(h.runsOf(hourly))).to.deep.equal(['2025-06-02T10:00:10Z FirstRun', '2025-06-02T12:03:20Z MissedRun']);

    // Down again past the deadline of 13:00: it is recorded as handled, not run, and 14:00 runs normally.
    await h.downUntil('2025-06-02T13:10:00Z');
    expect(h.runsOf(hourly)).to.have.length(2);
    expect(h.status(hourly)).to.include({ lastScheduledTime: '2025-06-02T13:00:00Z', nextRunTime: '2025-06-02T14:00:00Z' });
    await h.runUntil('2025-06-02T14:00:30Z');
    expect(startsOf(h.runsOf(hourly)).at(-1)).to.equal('2025-06-02T14:00:00Z Scheduled');
    h.expectRunsCompleted(minutely);
    h.expectRunsCompleted(hourly);
  });

  it('computes fire times in spec.timeZone across both DST changes (Europe/Berlin)', async () => {
    const h = new Harness('2025-03-29T00:00:00Z', 5 * SECOND);
    const key = h.create('night', { schedule: '30 2 * * *', timeZone: 'Europe/Berlin' });
    await h.runUntil('2025-04-01T00:00:00Z');
    // 02:30 CET = 01:30Z; on 2025-03-30 02:30 does not exist and the run is at 03:00 CEST = 01:00Z.
    expect(startsOf(h.runsOf(key))).to.deep.equal([
      '2025-03-29T00:00:00Z FirstRun',
      '2025-03-29T01:30:00Z Scheduled',
      '2025-03-30T01:00:00Z Scheduled',
      '2025-03-31T00:30:00Z Scheduled',
    ]);
    h.expectRunsCompleted(key);

    const fall = new Harness('2025-10-25T12:00:00Z', 5 * SECOND);
    const autumn = fall.create('night', { schedule: '30 2 * * *', timeZone: 'Europe/Berlin' });
    await fall.runUntil('2025-10-27T12:00:00Z');
    // 02:30 happens twice on 2025-10-26 (CEST 00:30Z, then CET 01:30Z): one run, at the first.
    expect(startsOf(fall.runsOf(autumn))).to.deep.equal([
      '2025-10-25T12:00:00Z FirstRun',
      '2025-10-26T00:30:00Z Scheduled',
      '2025-10-27T01:30:00Z Scheduled',
    ]);
    fall.expectRunsCompleted(autumn);
  });

  it('suspend stops the schedule (and clears nextRunTime); run-now runs once even while suspended; resume picks up', async () => {
    const h = new Harness('2025-06-02T10:00:00Z', 5 * SECOND);
    const key = h.create('suspendable', { schedule: '*/10 * * * *' });
    await h.runUntil('2025-06-02T10:15:00Z');
    h.edit(key, (c) => { c.spec.suspend = true; }, true);
    await h.runUntil('2025-06-02T10:33:00Z');
    expect(h.status(key).nextRunTime).to.equal(undefined);
    expect(h.status(key).observedGeneration).to.equal(2);
    h.edit(key, (c) => { c.metadata!.annotations = { 'netcheck.dev/run-now': 'first' }; }, false);
    await h.runUntil('2025-06-02T10:41:00Z');
    expect(h.status(key).runNowHandled).to.equal('first');
    // The same value again (another metadata change) is not a new request.
    h.edit(key, (c) => { c.metadata!.labels = { touched: 'yes' }; }, false);
    await h.runUntil('2025-06-02T10:52:00Z');
    h.edit(key, (c) => { c.spec.suspend = false; }, true);
    await h.runUntil('2025-06-02T11:05:00Z');
    expect(startsOf(h.runsOf(key))).to.deep.equal([
      '2025-06-02T10:00:00Z FirstRun',
      '2025-06-02T10:10:00Z Scheduled',
      '2025-06-02T10:33:00Z RunNowAnnotation',
      // Resuming is a new generation, which runs at once (and consumes the due 10:50).
      '2025-06-02T10:52:00Z SpecChanged',
      '2025-06-02T11:00:00Z Scheduled',
    ]);
    expect(h.status(key).nextRunTime).to.equal('2025-06-02T11:10:00Z');
    h.expectRunsCompleted(key);
  });

  it('a run-now that arrives during a run waits for it, then runs exactly once', async () => {
    const h = new Harness('2025-06-02T10:00:00Z', 30 * SECOND);
    const key = h.create('busy', {});
    await h.runUntil('2025-06-02T10:00:10Z');
    h.edit(key, (c) => { c.metadata!.annotations = { 'netcheck.dev/run-now': 'a' }; }, false);
    await h.runUntil('2025-06-02T10:05:00Z');
    const runs = h.runsOf(key);
    expect(startsOf(runs)).to.deep.equal(['2025-06-02T10:00:00Z FirstRun', '2025-06-02T10:00:30Z RunNowAnnotation']);
    expect(runs[1]!.start).to.be.at.least(runs[0]!.end);
    expect(h.status(key)).to.include({ runNowHandled: 'a' });
    // Without a schedule, the idle check has no timer left: nothing would wake it but an event.
    expect(h.status(key).nextRunTime).to.equal(undefined);
    h.expectRunsCompleted(key);
  });
});
