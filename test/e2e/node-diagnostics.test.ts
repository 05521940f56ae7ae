// The node-vantage probe next to the pod probe, end to end on the local two-node cluster
// (--node-diagnostics=OnFailure): the operator inspects the nodes a check's path crosses with
// privileged hostNetwork pods of its own, in its own namespace, and the diagnosis names what only the
// node can tell. Each fault is injected for real on the second node (its own network namespace,
// kubelet and kube-proxy) and undone after its test:
//   - net.ipv4.ip_forward=0 on the destination's node        -> Node/IPForwardingDisabled
//   - the Service's KUBE-SVC chain deleted, kube-proxy kept   -> Service/ServiceProxyMissing
//   - nf_conntrack_max below the node's count                 -> Node/ConntrackTableFull
//   - bridge-nf-call-iptables=0 with a same-node backend      -> Node/BridgeNetfilterDisabled
// and the healthy path neither waits for nor reads the inspection, whose pods never outlive the run.
import type { V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { NetworkCheck, NetworkCheckSpec } from '../../operator/api/types.generated.ts';
import type { Manager } from '../../operator/controller/manager.ts';
import { BACKEND_PORTS, TestCluster, runHost, useUndos, waitFor, type Backend } from '../support/cluster.ts';
import { CheckClient, OPERATOR_NAMESPACE, startClusterOperator } from '../support/operator.ts';

describe('node diagnostics end to end on the local cluster', function () {
  this.timeout(300_000);
  let cluster: TestCluster;
  let checks = undefined as unknown as CheckClient; // set in before()
  let manager: Manager | undefined;
  let namespace: string;
  let first: string;
  let second: string;
  /** Backends on node 1 and on node 2. */
  let near: Backend;
  let far: Backend;
  const undos = useUndos();
  let counter = 0;

  const startOperator = async () => { manager = await startClusterOperator(cluster, [namespace], {}, { mode: 'OnFailure', namespaces: [namespace] }); };
  const stopOperator = async () => { await manager?.stop(); manager = undefined; };
  const describeCheck = (check: NetworkCheck) => `${check.status?.result}/${check.status?.failedLayer}/${check.status?.reason}: ${check.status?.summary}`;
  const toService = (source: string, backend: Backend): NetworkCheckSpec =>
    ({ source: { pod: source }, destination: { service: backend.name, port: BACKEND_PORTS.http.service }, timeoutSeconds: 2 });
  const inspectionPods = async (check: string) =>
    (await cluster.core.listNamespacedPod({ namespace: OPERATOR_NAMESPACE, labelSelector: `netcheck.dev/check=${check},netcheck.dev/role=node-inspection` })).items;
  const noInspectionPodLeft = (check: string) => waitFor(`no inspection pod of ${check} left`, async () => (await inspectionPods(check)).length === 0, 30_000);

  const runCheck = async (prefix: string, spec: NetworkCheckSpec): Promise<NetworkCheck> => {
    const name = `${prefix}-${++counter}`;
    await checks.create(name, spec);
    const check = await checks.completedRun(name, undefined, 120_000);
    await noInspectionPodLeft(name);
    return check;
  };
  const nodeLayer = (check: NetworkCheck) => check.status!.conditions!.find((c) => c.type === 'NodeForwarding')!;

  before(async function () {
    cluster = await TestCluster.connect();
    if (cluster.info!.nodes.length < 2) throw new Error('these tests need the second node (NETCHECK_NODES=2, the default)');
    [first, second] = cluster.info!.nodes.map((node) => node.name) as [string, string];
    namespace = await cluster.createNamespace('e2e-nodediag');
    checks = new CheckClient(cluster, namespace);
    [near, far] = await Promise.all([
      cluster.createBackend({ namespace, name: 'near', node: first }),
      cluster.createBackend({ namespace, name: 'far', node: second }),
      cluster.startPod({ namespace, name: 'web', labels: { app: 'web' }, node: first }),
      cluster.startPod({ namespace, name: 'web2', labels: { app: 'web2' }, node: second }),
    ]) as [Backend, Backend, unknown, unknown];
    await startOperator();
  });

  // A fault on node 2 can fail the kubelet's readiness probes there (a full conntrack table drops them too):
  // every test starts with both backends ready again, as the operator's cache sees them.
  beforeEach(async () => {
    await Promise.all([near, far].map((backend) => cluster.waitForEndpoints(namespace, backend.name, 1, 30_000)));
  });

  after(async () => {
    await stopOperator();
    if (namespace) await cluster.deleteNamespace(namespace, { wait: true });
  });

  it('inspects the source and destination nodes with its own privileged pods, and a healthy verdict does not wait for them', async () => {
    const seen = new Map<string, V1Pod>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const pods = await cluster.core.listNamespacedPod({ namespace: OPERATOR_NAMESPACE, labelSelector: 'netcheck.dev/role=node-inspection' }).catch(() => undefined);
        for (const pod of pods?.items ?? []) seen.set(pod.metadata!.name!, pod);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const check = await runCheck('healthy', toService('web', far));
    watching = false;
    await watcher;
    expect(check.status!.result, describeCheck(check)).to.equal('Healthy');
    // OnFailure: the healthy verdict is the pod probe's alone, and says so.
    expect(nodeLayer(check).message).to.include('the nodes are read only for a failing check');

    const pods = [...seen.values()].filter((pod) => pod.metadata?.labels?.['netcheck.dev/check'] === check.metadata!.name);
    expect(pods.map((pod) => pod.spec!.nodeName).sort(), 'one inspection pod on the source node and one on the destination node').to.deep.equal([first, second].sort());
    for (const pod of pods) {
      expect(pod.metadata!.namespace, 'in the operator namespace, never the tenant\'s').to.equal(OPERATOR_NAMESPACE);
      expect(pod.metadata!.labels).to.include({ 'netcheck.dev/check-namespace': namespace, 'netcheck.dev/run': check.status!.lastRun!.id, 'app.kubernetes.io/managed-by': 'netcheck-operator' });
      expect(pod.metadata!.ownerReferences).to.deep.equal([{ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'networkchecks.netcheck.dev', uid: pod.metadata!.ownerReferences![0]!.uid, controller: false, blockOwnerDeletion: false }]);
      expect(pod.spec!.hostNetwork).to.equal(true);
      const container = pod.spec!.containers[0]!;
      expect(container.image, 'the operator\'s image, pinned by digest').to.match(/^docker\.io\/nicolaka\/netshoot:v0\.14@sha256:[0-9a-f]{64}$/);
      expect(container.securityContext!.capabilities).to.deep.equal({ drop: ['ALL'], add: ['NET_RAW', 'NET_ADMIN'] });
      const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
      // The operator's fixed parameters and the Service's ClusterIP, nothing else from the check.
      expect(env).to.deep.equal({ NETCHECK_MODE: 'node', NETCHECK_TIMEOUT: '2', NETCHECK_SERVICE_IP: far.clusterIp });
    }
    // The tenant's namespace holds no hostNetwork pod of this check.
    const tenantPods = await cluster.core.listNamespacedPod({ namespace, labelSelector: `netcheck.dev/check=${check.metadata!.name}` });
    expect(tenantPods.items.filter((pod) => pod.spec?.hostNetwork)).to.deep.equal([]);
  });

  it('IPForwardingDisabled: ip_forward=0 on the destination\'s node, read by its inspection, across an operator restart', async () => {
    undos.push(await cluster.disableIpForwarding({ node: second }));
    const name = `ipforward-${++counter}`;
    await checks.create(name, toService('web', far));
    // Stop the operator while the run is in flight, its inspection pods created: the new one adopts them.
    const running = await waitFor('the run to be recorded and its inspection pods created', async () => {
      const check = await checks.get(name);
      const inflight = check.status?.lastRun?.id && !check.status.lastRun.completionTime;
      return inflight && (await inspectionPods(name)).length === 2 ? check : undefined;
    }, 60_000, 50);
    await stopOperator();
    await startOperator();
    const check = await checks.completedRun(name, undefined, 120_000);
    expect(check.status!.lastRun!.id, 'the same run finished').to.equal(running.status!.lastRun!.id);
    expect(check.status!.history).to.have.length(1);
    expect(check.status!.result, describeCheck(check)).to.equal('Unhealthy');
    expect(check.status!.failedLayer, describeCheck(check)).to.equal('Node');
    expect(check.status!.reason, describeCheck(check)).to.equal('IPForwardingDisabled');
    expect(check.status!.summary).to.include(`net.ipv4.ip_forward=0 on node ${second}, so the node does not route pod traffic`);
    expect(nodeLayer(check)).to.deep.include({ status: 'False', reason: 'IPForwardingDisabled' });
    await noInspectionPodLeft(name);
  });

  it('ServiceProxyMissing with kube-proxy running: only the node\'s rules show the Service\'s chain is gone', async () => {
    undos.push(await cluster.deleteServiceChain(near.clusterIp!, { node: second }));
    const status = await runHost('bash', [cluster.info!.componentScript, 'status', `kube-proxy${cluster.node(second).componentSuffix}`]);
    expect(status.stdout, 'kube-proxy still runs on the node').to.include('running');
    const check = await runCheck('svcchain', toService('web2', near));
    expect(check.status!.result, describeCheck(check)).to.equal('Unhealthy');
    expect(check.status!.failedLayer, describeCheck(check)).to.equal('Service');
    expect(check.status!.reason, describeCheck(check)).to.equal('ServiceProxyMissing');
    expect(check.status!.summary).to.include(`no KUBE-SERVICES rule for ${near.clusterIp} on node ${second} (proxy mode iptables)`);
    expect(nodeLayer(check)).to.deep.include({ status: 'False', reason: 'ServiceProxyMissing' });
  });

  it('ConntrackTableFull: nf_conntrack_max below the second node\'s entry count', async () => {
    undos.push(await cluster.fillConntrackTable({ node: second }));
    const check = await runCheck('conntrack', toService('web2', near));
    expect(check.status!.result, describeCheck(check)).to.equal('Unhealthy');
    expect(check.status!.failedLayer, describeCheck(check)).to.equal('Node');
    expect(check.status!.reason, describeCheck(check)).to.equal('ConntrackTableFull');
    // The probe's DNS query is the first new flow the node drops: the lookup fails, and the node says why.
    expect(check.status!.summary).to.match(new RegExp(`the conntrack table on node ${second} holds \\d+ of \\d+ entries, so new connections \\(DNS queries first\\) are dropped`));
    // Node 1 shares the limit but not the count: its inspection (the destination's node) finds room.
    expect(nodeLayer(check).message).to.not.include(`conntrack table on node ${first}`);
  });

  it('BridgeNetfilterDisabled: bridge-nf-call-iptables=0 on the node of the client and its same-node backend', async () => {
    undos.push(await cluster.disableBridgeNetfilter({ node: second }));
    // Per network namespace: the host (node 1) keeps bridge netfilter on.
    expect((await cluster.runOnNode(first, ['sysctl', '-n', 'net.bridge.bridge-nf-call-iptables'])).stdout.trim()).to.equal('1');
    const check = await runCheck('bridgenf', toService('web2', far));
    expect(check.status!.result, describeCheck(check)).to.equal('Unhealthy');
    expect(check.status!.failedLayer, describeCheck(check)).to.equal('Node');
    expect(check.status!.reason, describeCheck(check)).to.equal('BridgeNetfilterDisabled');
    expect(check.status!.summary).to.include(`net.bridge.bridge-nf-call-iptables=0 on node ${second}, so bridged replies bypass the service NAT`);
  });
});
