// Node inspection next to the probe (operator/probe/node-inspection.ts, controller/node-view.ts), the
// pure parts: which runs inspect which nodes, what an inspection pod is, what its status says, and
// when a verdict waits for it. The pods against a real API server are in
// test/integration/podsecurity.test.ts and node-inspection.test.ts; end to end in test/e2e/node-diagnostics.test.ts.
import type { V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { withDefaults } from '../../operator/api/defaults.ts';
import type { NetworkCheckSpec } from '../../operator/api/types.generated.ts';
import { diagnoseWithNodeView, NodeViewNote, type NodeViewInput } from '../../operator/controller/node-view.ts';
import type { DiagnosisInput, Verdict } from '../../operator/diagnosis/verdict.ts';
import {
  MAX_INSPECTED_NODES, NODE_INSPECTION_GRACE_MS, buildNodeInspectionPod, inspectionTargets, nodeInspectionPodName, observeNodeInspections,
  planNodeInspection, probesFinishedAt, type NodeDiagnosticsSettings, type NodeInspectionPlan,
} from '../../operator/probe/node-inspection.ts';
import { isOperatorNodeProbe } from '../../operator/probe/pods.ts';
import type { ProbeOutput, ResolvedTargets } from '../../operator/probe/stage.ts';
import { diagnoseFromEvidence } from '../../operator/diagnosis/index.ts';
import {
  WORLD, buildNamespace, buildNetworkCheck, buildPod, buildService, clusterWorld, nodeInspection, probeDoc, probeOutput, servicePort, worldEvidence,
} from '../support/builders.ts';
import { recordedDoc } from '../support/cause-worlds.ts';

const OPERATOR_NS = 'netcheck-system';
const ON: NodeDiagnosticsSettings = { mode: 'OnFailure', namespaces: ['*'] };
const web = buildPod('web', { namespace: 'shop', labels: { app: 'web' }, ip: '10.244.1.10', nodeName: 'node-1' });
const backends = [
  buildPod('backend-a', { namespace: 'shop', labels: { app: 'backend' }, ip: '10.244.1.21', nodeName: 'node-1' }),
  buildPod('backend-b', { namespace: 'shop', labels: { app: 'backend' }, ip: '10.244.2.22', nodeName: 'node-2' }),
  buildPod('backend-c', { namespace: 'shop', labels: { app: 'backend' }, ip: '10.244.3.23', nodeName: 'node-3', ready: false }),
];
const service = buildService('backend', 'shop', { selector: { app: 'backend' }, clusterIP: '10.96.12.7', ports: [servicePort(8080)] });
const toService: NetworkCheckSpec = { source: { pod: 'web' }, destination: { service: 'backend', port: 8080 } };

function plan(spec: NetworkCheckSpec, targets: Partial<ResolvedTargets>, settings = ON, namespace = 'shop', operatorLabels: Record<string, string> = {}) {
  const check = buildNetworkCheck('c', namespace, spec);
  return planNodeInspection({
    settings, check, spec: withDefaults(check), targets: { sourcePods: [], destinationPods: [], ...targets }, operatorNamespace: OPERATOR_NS,
    operatorNamespaceObject: buildNamespace(OPERATOR_NS, operatorLabels),
  });
}

describe('node inspection: which runs inspect which nodes', () => {
  it('is off unless the admin turns it on, and only in the namespaces the admin names', () => {
    expect(plan(toService, { sourcePods: [web] }, { mode: 'Off', namespaces: ['*'] })).to.deep.equal({ kind: 'off' });
    expect(plan(toService, { sourcePods: [web] }, { mode: 'Always', namespaces: ['payments'] })).to.deep.equal({ kind: 'off' });
    expect(plan(toService, { sourcePods: [web] }, { mode: 'Always', namespaces: ['payments', 'shop'] }).kind).to.equal('planned');
  });

  it('is skipped, with the reason for the Node layer, where Pod Security forbids privileged pods in the operator namespace', () => {
    const decision = plan(toService, { sourcePods: [web] }, ON, 'shop', { 'pod-security.kubernetes.io/enforce': 'baseline' });
    expect(decision.kind).to.equal('skipped');
    expect(decision.kind === 'skipped' && decision.note).to.equal(
      'node inspection is enabled, but namespace netcheck-system enforces Pod Security "baseline" (pod-security.kubernetes.io/enforce) and an inspection pod needs hostNetwork and NET_ADMIN ("privileged")');
  });

  it('plans the source pods\' nodes and the nodes of the backends the probe connects to (ready ones), and the ClusterIP', () => {
    const decision = plan(toService, { sourcePods: [web], destinationService: service, destinationPods: backends });
    expect(decision).to.deep.equal({ kind: 'planned', plan: { sourceNodes: ['node-1'], awaitSourceNode: false, destinationNodes: ['node-1', 'node-2'], serviceIp: '10.96.12.7', covered: [] } });
    const targets = inspectionTargets((decision as { plan: NodeInspectionPlan }).plan, []);
    expect(targets).to.deep.equal([{ node: 'node-1', serviceIp: '10.96.12.7' }, { node: 'node-2', serviceIp: '10.96.12.7' }]);
  });

  it('pod destinations: every destination pod\'s node; a headless Service has no ClusterIP to look up', () => {
    const decision = plan({ source: { pod: 'web' }, destination: { pod: 'backend-c', port: 8080 } }, { sourcePods: [web], destinationPods: [backends[2]!] });
    expect(decision.kind === 'planned' && decision.plan.destinationNodes).to.deep.equal(['node-3']);
    const headless = buildService('backend', 'shop', { selector: { app: 'backend' }, clusterIP: 'None', ports: [servicePort(8080)] });
    const none = plan(toService, { sourcePods: [web], destinationService: headless, destinationPods: backends });
    expect(none.kind === 'planned' && none.plan.serviceIp).to.equal(undefined);
  });

  it('a node source inspects its own node already: only the other nodes are added', () => {
    const decision = plan({ source: { node: 'node-1' }, destination: { service: 'backend', port: 8080 } }, { sourceNode: 'node-1', destinationService: service, destinationPods: backends });
    const targets = inspectionTargets((decision as { plan: NodeInspectionPlan }).plan, []);
    expect(targets).to.deep.equal([{ node: 'node-2', serviceIp: '10.96.12.7' }]);
  });

  it('a new pod\'s node is added once it is scheduled, its slot kept while it is not', () => {
    const many = Array.from({ length: 6 }, (_, i) => buildPod(`b-${i}`, { namespace: 'shop', labels: { app: 'backend' }, ip: `10.244.${i}.9`, nodeName: `node-${i + 1}` }));
    const decision = plan({ source: { newPod: { labels: { app: 'new' } } }, destination: { service: 'backend', port: 8080 } }, { destinationService: service, destinationPods: many });
    const planned = (decision as { plan: NodeInspectionPlan }).plan;
    expect(planned.awaitSourceNode).to.equal(true);
    expect(inspectionTargets(planned, []).map((t) => t.node)).to.deep.equal(['node-1', 'node-2', 'node-3']);
    const scheduled = inspectionTargets(planned, ['node-5']);
    expect(scheduled).to.have.length(MAX_INSPECTED_NODES);
    expect(scheduled[0]).to.deep.equal({ node: 'node-5', serviceIp: '10.96.12.7' });
    expect(scheduled.slice(1).map((t) => t.node), 'the destination nodes that were already planned keep their pods').to.deep.equal(['node-1', 'node-2', 'node-3']);
  });

  it('inspects at most MAX_INSPECTED_NODES nodes per run, source nodes first', () => {
    const sources = Array.from({ length: 6 }, (_, i) => `node-${i + 1}`);
    const targets = inspectionTargets({ sourceNodes: sources, awaitSourceNode: false, destinationNodes: ['node-9'], covered: [] }, []);
    expect(targets.map((t) => t.node)).to.deep.equal(sources.slice(0, MAX_INSPECTED_NODES));
  });
});

describe('node inspection: the pod', () => {
  const check = buildNetworkCheck('web-to-backend', 'shop', { ...toService, probe: { image: 'registry.local/mine:1', tolerations: [{ key: 'gpu', operator: 'Exists' }], resources: { limits: { cpu: '500m' } } }, timeoutSeconds: 60 });
  const owner = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'networkchecks.netcheck.dev', uid: 'u', controller: false, blockOwnerDeletion: false };
  const pod = buildNodeInspectionPod(check, 'g1-abc', { node: 'node-1', serviceIp: '10.96.12.7' }, { operatorNamespace: OPERATOR_NS, image: 'docker.io/nicolaka/netshoot:v0.14@sha256:1', script: '#!/bin/bash', owner });

  it('runs the operator\'s image and fixed program in the operator namespace, on the host network of its node', () => {
    expect(pod.metadata!.namespace).to.equal(OPERATOR_NS);
    expect(pod.metadata!.ownerReferences).to.deep.equal([owner]);
    expect(pod.metadata!.labels).to.deep.equal({
      'netcheck.dev/check': 'web-to-backend', 'netcheck.dev/run': 'g1-abc', 'app.kubernetes.io/managed-by': 'netcheck-operator',
      'netcheck.dev/check-namespace': 'shop', 'netcheck.dev/role': 'node-inspection',
    });
    expect(pod.spec).to.deep.include({ nodeName: 'node-1', hostNetwork: true, restartPolicy: 'Never', automountServiceAccountToken: false, enableServiceLinks: false });
    const container = pod.spec!.containers[0]!;
    expect(container.image).to.equal('docker.io/nicolaka/netshoot:v0.14@sha256:1');
    expect(container.command).to.deep.equal(['/bin/bash', '-c', '#!/bin/bash', 'netcheck-probe']);
    expect(container.securityContext).to.deep.include({ runAsUser: 0, allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true });
    expect(container.securityContext!.capabilities).to.deep.equal({ drop: ['ALL'], add: ['NET_RAW', 'NET_ADMIN'] });
    expect(isOperatorNodeProbe(pod, OPERATOR_NS), 'its node section is trusted').to.equal(true);
  });

  it('takes nothing from the check but names and the ClusterIP: not its image, tolerations, resources or timeout', () => {
    const container = pod.spec!.containers[0]!;
    expect(container.env).to.deep.equal([{ name: 'NETCHECK_MODE', value: 'node' }, { name: 'NETCHECK_TIMEOUT', value: '2' }, { name: 'NETCHECK_SERVICE_IP', value: '10.96.12.7' }]);
    expect(container.resources).to.deep.equal({ requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '200m', memory: '64Mi' } });
    expect(pod.spec!.tolerations, 'the node the path crosses, whatever its taints').to.deep.equal([{ operator: 'Exists' }]);
    expect(pod.spec!.activeDeadlineSeconds, 'bounded by its own budget, never the check\'s timeout').to.equal(65);
  });

  it('is named per run and node, within 63 characters, so that a restart adopts it', () => {
    const long = buildNetworkCheck('a-very-long-check-name-that-goes-on-and-on-and-on-and-on', 'shop', toService);
    const name = nodeInspectionPodName(long, 'g12-mabc123', 'ip-10-0-0-1.eu-west-1.compute.internal');
    expect(name.length).to.be.at.most(63);
    expect(name).to.match(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(nodeInspectionPodName(long, 'g12-mabc123', 'node-2')).to.not.equal(name);
    expect(nodeInspectionPodName(long, 'g12-mabc123', 'ip-10-0-0-1.eu-west-1.compute.internal')).to.equal(name);
  });
});

