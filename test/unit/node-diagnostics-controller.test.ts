// --node-diagnostics as the reconciler applies it, on a fake clock: the real NetworkCheckReconciler
// and diagnosis over an in-memory store, with a probe stage that reports what the test sets. It
// passes the inspection plan to the stage, keeps a failing run in progress while its inspection runs,
// finishes a healthy one at once (OnFailure), and diagnoses with the node view once it is in.
import { expect } from 'chai';
import type { NetworkCheck, NetworkCheckStatus } from '../../operator/api/types.generated.ts';
import { FakeClock } from '../../operator/controller/clock.ts';
import { NetworkCheckReconciler, type Caches } from '../../operator/controller/networkcheck.ts';
import { diagnoseFromEvidence } from '../../operator/diagnosis/index.ts';
import { silentLogger } from '../../operator/log.ts';
import type { NodeDiagnosticsSettings, NodeInspectionPlan } from '../../operator/probe/node-inspection.ts';
import type { NodeInspectionObservation, ProbeOutput, ProbeStage, RunObservation, RunRequest } from '../../operator/probe/stage.ts';
import { WORLD, buildNamespace, buildNetworkCheck, clusterWorld, nodeInspection, probeDoc, probeOutput, worldEvidence } from '../support/builders.ts';
import { recordedDoc } from '../support/cause-worlds.ts';

const T0 = Date.parse('2026-12-02T10:00:00Z');

class Harness {
  readonly clock = new FakeClock(T0);
  readonly world = clusterWorld();
  readonly store = new Map<string, NetworkCheck>();
  readonly started: RunRequest[] = [];
  readonly observedWith: (NodeInspectionPlan | undefined)[] = [];
  cleaned = 0;
  /** What the stage reports; undefined: the probe still runs. */
  probe?: ProbeOutput[];
  inspection: NodeInspectionObservation = { outputs: [], pending: ['node-1', 'node-2'], failed: [] };
  readonly key: string;
  private readonly reconciler: NetworkCheckReconciler;

  constructor(settings: NodeDiagnosticsSettings) {
    const check = buildNetworkCheck('web-to-backend', WORLD.namespace, { source: { pod: 'web' }, destination: { service: 'backend', port: 8080 } });
    check.metadata = { ...check.metadata, uid: 'u-1', resourceVersion: '1' };
    this.key = `${WORLD.namespace}/web-to-backend`;
    this.store.set(this.key, check);
    const pods = () => [this.world.web, ...this.world.backends];
    const caches: Caches = {
      check: (key) => this.store.get(key),
      pod: (namespace, name) => pods().find((pod) => pod.metadata?.namespace === namespace && pod.metadata?.name === name),
      pods: (namespace) => pods().filter((pod) => pod.metadata?.namespace === namespace),
      service: (namespace, name) => (namespace === WORLD.namespace && name === 'backend' ? this.world.service : undefined),
      namespace: (name) => buildNamespace(name),
    };
    const stage: ProbeStage = {
      start: async (request) => { this.started.push(request); return ['web-to-backend-0']; },
      observe: async (_check, _runId, plan): Promise<RunObservation> => {
        this.observedWith.push(plan);
        if (this.cleaned) return { state: 'NotFound' };
        if (!this.probe) return { state: 'Running', pods: ['web-to-backend-0'], detail: 'web-to-backend-0 Running' };
        return { state: 'Completed', pods: ['web-to-backend-0'], outputs: this.probe, nodeInspection: { ...this.inspection, probesFinishedAt: T0 + 2_000 } };
      },
      cleanup: async () => { this.cleaned++; },
    };
    let version = 1;
    this.reconciler = new NetworkCheckReconciler({
      caches, stage, clock: this.clock, log: silentLogger(), nodeSourceNamespaces: new Set(), operatorNamespace: 'netcheck-system', nodeDiagnostics: settings,
      diagnose: (input) => diagnoseFromEvidence(worldEvidence(this.world), input),
      writer: {
        writeStatus: async (stored: NetworkCheck, status: NetworkCheckStatus) => {
          const updated = { ...stored, metadata: { ...stored.metadata, resourceVersion: String(++version) }, status };
          this.store.set(this.key, updated);
          return updated;
        },
      },
    });
  }

  async reconcile(advanceMs = 0): Promise<NetworkCheckStatus> {
    this.clock.advance(advanceMs);
    await this.reconciler.reconcile(this.key);
    return this.store.get(this.key)!.status!;
  }
}

const inspected = (node: string, changes = {}) => probeOutput(`web-to-backend-n-${node}`, node, probeDoc({ proto: null, mode: 'node', target: {}, node: nodeInspection(changes) }));
const condition = (status: NetworkCheckStatus, type: string) => status.conditions?.find((c) => c.type === type);

