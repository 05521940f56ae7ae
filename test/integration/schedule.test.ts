// Scheduled checks on a real API server and the real clock: an every-minute check runs on time with
// its history capped, suspend stops it and run-now runs it, /metrics carries the per-check series,
// and `kubectl wait --for=condition=Ready` works. The probe stage is stubbed at its interface (no
// kubelet in this tier, so no probe pod can run); the controller, its status writes and the diagnosis
// of the probe documents against the API evidence are the real ones. The fake-clock paths (DST,
// time zones, missed runs) are covered by test/unit/schedule-*.test.ts.
//
// The every-minute check needs five minutes of real time. It is created in `before` and runs in the
// background while the other tests run on checks of their own; the last test asserts its runs.
import type { Server } from 'node:http';
import type { CoreV1Api, CoreV1Event, CustomObjectsApi, V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { ANNOTATION_RUN_NOW } from '../../operator/api/defaults.ts';
import type { NetworkCheck, NetworkCheckSpec, RunRecord } from '../../operator/api/types.generated.ts';
import { serveHealthAndMetrics, type Manager } from '../../operator/controller/manager.ts';
import { freePort } from '../support/apiserver.ts';
import { buildPod } from '../support/builders.ts';
import { waitFor } from '../support/cluster.ts';
import { StubProbeStage, serviceProbe } from '../support/stub-stage.ts';
import { StubWorld } from '../support/stub-world.ts';
import { VersionRecorder } from '../support/version-recorder.ts';
import { controlPlane } from './hooks.ts';

const GROUP = 'netcheck.dev';
const VERSION = 'v1alpha1';
const PLURAL = 'networkchecks';
const MINUTE = 60_000;
const NODE = 'sched-node-a';
// How long the stub's probe "runs"; the controller notices the end at its next 2 s poll.
const PROBE_MS = 1_000;
// A scheduled run must start within this long after its minute boundary. The controller requeues
// the check for the boundary itself, and starting a run is a cache read plus one status write, so on
// an idle machine the lag is tens of milliseconds. 10 s leaves room for a loaded 2-core CI machine
// (API server, etcd and this process share it) while still failing a controller that only notices a
// due run on a coarse timer or a resync: that lag would be tens of seconds to minutes.
const START_LAG_BOUND_MS = 10_000;
const HISTORY_LIMIT = 3;
const SCHEDULED_RUNS = 5;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const time = (value: string | undefined) => (value ? Date.parse(value) : Number.NaN);
const nextMinuteAfter = (ms: number) => Math.floor(ms / MINUTE) * MINUTE + MINUTE;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

interface Sample { name: string; labels: Record<string, string>; value: number }

/** The Prometheus text format, as far as these assertions need it. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[label[1]!] = label[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

function select(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

function only(samples: Sample[], name: string, labels: Record<string, string>): number {
  const found = select(samples, name, labels);
  expect(found, `${name}${JSON.stringify(labels)}`).to.have.length(1);
  return found[0]!.value;
}

describe('scheduled NetworkChecks on a real API server (real clock)', function () {
  this.timeout(120_000);
  const namespace = 'sched-test';
  const everyMinute = 'every-minute';
  let manager: Manager;
  let stage: StubProbeStage;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;
  let metricsServer: Server;
  let metricsPort: number;
  // Every version of the every-minute check while it runs.
  let recorder: VersionRecorder;
  const versions = () => recorder.versions;

  const key = (name: string) => `${namespace}/${name}`;
  let world: StubWorld;
  const getCheck = (name: string) => world.getCheck(name);
  const patchCheck = (name: string, body: unknown) => world.patchCheck(name, body);
  const createCheck = (name: string, spec: Partial<NetworkCheckSpec> = {}) => world.createCheck(name, spec);
  // Completed: the run's own completion, never one left over from the run before (completion >= start).
  const isCompleted = (run: RunRecord | undefined) => Boolean(run?.completionTime) && time(run!.completionTime) >= time(run!.startTime);
  const completedRun = (name: string, what: (c: NetworkCheck) => boolean = () => true, timeoutMs = 30_000) => waitFor(`a completed run of ${name}`, async () => {
    const c = await getCheck(name);
    return isCompleted(c.status?.lastRun) && what(c) ? c : undefined;
  }, timeoutMs, 100);
  const createRunningPod = (pod: V1Pod) => world.createRunningPod(pod);
  const scrape = async () => {
    const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(response.status).to.equal(200);
    return parseMetrics(await response.text());
  };
  const conditionOf = (check: NetworkCheck, type: string) => check.status?.conditions?.find((c) => c.type === type);

  before(async function () {
    this.timeout(180_000);
    world = await StubWorld.create(controlPlane(), { namespace, node: NODE, nodeIP: '172.30.0.2', podNet: '10.244.7' });
    custom = world.custom;
    core = world.core;
    stage = new StubProbeStage({ runDurationMs: PROBE_MS, nodeName: NODE });
    manager = await world.startOperator(stage);
    metricsPort = await freePort();
    metricsServer = serveHealthAndMetrics(metricsPort, () => manager, manager.metrics, () => true);

    await createCheck(everyMinute, { schedule: '* * * * *', historyLimit: HISTORY_LIMIT });
    recorder = new VersionRecorder(world.kubeConfig, namespace, everyMinute);
    await recorder.start();
  });

  after(async function () {
    this.timeout(60_000);
    recorder?.stop();
    metricsServer?.close();
    await manager?.stop();
    await world?.stop();
  });

  it('suspend stops the schedule across a minute boundary; run-now runs exactly once and is marked handled', async function () {
    this.timeout(180_000);
    const name = 'suspend-me';
    await createCheck(name, { schedule: '* * * * *' });
    await completedRun(name);
    await patchCheck(name, [{ op: 'add', path: '/spec/suspend', value: true }]);
    // Suspend is a new generation; once it is observed and no run is in flight, nothing may start.
    const suspended = await waitFor('suspend observed, no run in flight', async () => {
      const c = await getCheck(name);
      return c.status?.observedGeneration === 2 && c.status.lastRun?.completionTime ? c : undefined;
    }, 70_000, 100);
    expect(suspended.status?.nextRunTime, 'no next run while suspended').to.equal(undefined);
    expect(conditionOf(suspended, 'Ready')).to.include({ status: 'True', observedGeneration: 2 });
    const runsBefore = stage.runsOf(key(name)).length;
    const lastRunBefore = suspended.status!.lastRun!.id;

    // Across the next minute boundary, plus the bound a scheduled run would have to start in.
    const boundary = nextMinuteAfter(Date.now());
    await sleep(boundary - Date.now() + START_LAG_BOUND_MS);
    const afterBoundary = await getCheck(name);
    expect(stage.runsOf(key(name)), 'runs while suspended').to.have.length(runsBefore);
    expect(afterBoundary.status?.lastRun?.id).to.equal(lastRunBefore);

    const token = `run-${Date.now()}`;
    await patchCheck(name, [{ op: 'add', path: `/metadata/annotations`, value: { [ANNOTATION_RUN_NOW]: token } }]);
    const ran = await completedRun(name, (c) => c.status?.runNowHandled === token && c.status.lastRun?.id !== lastRunBefore);
    expect(ran.status!.lastRun).to.include({ trigger: 'RunNowAnnotation' });
    expect(ran.status!.lastRun!.scheduledTime, 'run-now stands for no fire time').to.equal(undefined);
    expect(ran.status!.nextRunTime, 'still suspended after run-now').to.equal(undefined);
    expect(stage.runsOf(key(name))).to.have.length(runsBefore + 1);

    // The same annotation value again (the object changes, the value does not) is not a new request.
    await patchCheck(name, [{ op: 'add', path: '/metadata/labels', value: { touched: 'yes' } }]);
    await sleep(5_000);
    expect(stage.runsOf(key(name)), 'runs after the handled run-now').to.have.length(runsBefore + 1);
    expect((await getCheck(name)).status?.lastRun?.id).to.equal(ran.status!.lastRun!.id);
  });

  it('lets `kubectl wait --for=condition=Ready` succeed on a healthy check and time out on an unhealthy one', async function () {
    this.timeout(120_000);
    stage.script(key('wait-unhealthy'), (request) => serviceProbe(request, 'refused', NODE));
    await createCheck('wait-healthy');
    await createCheck('wait-unhealthy', { destination: { service: 'no-backends', port: 8080 } });
    // Started before the first run finishes, so kubectl really waits for the condition to turn True.
    const healthy = await world.kubectl(['wait', '--for=condition=Ready', `networkcheck/wait-healthy`, '-n', namespace, '--timeout=60s'], 90_000);
    expect(healthy.code, healthy.stderr).to.equal(0);
    expect(healthy.stdout).to.include('condition met');
    const check = await getCheck('wait-healthy');
    expect(check.status).to.include({ result: 'Healthy', observedGeneration: 1 });
    expect(conditionOf(check, 'Ready')).to.include({ status: 'True', reason: 'CheckHealthy', observedGeneration: 1 });

    // The failing counterpart: its verdict is in (Ready=False), so a short wait for Ready=True times out.
    const unhealthy = await completedRun('wait-unhealthy');
    expect(unhealthy.status).to.include({ result: 'Unhealthy', failedLayer: 'Endpoints' });
    const timedOut = await world.kubectl(['wait', '--for=condition=Ready', 'networkcheck/wait-unhealthy', '-n', namespace, '--timeout=3s'], 60_000);
    expect(timedOut.code, 'kubectl wait exit code').to.not.equal(0);
    expect(timedOut.stderr).to.include('timed out');
    const notReady = await world.kubectl(['wait', '--for=condition=Ready=false', 'networkcheck/wait-unhealthy', '-n', namespace, '--timeout=30s'], 60_000);
    expect(notReady.code, notReady.stderr).to.equal(0);

    // The first verdict of each is an Event on the check.
    const events = await waitFor('transition events', async () => {
      const list = (await core.listNamespacedEvent({ namespace })).items;
      const of = (name: string) => list.filter((e: CoreV1Event) => e.involvedObject.name === name && e.involvedObject.kind === 'NetworkCheck');
      return of('wait-healthy').length > 0 && of('wait-unhealthy').length > 0 ? { healthy: of('wait-healthy'), unhealthy: of('wait-unhealthy') } : undefined;
    }, 15_000, 200);
    expect(events.healthy.map((e) => `${e.type}/${e.reason}`)).to.deep.equal(['Normal/CheckHealthy']);
    expect(events.unhealthy.map((e) => `${e.type}/${e.reason}`)).to.deep.equal(['Warning/CheckUnhealthy']);
  });

  it('exports the per-check series and the controller metrics on /metrics', async function () {
    this.timeout(60_000);
    stage.script(key('metrics-unhealthy'), (request) => serviceProbe(request, 'refused', NODE));
    stage.script(key('metrics-probe-fails'), () => ({ failure: 'probe pod metrics-probe-fails-0 was evicted before it reported (stub stage)' }));
    const started = Date.now();
    await createCheck('metrics-healthy');
    await createCheck('metrics-unhealthy', { destination: { service: 'no-backends', port: 8080 } });
    await createCheck('metrics-probe-fails');
    const checks = {
      healthy: await completedRun('metrics-healthy'),
      unhealthy: await completedRun('metrics-unhealthy'),
      probeFails: await completedRun('metrics-probe-fails'),
    };
    expect(checks.healthy.status?.result).to.equal('Healthy');
    expect(checks.unhealthy.status?.result).to.equal('Unhealthy');
    expect(checks.probeFails.status).to.include({ result: 'Error', reason: 'ProbeFailed' });
    const expected = { 'metrics-healthy': 'Healthy', 'metrics-unhealthy': 'Unhealthy', 'metrics-probe-fails': 'Error' } as const;
    // The gauges follow the status through the operator's watch, a moment after the write we just read.
    const samples = await waitFor('the verdicts on /metrics', async () => {
      const s = await scrape();
      return Object.entries(expected).every(([name, result]) => select(s, 'netcheck_check_result', { namespace, name, result })[0]?.value === 1) ? s : undefined;
    }, 15_000, 200);
    const scraped = Date.now();

    for (const [name, result] of Object.entries(expected)) {
      const labels = { namespace, name };
      for (const candidate of ['Healthy', 'Unhealthy', 'Error']) {
        expect(only(samples, 'netcheck_check_result', { ...labels, result: candidate }), `${name} result=${candidate}`).to.equal(candidate === result ? 1 : 0);
      }
      const lastRun = only(samples, 'netcheck_check_last_run_timestamp_seconds', labels) * 1000;
      expect(lastRun, `${name} last run timestamp`).to.be.within(started - 1_000, scraped);
      expect(only(samples, 'netcheck_run_duration_seconds_count', { ...labels, result })).to.equal(1);
      // The stub's probe takes 1 s and the controller sees the end at a 2 s poll: at least 1 s, and
      // far below the budget a stuck run would reach (tens of seconds).
      expect(only(samples, 'netcheck_run_duration_seconds_sum', { ...labels, result })).to.be.within(PROBE_MS / 1000, 30);
    }

    // One series per layer and status; exactly the status the check's condition has is 1.
    const layers = (checks.healthy.status?.conditions ?? []).filter((c) => !['Ready', 'Reconciling', 'Stalled'].includes(c.type));
    expect(layers.length, 'layer conditions of a diagnosed check').to.be.at.least(5);
    for (const layer of layers) {
      for (const status of ['True', 'False', 'Unknown']) {
        expect(only(samples, 'netcheck_layer_status', { namespace, name: 'metrics-healthy', layer: layer.type, status }), `${layer.type}=${status}`).to.equal(layer.status === status ? 1 : 0);
      }
    }
    expect(only(samples, 'netcheck_layer_status', { namespace, name: 'metrics-unhealthy', layer: 'EndpointsReady', status: 'False' })).to.equal(1);

    expect(only(samples, 'netcheck_probe_pod_failures_total', { namespace, name: 'metrics-probe-fails', reason: 'ProbeFailed' })).to.equal(1);
    expect(select(samples, 'netcheck_probe_pod_failures_total', { namespace, name: 'metrics-healthy' }), 'no failures for a healthy check').to.have.length(0);

    // The controller's own metrics.
    expect(only(samples, 'netcheck_reconcile_total', { result: 'requeue' })).to.be.above(0);
    expect(select(samples, 'netcheck_reconcile_total', { result: 'error' }).reduce((sum, s) => sum + s.value, 0), 'reconcile errors').to.equal(0);
    expect(only(samples, 'netcheck_reconcile_duration_seconds_count', {})).to.be.above(0);
    // Three writes per run at least (recorded, probe pods seen, verdict) for the three checks above.
    expect(only(samples, 'netcheck_status_writes_total', {})).to.be.at.least(9);
    expect(only(samples, 'netcheck_workqueue_depth', {})).to.be.at.least(0);
    expect(only(samples, 'process_resident_memory_bytes', {})).to.be.above(10 * 1024 * 1024);

    // A deleted check's series go away with it.
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name: 'metrics-unhealthy' });
    await waitFor('series of the deleted check removed', async () => {
      const now = await scrape();
      return now.some((s) => s.labels.name === 'metrics-unhealthy') ? undefined : true;
    }, 15_000, 200);
  });

  it('reports a check whose source pod disappeared as Error on /metrics, not its last verdict', async function () {
    this.timeout(60_000);
    await createRunningPod(buildPod('web-leaving', { namespace, labels: { app: 'web' }, ip: '10.244.7.11', nodeName: NODE }));
    await createCheck('source-leaves', { source: { pod: 'web-leaving' } });
    await completedRun('source-leaves', (c) => c.status?.result === 'Healthy');
    await core.deleteNamespacedPod({ namespace, name: 'web-leaving', gracePeriodSeconds: 0 });
    const stalled = await waitFor('Stalled/SourceNotFound', async () => {
      const c = await getCheck('source-leaves');
      return conditionOf(c, 'Stalled')?.status === 'True' ? c : undefined;
    }, 15_000, 100);
    expect(stalled.status).to.include({ result: 'Error', reason: 'SourceNotFound' });
    // The result gauge follows status.result (what the NetworkCheckError alert and the dashboard read).
    const samples = await waitFor('result gauge Error', async () => {
      const s = await scrape();
      return select(s, 'netcheck_check_result', { namespace, name: 'source-leaves', result: 'Error' })[0]?.value === 1 ? s : undefined;
    }, 15_000, 200);
    expect(only(samples, 'netcheck_check_result', { namespace, name: 'source-leaves', result: 'Healthy' })).to.equal(0);
  });

  it(`runs an every-minute check on time ${SCHEDULED_RUNS} times, caps its history at ${HISTORY_LIMIT} and reports the next minute`, async function () {
    this.timeout(8 * MINUTE);
    const runsSeen = () => {
      const byId = new Map<string, RunRecord>();
      for (const v of versions()) if (v.status?.lastRun?.id) byId.set(v.status.lastRun.id, v.status.lastRun);
      return [...byId.values()].sort((a, b) => time(a.startTime) - time(b.startTime));
    };
    await waitFor(`${SCHEDULED_RUNS} completed scheduled runs`, async () => {
      return runsSeen().filter((r) => r.trigger === 'Scheduled' && isCompleted(r)).length >= SCHEDULED_RUNS || undefined;
    }, 7 * MINUTE, 1_000);

    const runs = runsSeen();
    const first = runs[0]!;
    expect(first.trigger, 'the run right after creation').to.equal('FirstRun');
    const scheduled = runs.slice(1, 1 + SCHEDULED_RUNS);
    // Never a MissedRun, a burst or another trigger: one run per minute, each for its own minute.
    expect(scheduled.map((r) => r.trigger)).to.deep.equal(Array(SCHEDULED_RUNS).fill('Scheduled'));
    const expectedFireTimes = Array.from({ length: SCHEDULED_RUNS }, (_, i) => iso(nextMinuteAfter(time(first.startTime)) + i * MINUTE));
    expect(scheduled.map((r) => r.scheduledTime)).to.deep.equal(expectedFireTimes);

    const stageRuns = stage.runsOf(key(everyMinute));
    expect(stageRuns.slice(0, 1 + SCHEDULED_RUNS).map((r) => r.runId), 'the stage saw exactly these runs').to.deep.equal([first, ...scheduled].map((r) => r.id));
    const lags: number[] = [];
    scheduled.forEach((run, i) => {
      const fire = time(run.scheduledTime);
      // startTime has second precision (metav1.Time); the stage's own record has milliseconds.
      expect(time(run.startTime) - fire, `run ${run.id} startTime - scheduledTime`).to.be.within(0, START_LAG_BOUND_MS);
      const lag = stageRuns[i + 1]!.startedAt - fire;
      expect(lag, `run ${run.id} probe start - scheduledTime (ms)`).to.be.within(0, START_LAG_BOUND_MS);
      lags.push(lag);
    });
    console.log(`      schedule lag (probe start - fire time) per run: ${lags.map((l) => `${l} ms`).join(', ')}`);
    // Each run was followed to its own verdict: completed after it started, its probe pods removed.
    for (const run of [first, ...scheduled]) {
      expect(time(run.completionTime), `${run.id} completionTime`).to.be.at.least(time(run.startTime));
      expect(run.durationMs, `${run.id} durationMs`).to.be.at.least(PROBE_MS);
      expect(stage.cleaned, `${run.id} cleaned up after its verdict`).to.include(`${key(everyMinute)}/${run.id}`);
    }
    // No overlap: each run started after the previous one completed.
    [first, ...scheduled].slice(1).forEach((run, i) => {
      expect(time(run.startTime), `${run.id} starts after the previous run completed`).to.be.at.least(time([first, ...scheduled][i]!.completionTime));
    });

    // History: never longer than the limit, newest first, and once full, exactly the newest runs.
    const completed = new Map<string, RunRecord>([first, ...scheduled].map((r) => [r.id!, r]));
    for (const v of versions()) {
      const history = v.status?.history ?? [];
      expect(history.length, `history at resourceVersion ${v.metadata?.resourceVersion}`).to.be.at.most(HISTORY_LIMIT);
      const times = history.map((h) => time(h.time));
      expect(times, 'history newest first').to.deep.equal([...times].sort((a, b) => b - a));
    }
    const fifth = scheduled.at(-1)!;
    const atFifth = versions().find((v) => v.status?.lastRun?.id === fifth.id && isCompleted(v.status?.lastRun))!;
    expect(atFifth.status!.history!.map((h) => h.time)).to.deep.equal([...completed.values()].slice(-HISTORY_LIMIT).reverse().map((r) => r.startTime));
    expect(atFifth.status!.history!.every((h) => h.result === 'Healthy')).to.equal(true);
    // nextRunTime: the minute after the latest run, in every version where that run has completed.
    expect(atFifth.status!.nextRunTime).to.equal(iso(time(fifth.scheduledTime) + MINUTE));
    for (const v of versions()) {
      const run = v.status?.lastRun;
      if (!run || !isCompleted(run)) continue;
      // A fire time that passed during the run starts a run at once; the check is for the idle state.
      if (nextMinuteAfter(time(run.startTime)) <= time(run.completionTime)) continue;
      expect(v.status?.nextRunTime, `nextRunTime after ${run.id}`).to.equal(iso(nextMinuteAfter(time(run.startTime))));
    }

    // The per-check series counted the same runs (a 7th may have finished since: at least).
    const samples = await scrape();
    const counted = only(samples, 'netcheck_run_duration_seconds_count', { namespace, name: everyMinute, result: 'Healthy' });
    expect(counted).to.be.at.least(1 + SCHEDULED_RUNS);
  });
});
