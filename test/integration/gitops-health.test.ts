// GitOps health, decided by the tools' own code on the objects the API server stored. Real
// NetworkChecks are driven into each state of the mapping (README, "GitOps"): a first run in flight,
// Stalled, Healthy, Unhealthy and Error verdicts, a healthy scheduled check during its later runs, a
// spec change, and a stall that clears. Each stored version goes to kstatus (the Go helper built from
// sigs.k8s.io/cli-utils v0.37.2, as Flux runs it) and to the Argo CD Lua health check, and
// `kubectl wait --for=condition=Ready` is run against a spec change. The probe stage is stubbed at its
// interface (no kubelet in this tier); the controller, its status writes and the diagnosis are real.
import { expect } from 'chai';
import { ANNOTATION_RUN_NOW } from '../../operator/api/defaults.ts';
import type { Condition, NetworkCheck } from '../../operator/api/types.generated.ts';
import type { Manager } from '../../operator/controller/manager.ts';
import { buildPod } from '../support/builders.ts';
import { waitFor } from '../support/cluster.ts';
import { ArgoHealth, Kstatus, type Health } from '../support/gitops-health.ts';
import { StubProbeStage, serviceProbe } from '../support/stub-stage.ts';
import { StubWorld } from '../support/stub-world.ts';
import { VersionRecorder } from '../support/version-recorder.ts';
import { controlPlane } from './hooks.ts';

const NODE = 'gitops-node-a';
// Long enough that a run in flight is seen by a 100 ms poll; the controller polls a run every 2 s.
const PROBE_MS = 3_000;

interface Verdicts { kstatus: Health; argo: Health }