describe('node inspection: what its pods say', () => {
  const check = buildNetworkCheck('c', 'shop', toService);
  const base = buildNodeInspectionPod(check, 'g1-x', { node: 'node-2' }, { operatorNamespace: OPERATOR_NS, image: 'img', script: 's' });
  const finished = (doc: object): V1Pod => ({ ...base, status: { phase: 'Succeeded', containerStatuses: [{ name: 'probe', image: 'img', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, message: JSON.stringify(doc), finishedAt: new Date('2026-12-02T10:00:05Z') } } }] } });
  const doc = probeDoc({ proto: null, mode: 'node', target: {}, node: nodeInspection({ ipForward: 0 }) });

  it('a finished pod gives its node section; a running one is pending; a stuck one is a note, never the run\'s failure', () => {
    const running: V1Pod = { ...base, metadata: { ...base.metadata, name: 'r' }, spec: { ...base.spec!, nodeName: 'node-3' }, status: { phase: 'Pending' } };
    const stuck: V1Pod = { ...base, spec: { ...base.spec!, nodeName: 'node-4' }, status: { phase: 'Pending', containerStatuses: [{ name: 'probe', image: 'img', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImageNeverPull', message: 'not present' } } }] } };
    const observed = observeNodeInspections([finished(doc), running, stuck], OPERATOR_NS, ['node node-5 was not inspected: creating its inspection pod was refused: quota']);
    expect(observed.outputs).to.have.length(1);
    expect(observed.outputs[0]).to.deep.include({ node: 'node-2' });
    expect((observed.outputs[0]!.result as { node?: { ipForward: number } }).node?.ipForward).to.equal(0);
    expect(observed.pending).to.deep.equal(['node-3']);
    expect(observed.failed).to.deep.equal([
      'node node-5 was not inspected: creating its inspection pod was refused: quota',
      `node node-4 was not inspected: Probe pod ${base.metadata!.name} cannot start: ErrImageNeverPull: not present`,
    ]);
  });

  it('knows when the run\'s probe finished, from its container', () => {
    expect(probesFinishedAt([finished(doc)])).to.equal(Date.parse('2026-12-02T10:00:05Z'));
    expect(probesFinishedAt([finished(doc)], 'netcheck-g1-x')).to.equal(undefined);
  });
});

describe('node inspection: when a verdict waits for it (controller/node-view.ts)', () => {
  const check = buildNetworkCheck('c', 'shop', toService);
  const base: DiagnosisInput = { check, spec: withDefaults(check), targets: { sourcePods: [web], destinationPods: [] }, outputs: [] };
  const inspected = { pod: 'c-g1-x-nabc', node: 'node-2', result: probeDoc({ proto: null, mode: 'node', target: {}, node: nodeInspection() }) };
  const planned = { kind: 'planned' as const, plan: { sourceNodes: ['node-1'], awaitSourceNode: false, destinationNodes: ['node-2'], covered: [] } };
  const T0 = Date.parse('2026-12-02T10:00:00Z');

  /** A diagnosis that says Healthy unless told otherwise, and records what it was given. */
  const recorder = (result: Verdict['result'] = 'Healthy') => {
    const seen: DiagnosisInput[] = [];
    const diagnose = (input: DiagnosisInput): Verdict => { seen.push(input); return { result, reason: result === 'Healthy' ? 'Reachable' : 'ConnectionTimedOut', summary: '', layers: [], reproduce: [] }; };
    return { seen, diagnose };
  };
  const input = (over: Partial<NodeViewInput>): NodeViewInput => ({
    diagnose: recorder().diagnose, base, mode: 'OnFailure', decision: planned, inspection: { outputs: [], pending: ['node-2'], failed: [], probesFinishedAt: T0 },
    runStartMs: T0 - 2_000, nowMs: T0 + 1_000, ...over,
  });

  it('OnFailure, healthy: final at once, without the node view, saying so', async () => {
    const r = recorder('Healthy');
    const view = await diagnoseWithNodeView(input({ diagnose: r.diagnose, inspection: { outputs: [inspected], pending: ['node-3'], failed: [], probesFinishedAt: T0 } }));
    expect(view.kind).to.equal('verdict');
    expect(r.seen).to.have.length(1);
    expect(r.seen[0]!.outputs, 'no inspection output in a healthy OnFailure verdict').to.deep.equal([]);
    expect(r.seen[0]!.nodeInspection).to.deep.equal({ notes: [NodeViewNote.OnlyOnFailure] });
  });

  it('OnFailure, failing: waits while an inspection runs, within the grace after the probe finished', async () => {
    const view = await diagnoseWithNodeView(input({ diagnose: recorder('Unhealthy').diagnose }));
    expect(view).to.deep.equal({ kind: 'wait', detail: 'waiting for the node inspection of node-2' });
  });

  it('OnFailure, failing: once inspected, diagnosed with the node view', async () => {
    const r = recorder('Unhealthy');
    const view = await diagnoseWithNodeView(input({ diagnose: r.diagnose, inspection: { outputs: [inspected], pending: [], failed: ['node node-3 was not inspected: x'], probesFinishedAt: T0 } }));
    expect(view.kind).to.equal('verdict');
    expect(r.seen.at(-1)!.outputs).to.deep.equal([inspected]);
    expect(r.seen.at(-1)!.nodeInspection).to.deep.equal({ notes: ['node node-3 was not inspected: x'] });
  });

  it('gives up waiting after the grace, and names the node not inspected', async () => {
    const r = recorder('Unhealthy');
    const view = await diagnoseWithNodeView(input({ diagnose: r.diagnose, nowMs: T0 + NODE_INSPECTION_GRACE_MS }));
    expect(view.kind).to.equal('verdict');
    expect(r.seen.at(-1)!.nodeInspection).to.deep.equal({ notes: [NodeViewNote.NotInTime('node-2')] });
  });

  it('Always: even a healthy verdict waits, then reads the nodes', async () => {
    const r = recorder('Healthy');
    expect(await diagnoseWithNodeView(input({ diagnose: r.diagnose, mode: 'Always' }))).to.deep.equal({ kind: 'wait', detail: 'waiting for the node inspection of node-2' });
    expect(r.seen, 'no diagnosis while waiting').to.have.length(0);
    await diagnoseWithNodeView(input({ diagnose: r.diagnose, mode: 'Always', inspection: { outputs: [inspected], pending: [], failed: [] } }));
    expect(r.seen.at(-1)!.outputs).to.deep.equal([inspected]);
  });

  it('skipped (Pod Security): the note reaches the Node layer; off: the pod probe alone', async () => {
    const r = recorder();
    await diagnoseWithNodeView(input({ diagnose: r.diagnose, decision: { kind: 'skipped', note: 'why' } }));
    expect(r.seen[0]!.nodeInspection).to.deep.equal({ notes: ['why'] });
    await diagnoseWithNodeView(input({ diagnose: r.diagnose, decision: { kind: 'off' } }));
    expect(r.seen[1]).to.equal(base);
  });
});

describe('node inspection in the diagnosis: the Node layer', () => {
  const world = clusterWorld();
  const check = buildNetworkCheck('web-to-backend', 'shop', toService);
  const clusterIpDropped = probeOutput('web-to-backend-g1-x-0', 'node-1', recordedDoc('svc-clusterip-dropped'));
  const inspection = (node: string, rules: number) => probeOutput(`web-to-backend-g1-x-n${node}`, node, probeDoc({
    proto: null, mode: 'node', target: {},
    node: nodeInspection({ svc: { ip: WORLD.clusterIP, rules, chains: rules ? ['KUBE-SVC-ABC'] : [], endpoints: rules ? 2 : 0, rejectRules: 0 } }),
  }));
  const diagnose = (outputs: ProbeOutput[], notes?: string[]) =>
    diagnoseFromEvidence(worldEvidence(world), { check, spec: withDefaults(check), targets: { sourcePods: [world.web], destinationService: world.service, destinationPods: world.backends }, outputs, ...(notes ? { nodeInspection: { notes } } : {}) });
  const nodeLayer = (verdict: Verdict) => verdict.layers.find((c) => c.type === 'NodeForwarding')!;

  it('counts missing service rules on the node the path starts from, not on a destination\'s node', () => {
    const atSource = diagnose([clusterIpDropped, inspection('node-1', 0), inspection('node-2', 2)]);
    expect(atSource.reason).to.equal('ServiceProxyMissing');
    expect(atSource.summary).to.include(`no KUBE-SERVICES rule for ${WORLD.clusterIP} on node node-1 (proxy mode iptables)`);
    const atDestination = diagnose([clusterIpDropped, inspection('node-1', 2), inspection('node-2', 0)]);
    expect(atDestination.reason).to.equal('ServiceProxyMissing');
    expect(atDestination.summary).to.not.include('on node node-2');
    expect(nodeLayer(atDestination).message).to.not.include('no KUBE-SERVICES rule');
  });

  it('names the nodes that were not inspected', () => {
    const verdict = diagnose([probeOutput('web-to-backend-g1-x-0', 'node-1', recordedDoc('svc-healthy'))], [NodeViewNote.NotInTime('node-2')]);
    expect(nodeLayer(verdict).message).to.include('node node-2 was not inspected: its inspection did not finish within 10 s of the probe');
  });
});