describe('node diagnostics in the reconciler', () => {
  it('hands the stage the plan: the source pod\'s node and the backends\' nodes, with the ClusterIP', async () => {
    const h = new Harness({ mode: 'OnFailure', namespaces: ['*'] });
    await h.reconcile();
    expect(h.started).to.have.length(1);
    expect(h.started[0]!.nodeInspection).to.deep.equal({ sourceNodes: ['node-1'], awaitSourceNode: false, destinationNodes: ['node-1', 'node-2'], serviceIp: WORLD.clusterIP, covered: [] });
    await h.reconcile(1_000);
    expect(h.observedWith.at(-1), 'the plan again while observing (a new pod\'s node is added then)').to.deep.equal(h.started[0]!.nodeInspection);
  });

  it('without --node-diagnostics: no plan, the probe alone', async () => {
    const h = new Harness({ mode: 'Off', namespaces: ['*'] });
    await h.reconcile();
    expect(h.started[0]!.nodeInspection).to.equal(undefined);
  });

  it('OnFailure: a healthy run finishes at once, its inspection still running, and is cleaned up', async () => {
    const h = new Harness({ mode: 'OnFailure', namespaces: ['*'] });
    await h.reconcile();
    h.probe = [probeOutput('web-to-backend-0', 'node-1', recordedDoc('svc-healthy'))];
    const status = await h.reconcile(2_500);
    expect(status.result).to.equal('Healthy');
    expect(status.lastRun?.completionTime).to.be.a('string');
    expect(condition(status, 'NodeForwarding')!.message).to.include('the nodes are read only for a failing check (--node-diagnostics=OnFailure)');
    expect(h.cleaned, 'the inspection pods go with the run\'s pods').to.equal(1);
  });

  it('OnFailure: a failing run stays in progress while its inspection runs, then names the node', async () => {
    const h = new Harness({ mode: 'OnFailure', namespaces: ['*'] });
    await h.reconcile();
    h.probe = [probeOutput('web-to-backend-0', 'node-1', recordedDoc('svc-dropped'))];
    const waiting = await h.reconcile(2_500);
    expect(waiting.lastRun?.completionTime).to.equal(undefined);
    expect(condition(waiting, 'Reconciling')).to.deep.include({ status: 'True', message: `Run ${waiting.lastRun!.id} in progress: waiting for the node inspection of node-1, node-2` });
    expect(h.cleaned).to.equal(0);
    h.inspection = { outputs: [inspected('node-1'), inspected('node-2', { ipForward: 0 })], pending: [], failed: [] };
    const done = await h.reconcile(1_000);
    expect([done.result, done.failedLayer, done.reason]).to.deep.equal(['Unhealthy', 'Node', 'IPForwardingDisabled']);
    expect(done.summary).to.include('net.ipv4.ip_forward=0 on node node-2');
    expect(h.cleaned).to.equal(1);
  });

  it('a failing run waits at most the grace after its probe finished, then names what was not inspected', async () => {
    const h = new Harness({ mode: 'OnFailure', namespaces: ['*'] });
    await h.reconcile();
    h.probe = [probeOutput('web-to-backend-0', 'node-1', recordedDoc('svc-dropped'))];
    h.inspection = { outputs: [inspected('node-1')], pending: ['node-2'], failed: [] };
    expect((await h.reconcile(2_500)).lastRun?.completionTime).to.equal(undefined);
    const done = await h.reconcile(10_000);
    expect(done.lastRun?.completionTime).to.be.a('string');
    expect(done.result).to.equal('Unhealthy');
    expect(condition(done, 'NodeForwarding')!.message).to.include('node node-2 was not inspected: its inspection did not finish within 10 s of the probe');
  });

  it('Always: a healthy run waits for the node view and shows it', async () => {
    const h = new Harness({ mode: 'Always', namespaces: ['*'] });
    await h.reconcile();
    h.probe = [probeOutput('web-to-backend-0', 'node-1', recordedDoc('svc-healthy'))];
    expect((await h.reconcile(2_500)).lastRun?.completionTime).to.equal(undefined);
    h.inspection = { outputs: [inspected('node-1'), inspected('node-2')], pending: [], failed: [] };
    const done = await h.reconcile(500);
    expect(done.result).to.equal('Healthy');
    expect(condition(done, 'NodeForwarding')!.message).to.include('node node-1: ip_forward=1, bridge-nf-call-iptables=1, conntrack 479/262144, proxy mode iptables');
  });
});