describe('GitOps health of real NetworkChecks: kstatus (Flux) and the Argo CD Lua', function () {
  this.timeout(120_000);
  const namespace = 'gitops-test';
  let manager: Manager;
  let stage: StubProbeStage;
  let world: StubWorld;
  let kstatus: Kstatus;
  let argo: ArgoHealth;
  let scheduled: VersionRecorder;

  const key = (name: string) => `${namespace}/${name}`;
  const getCheck = (name: string) => world.getCheck(name);
  const patchCheck = (name: string, body: unknown) => world.patchCheck(name, body);
  const createCheck = (name: string, spec: Parameters<StubWorld['createCheck']>[1] = {}) => world.createCheck(name, spec);
  const createRunningPod = (pod: Parameters<StubWorld['createRunningPod']>[0]) => world.createRunningPod(pod);
  const conditionOf = (check: NetworkCheck, type: string): Condition | undefined => check.status?.conditions?.find((c) => c.type === type);
  const inFlight = (check: NetworkCheck, generation: number) => Boolean(check.status?.lastRun?.id) && !check.status?.lastRun?.completionTime && check.status?.lastRun?.generation === generation;
  /** The stored object as it is while a run of `generation` is in flight (optionally: of this trigger). */
  const whileRunning = (name: string, generation: number, trigger?: string, timeoutMs = 30_000) => waitFor(`${name}: a run of generation ${generation} in flight`, async () => {
    const c = await getCheck(name);
    return inFlight(c, generation) && (!trigger || c.status?.lastRun?.trigger === trigger) && c.status?.observedGeneration === generation ? c : undefined;
  }, timeoutMs, 100);
  /** The stored object once a run of `generation`, started after `after` (an ISO time), has completed. */
  const completed = (name: string, generation = 1, after = '') => waitFor(`${name}: a completed run of generation ${generation}`, async () => {
    const c = await getCheck(name);
    const run = c.status?.lastRun;
    return run?.completionTime && run.generation === generation && (run.startTime ?? '') >= after ? c : undefined;
  }, 30_000, 100);
  /** The stored object once it is Stalled (before probing: a missing source). */
  const stalledNow = (name: string) => waitFor(`${name}: Stalled`, async () => {
    const c = await getCheck(name);
    return conditionOf(c, 'Stalled')?.status === 'True' ? c : undefined;
  }, 15_000, 100);
  const judge = async (check: NetworkCheck): Promise<Verdicts> => ({ kstatus: await kstatus.of(check), argo: argo.of(check) });

  before(async function () {
    this.timeout(180_000);
    kstatus = Kstatus.open();
    argo = ArgoHealth.open();
    world = await StubWorld.create(controlPlane(), { namespace, node: NODE, nodeIP: '172.30.0.3', podNet: '10.244.8' });
    stage = new StubProbeStage({ runDurationMs: PROBE_MS, nodeName: NODE });
    manager = await world.startOperator(stage);
    // Created first: its next fire time is at most a minute away, and the other tests run meanwhile.
    await createCheck('scheduled', { schedule: '* * * * *' });
    scheduled = new VersionRecorder(world.kubeConfig, namespace, 'scheduled');
    await scheduled.start();
  });

  after(async function () {
    this.timeout(60_000);
    scheduled?.stop();
    argo?.close();
    await manager?.stop();
    await world?.stop();
  });

  it('a first run in flight is InProgress; its Healthy verdict is Current', async () => {
    await createCheck('first-run');
    const running = await whileRunning('first-run', 1);
    expect(conditionOf(running, 'Reconciling')).to.include({ status: 'True', reason: 'RunInProgress', observedGeneration: 1 });
    expect(conditionOf(running, 'Ready')).to.include({ status: 'Unknown', reason: 'RunPending' });
    const whileFirst = await judge(running);
    expect(whileFirst.kstatus).to.deep.equal({ status: 'InProgress', message: conditionOf(running, 'Reconciling')!.message });
    expect(whileFirst.argo).to.deep.equal({ status: 'Progressing', message: conditionOf(running, 'Reconciling')!.message });

    const healthy = await completed('first-run');
    expect(healthy.status).to.include({ result: 'Healthy' });
    expect(conditionOf(healthy, 'Ready')).to.include({ status: 'True', reason: 'CheckHealthy' });
    expect(await judge(healthy)).to.deep.equal({
      kstatus: { status: 'Current', message: 'Resource is Ready' },
      argo: { status: 'Healthy', message: healthy.status!.summary },
    });
  });

  it('Stalled (source pod missing) is Failed with the condition naming the field', async () => {
    await createCheck('stalled', { source: { pod: 'web-missing' } });
    const stalled = await stalledNow('stalled');
    const message = conditionOf(stalled, 'Stalled')!.message;
    expect(message).to.include('spec.source.pod').and.include(`${namespace}/web-missing`);
    expect(await judge(stalled)).to.deep.equal({ kstatus: { status: 'Failed', message }, argo: { status: 'Degraded', message } });
  });

  it('a completed Unhealthy verdict is Failed with the summary, and stays Failed while it is re-run', async () => {
    stage.script(key('unhealthy'), (request) => serviceProbe(request, 'refused', NODE));
    await createCheck('unhealthy', { destination: { service: 'no-backends', port: 8080 } });
    const unhealthy = await completed('unhealthy');
    const { summary, failedLayer, reason } = unhealthy.status!;
    expect(unhealthy.status).to.include({ result: 'Unhealthy', failedLayer: 'Endpoints' });
    expect(conditionOf(unhealthy, 'Stalled')).to.include({ status: 'True', reason: 'CheckUnhealthy', message: summary });
    expect(conditionOf(unhealthy, 'Ready')).to.include({ status: 'False', reason: 'CheckUnhealthy', message: summary });
    expect(conditionOf(unhealthy, 'Reconciling')).to.include({ status: 'False' });
    const failed: Verdicts = { kstatus: { status: 'Failed', message: summary! }, argo: { status: 'Degraded', message: `${failedLayer}/${reason}: ${summary}` } };
    expect(await judge(unhealthy)).to.deep.equal(failed);

    // A re-run of the unchanged spec (run-now) keeps the verdict: still Failed, never InProgress.
    await patchCheck('unhealthy', [{ op: 'add', path: '/metadata/annotations', value: { [ANNOTATION_RUN_NOW]: 'again' } }]);
    const rerun = await whileRunning('unhealthy', 1, 'RunNowAnnotation');
    expect(conditionOf(rerun, 'Reconciling')).to.include({ status: 'False', reason: 'RerunInProgress' });
    expect(await judge(rerun)).to.deep.equal(failed);
    const stalledSince = conditionOf(unhealthy, 'Stalled')!.lastTransitionTime;
    const after = await completed('unhealthy', 1, rerun.status!.lastRun!.startTime);
    expect(conditionOf(after, 'Stalled')!.lastTransitionTime, 'Stalled did not flip').to.equal(stalledSince);
    expect((await judge(after)).kstatus.status).to.equal('Failed');
  });

  it('a completed Error verdict (the probe pod failed) is Failed with the summary', async () => {
    stage.script(key('probe-error'), () => ({ failure: 'probe pod probe-error-0 was evicted before it reported (stub stage)' }));
    await createCheck('probe-error');
    const error = await completed('probe-error');
    expect(error.status).to.include({ result: 'Error', reason: 'ProbeFailed' });
    const { summary, failedLayer, reason } = error.status!;
    expect(conditionOf(error, 'Stalled')).to.include({ status: 'True', reason: 'CheckError', message: summary });
    expect(await judge(error)).to.deep.equal({
      kstatus: { status: 'Failed', message: summary },
      argo: { status: 'Degraded', message: `${failedLayer}/${reason}: ${summary}` },
    });
  });

  it('a spec change is InProgress until the new generation has a verdict, and `kubectl wait --for=condition=Ready` waits for it', async () => {
    const before = await completed('first-run');
    expect(conditionOf(before, 'Ready')).to.include({ status: 'True' });
    await patchCheck('first-run', [{ op: 'replace', path: '/spec/timeoutSeconds', value: 4 }]);
    // Started before the operator has even seen generation 2: it must not pass on generation 1's Ready=True.
    const wait = world.kubectl(['wait', '--for=condition=Ready', 'networkcheck/first-run', '-n', namespace, '--timeout=60s'], 90_000);
    const running = await whileRunning('first-run', 2);
    expect(conditionOf(running, 'Reconciling')).to.include({ status: 'True', observedGeneration: 2 });
    expect(conditionOf(running, 'Ready')).to.include({ status: 'Unknown', reason: 'RunPending', observedGeneration: 2 });
    const verdicts = await judge(running);
    expect(verdicts.kstatus.status).to.equal('InProgress');
    expect(verdicts.argo.status).to.equal('Progressing');

    const waited = await wait;
    expect(waited.code, waited.stderr).to.equal(0);
    const now = await getCheck('first-run');
    expect(now.status?.lastRun, 'kubectl wait returned only once generation 2 had its verdict').to.include({ generation: 2 });
    expect(now.status?.lastRun?.completionTime).to.be.a('string');
    expect((await judge(now)).kstatus.status).to.equal('Current');
  });

  it('a check whose missing source comes back runs again by itself and turns Current', async () => {
    await createCheck('source-returns', { source: { pod: 'web-late' } });
    const stalled = await stalledNow('source-returns');
    expect((await judge(stalled)).kstatus.status).to.equal('Failed');
    await createRunningPod(buildPod('web-late', { namespace, labels: { app: 'web' }, ip: '10.244.8.11', nodeName: NODE }));
    const healthy = await completed('source-returns');
    expect(healthy.status?.result).to.equal('Healthy');
    expect(await judge(healthy)).to.deep.include({ kstatus: { status: 'Current', message: 'Resource is Ready' } });
    // Then the source leaves after a verdict, and returns: a run of the same generation follows.
    await world.core.deleteNamespacedPod({ namespace, name: 'web-late', gracePeriodSeconds: 0 });
    const stalledAgain = await stalledNow('source-returns');
    expect(await judge(stalledAgain)).to.deep.include({ kstatus: { status: 'Failed', message: conditionOf(stalledAgain, 'Stalled')!.message } });
    await createRunningPod(buildPod('web-late', { namespace, labels: { app: 'web' }, ip: '10.244.8.12', nodeName: NODE }));
    const recovered = await completed('source-returns', 1, healthy.status!.lastRun!.completionTime);
    expect(recovered.status!.lastRun).to.include({ trigger: 'Recovered' });
    expect((await judge(recovered)).kstatus.status).to.equal('Current');
  });

  it('a healthy scheduled check stays Current through its later runs: no version after the first verdict is InProgress', async function () {
    this.timeout(150_000);
    // The first Scheduled run in flight, then its verdict.
    const rerun = await whileRunning('scheduled', 1, 'Scheduled', 75_000);
    expect(conditionOf(rerun, 'Reconciling')).to.include({ status: 'False', reason: 'RerunInProgress' });
    await completed('scheduled', 1, rerun.status!.lastRun!.startTime);
    scheduled.stop();

    const versions = scheduled.versions;
    const firstVerdict = versions.findIndex((v) => v.status?.result === 'Healthy' && v.status.lastRun?.completionTime);
    expect(firstVerdict, 'the first verdict was recorded').to.be.at.least(0);
    const later = versions.slice(firstVerdict);
    const duringRerun = later.filter((v) => v.status?.lastRun?.trigger === 'Scheduled' && !v.status.lastRun.completionTime);
    expect(duringRerun.length, 'versions written during the scheduled run').to.be.at.least(1);
    const readySince = conditionOf(versions[firstVerdict]!, 'Ready')!.lastTransitionTime;
    for (const version of later) {
      const verdicts = await judge(version);
      const at = `resourceVersion ${version.metadata?.resourceVersion} (run ${version.status?.lastRun?.id}, completed: ${Boolean(version.status?.lastRun?.completionTime)})`;
      expect(verdicts.kstatus, at).to.deep.equal({ status: 'Current', message: 'Resource is Ready' });
      expect(verdicts.argo.status, at).to.equal('Healthy');
      expect(conditionOf(version, 'Ready'), at).to.include({ status: 'True', lastTransitionTime: readySince });
    }
    // Before its first verdict, the check was InProgress (its first run).
    const first = versions.find((v) => v.status?.lastRun && !v.status.lastRun.completionTime);
    expect(first, 'a version during the first run').to.not.equal(undefined);
    expect((await judge(first!)).kstatus.status).to.equal('InProgress');
  });
});
