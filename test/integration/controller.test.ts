// The reconcile core on a real kube-apiserver: status subresource writes, observedGeneration,
// Stalled -> recovery, no needless writes, and surviving an API server restart.
// The probe stage is replaced by a recording stage: no kubelet runs in this tier, and what is
// tested here is the controller's contract with the API server, not the probe.
import { CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { Manager } from '../../operator/controller/manager.ts';
import type { NetworkCheck } from '../../operator/api/types.generated.ts';
import type { ProbeStage, RunObservation, RunRequest } from '../../operator/probe/stage.ts';
import { createLogger, silentLogger } from '../../operator/log.ts';
import { waitFor } from '../support/cluster.ts';
import { controlPlane } from './hooks.ts';

class RecordingStage implements ProbeStage {
  started: RunRequest[] = [];
  cleaned: string[] = [];
  async start(request: RunRequest) { this.started.push(request); return [`probe-${request.runId}`]; }
  async observe(): Promise<RunObservation> { return { state: 'Running', pods: ['probe'], detail: 'probe pod Pending (no kubelet in this tier)' }; }
  async cleanup(_check: NetworkCheck, runId: string) { this.cleaned.push(runId); }
}

const GROUP = 'netcheck.dev';
const VERSION = 'v1alpha1';
const PLURAL = 'networkchecks';

describe('NetworkCheck controller on a real API server', function () {
  this.timeout(120_000);
  const namespace = 'ctrl-test';
  let manager: Manager;
  let stage: RecordingStage;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;

  const getCheck = async (name: string) => await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name }) as NetworkCheck;
  const createCheck = async (name: string, sourcePod: string) => custom.createNamespacedCustomObject({
    group: GROUP, version: VERSION, namespace, plural: PLURAL,
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'NetworkCheck', metadata: { name, namespace }, spec: { source: { pod: sourcePod }, destination: { service: 'backend', port: 8080 } } },
  });
  const createRunningPod = async (name: string) => {
    const pod: V1Pod = { metadata: { name, namespace, labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'example.invalid/web:1' }], nodeName: 'node-a' } };
    await core.createNamespacedPod({ namespace, body: pod });
    // No kubelet here: write the status a kubelet would write, through the real status subresource.
    const current = await core.readNamespacedPod({ name, namespace });
    current.status = { phase: 'Running', podIP: '10.244.0.9', podIPs: [{ ip: '10.244.0.9' }] };
    await core.replaceNamespacedPodStatus({ name, namespace, body: current });
  };
  // The controller runs as the operator's ServiceAccount with exactly the RBAC in config/, so a
  // missing verb in the ClusterRole fails these tests.
  const operatorIdentity = () => controlPlane().userKubeConfig('system:serviceaccount:netcheck-system:netcheck-operator', ['system:serviceaccounts', 'system:serviceaccounts:netcheck-system', 'system:authenticated']);
  const startManager = async () => {
    manager = new Manager({ kubeConfig: operatorIdentity(), log: process.env.TEST_LOG ? createLogger("debug") : silentLogger(), stage, diagnose: () => { throw new Error('not reached'); }, namespaces: [namespace], workers: 2 });
    await manager.start();
    await manager.waitForSync();
  };

  before(async () => {
    const kc = controlPlane().kubeConfig();
    custom = kc.makeApiClient(CustomObjectsApi);
    core = kc.makeApiClient(CoreV1Api);
    const deployed = controlPlane().kubectl(['apply', '--server-side', '-k', 'config/']);
    expect(deployed.code, deployed.stderr).to.equal(0);
    controlPlane().kubectl(['create', 'namespace', namespace]);
    await core.createNamespacedService({ namespace, body: { metadata: { name: 'backend', namespace }, spec: { selector: { app: 'backend' }, ports: [{ port: 8080 }] } } });
    stage = new RecordingStage();
    await startManager();
    // A just-established CRD answers 429 "storage is (re)initializing" for a moment; wait until the
    // controller has reconciled one check, so the timing test below measures the steady state.
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL,
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'NetworkCheck', metadata: { name: 'warmup', namespace }, spec: { source: { pod: 'none' }, destination: { service: 'backend', port: 8080 } } } });
    await waitFor('warm-up reconcile', async () => (await getCheck('warmup')).status?.observedGeneration === 1 || undefined, 60_000, 50);
  });
  after(async () => { await manager?.stop(); });

  it('grants the operator ServiceAccount exactly the verbs it uses (kubectl auth can-i)', () => {
    const as = ['--as=system:serviceaccount:netcheck-system:netcheck-operator'];
    const can = (verb: string, resource: string, ns = namespace) => {
      const [kind, subresource] = resource.split('/');
      return controlPlane().kubectl(['auth', 'can-i', verb, kind!, ...(subresource ? [`--subresource=${subresource}`] : []), '-n', ns, ...as]).stdout.trim();
    };
    const granted: [string, string, string?][] = [
      ['watch', 'networkchecks.netcheck.dev'], ['patch', 'networkchecks.netcheck.dev/status'],
      ['create', 'pods'], ['delete', 'pods'], ['list', 'pods'], ['update', 'pods/ephemeralcontainers'],
      ['list', 'services'], ['create', 'events'], ['get', 'nodes'], ['get', 'namespaces'], ['list', 'namespaces'], ['watch', 'namespaces'],
      ['list', 'endpointslices.discovery.k8s.io'], ['list', 'networkpolicies.networking.k8s.io'], ['list', 'ingresses.networking.k8s.io'],
      ['update', 'leases.coordination.k8s.io', 'netcheck-system'],
      ['get', 'pods/log'], ['create', 'secrets'], ['delete', 'secrets'],
    ];
    const denied: [string, string, string?][] = [
      ['update', 'networkchecks.netcheck.dev'], ['delete', 'networkchecks.netcheck.dev'], ['patch', 'pods'], ['create', 'pods/exec'],
      ['get', 'secrets'], ['list', 'secrets'], ['watch', 'secrets'], ['update', 'secrets'], ['delete', 'services'], ['update', 'namespaces'], ['list', 'customresourcedefinitions.apiextensions.k8s.io'], ['update', 'leases.coordination.k8s.io'], ['create', 'networkpolicies.networking.k8s.io'],
    ];
    for (const [verb, resource, ns] of granted) expect(can(verb, resource, ns), `${verb} ${resource}`).to.equal('yes');
    for (const [verb, resource, ns] of denied) expect(can(verb, resource, ns), `${verb} ${resource}`).to.equal('no');
  });

  it('gives a valid check observedGeneration and conditions within 2 s, and starts one run', async () => {
    await createRunningPod('web-1');
    const created = Date.now();
    await createCheck('valid', 'web-1');
    const check = await waitFor('status with conditions', async () => {
      const c = await getCheck('valid');
      return c.status?.observedGeneration === 1 && (c.status.conditions?.length ?? 0) >= 3 ? c : undefined;
    }, 10_000, 50);
    const elapsed = Date.now() - created;
    expect(elapsed, `status took ${elapsed} ms`).to.be.below(2_000);
    const byType = Object.fromEntries(check.status!.conditions!.map((c) => [c.type, c]));
    expect(byType.Reconciling).to.include({ status: 'True', reason: 'RunInProgress', observedGeneration: 1 });
    expect(byType.Stalled).to.include({ status: 'False', observedGeneration: 1 });
    expect(byType.Ready).to.include({ status: 'Unknown', reason: 'RunPending' });
    expect(check.status!.result).to.equal('Running');
    expect(check.status!.target).to.deep.equal({ source: 'pod/web-1', destination: 'svc/backend:8080' });
    expect(check.status!.lastRun?.id).to.match(/^g1-/);
    const runs = stage.started.filter((r) => r.check.metadata?.name === 'valid');
    expect(runs).to.have.length(1);
    expect(runs[0]!.targets.sourcePods[0]!.metadata?.name).to.equal('web-1');
    expect(runs[0]!.targets.destinationService?.metadata?.name).to.equal('backend');
  });

  it('puts a check whose source pod is missing in Stalled/SourceNotFound, and recovers when the pod appears', async () => {
    await createCheck('missing-source', 'web-later');
    const stalledCheck = await waitFor('Stalled', async () => {
      const c = await getCheck('missing-source');
      return c.status?.conditions?.find((x) => x.type === 'Stalled' && x.status === 'True') ? c : undefined;
    }, 10_000, 50);
    const stalled = stalledCheck.status!.conditions!.find((x) => x.type === 'Stalled')!;
    expect(stalled.reason).to.equal('SourceNotFound');
    expect(stalled.message).to.include('spec.source.pod').and.include('ctrl-test/web-later');
    expect(stalledCheck.status!.result).to.equal('Error');
    expect(stalledCheck.status!.conditions!.find((x) => x.type === 'Ready')).to.include({ status: 'False', reason: 'SourceNotFound' });
    expect(stage.started.filter((r) => r.check.metadata?.name === 'missing-source')).to.have.length(0);

    // No requeue loop was needed: the pod informer brings the check back.
    await createRunningPod('web-later');
    const recoveryStarted = Date.now();
    const recovered = await waitFor('recovery', async () => {
      const c = await getCheck('missing-source');
      return c.status?.conditions?.find((x) => x.type === 'Stalled' && x.status === 'False') ? c : undefined;
    }, 15_000, 50);
    expect(Date.now() - recoveryStarted).to.be.below(5_000);
    expect(recovered.status!.result).to.equal('Running');
    // The run is recorded in status before its probes start, so the start may trail the status by a moment.
    const starts = () => stage.started.filter((r) => r.check.metadata?.name === 'missing-source');
    await waitFor('the run to start', async () => starts().length > 0 || undefined, 5_000, 20);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(starts()).to.have.length(1);
  });

  it('does not rewrite status when nothing changed', async () => {
    await createCheck('quiet', 'web-1');
    await waitFor('running', async () => (await getCheck('quiet')).status?.result === 'Running' || undefined, 10_000, 50);
    // Let the in-flight polling settle, then count writes across forced reconciles.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const writesBefore = manager.writer.writes;
    const before = await getCheck('quiet');
    for (let i = 0; i < 5; i++) manager.queue.add(`${namespace}/quiet`);
    // Touch metadata (a label): a new resourceVersion and a reconcile, but the same status.
    await custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name: 'quiet', body: [{ op: 'add', path: '/metadata/labels', value: { touched: 'yes' } }] });
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const after = await getCheck('quiet');
    expect(manager.writer.writes - writesBefore, 'status writes').to.equal(0);
    expect(after.status).to.deep.equal(before.status);
    // The run poll kept reconciling meanwhile (requeueAfter 2 s): the comparison, not idleness, saved the writes.
    expect(stage.started.filter((r) => r.check.metadata?.name === 'quiet')).to.have.length(1);
  });

  it('reports the new generation in observedGeneration and every condition after a spec change', async () => {
    await custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name: 'quiet', body: [{ op: 'replace', path: '/spec/timeoutSeconds', value: 7 }] });
    const value = await waitFor('observedGeneration 2', async () => {
      const c = await getCheck('quiet');
      return c.status?.observedGeneration === 2 ? c : undefined;
    }, 10_000, 50);
    expect(value.status!.conditions!.every((c) => c.observedGeneration === 2)).to.equal(true);
  });

  it('survives an API server restart: a check created afterwards is reconciled within 30 s', async () => {
    const plane = controlPlane();
    await plane.stopApiServer();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(manager.healthy(), 'healthy shortly after the outage begins').to.equal(true);
    await plane.startApiServer();
    const created = Date.now();
    await createCheck('after-restart', 'web-1');
    await waitFor('reconcile after restart', async () => (await getCheck('after-restart')).status?.observedGeneration === 1 || undefined, 30_000, 50);
    expect(Date.now() - created).to.be.below(30_000);
  });
});
