// Probe pods never serve traffic, end to end on the local cluster. A cloned probe of a pod behind a
// Service carries that pod's labels, so the Service selects it: its EndpointSlice is watched during
// a run, and the clone may appear there only as not ready and not serving (the readiness gate no
// one sets). A Service that publishes not-ready addresses would serve the clone anyway, so a Clone
// check there is refused naming the Service, runs via: Ephemeral, and runs as a clone once that
// Service is gone. Node probes, which cannot be owned by their check, are owned by the CRD and
// removed when their check is deleted mid-run.
import { ApiextensionsV1Api, Watch, type V1EndpointSlice, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { NetworkCheck } from '../../operator/api/types.generated.ts';
import type { Manager } from '../../operator/controller/manager.ts';
import { ephemeralContainerName } from '../../operator/probe/template.ts';
import { BACKEND_PORTS, TestCluster, waitFor, type Backend } from '../support/cluster.ts';
import { CheckClient, OPERATOR_NAMESPACE, startClusterOperator } from '../support/operator.ts';

interface EndpointSeen { pod: string; ready?: boolean; serving?: boolean }

describe('probe pods never serve traffic (local cluster)', function () {
  this.timeout(300_000);
  let cluster: TestCluster;
  let manager: Manager | undefined;
  let namespace: string;
  let web: Backend;
  let checks: CheckClient;
  let nodeChecks: CheckClient;
  const describe_ = (check: NetworkCheck) => `${check.status?.result}/${check.status?.reason}: ${check.status?.summary}`;
  const condition = (check: NetworkCheck, type: string) => check.status?.conditions?.find((c) => c.type === type);
  // An HTTP check that keeps its probe running for 3 s (the test server's /delay), so a probe pod
  // that became a ready endpoint would stay one long enough for the EndpointSlice to show it.
  const slowHttp = (source: NetworkCheck['spec']['source']): NetworkCheck['spec'] => ({
    source, destination: { service: web.name, port: BACKEND_PORTS.http.service }, protocol: 'HTTP', http: { path: '/delay/3000' }, timeoutSeconds: 8,
  });

  before(async () => {
    cluster = await TestCluster.connect();
    namespace = await cluster.createNamespace('e2e-traffic');
    checks = new CheckClient(cluster, namespace);
    nodeChecks = new CheckClient(cluster, OPERATOR_NAMESPACE);
    web = await cluster.createBackend({ namespace, name: 'web', replicas: 1 });
    manager = await startClusterOperator(cluster, [namespace, OPERATOR_NAMESPACE]);
  });

  after(async () => {
    await manager?.stop();
    for (const name of ['node-run', 'node-gone']) await nodeChecks.custom.deleteNamespacedCustomObject({ group: 'netcheck.dev', version: 'v1alpha1', plural: 'networkchecks', namespace: OPERATOR_NAMESPACE, name }).catch(() => undefined);
    if (namespace) await cluster.deleteNamespace(namespace, { wait: true });
  });

  it('a cloned probe of a pod behind a Service is never a ready or serving endpoint of it', async () => {
    const seen: EndpointSeen[] = [];
    const watch = new Watch(cluster.kubeConfig);
    const request = await watch.watch(`/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`, { labelSelector: `kubernetes.io/service-name=${web.name}` },
      (_type: string, slice: V1EndpointSlice) => {
        for (const endpoint of slice.endpoints ?? []) {
          if (endpoint.targetRef?.kind === 'Pod') seen.push({ pod: endpoint.targetRef.name!, ready: endpoint.conditions?.ready, serving: endpoint.conditions?.serving });
        }
      }, () => undefined);
    try {
      await checks.create('clone', slowHttp({ pod: web.podNames[0]! }));
      const check = await checks.completedRun('clone');
      expect(check.status!.result, describe_(check)).to.equal('Healthy');
      const probePod = check.status!.lastRun!.probePods![0]!;
      const asEndpoint = seen.filter((entry) => entry.pod === probePod);
      // The watch did see the clone: the Service selects it, as the test means it to.
      expect(asEndpoint.length, `EndpointSlice entries for ${probePod}: ${JSON.stringify(seen)}`).to.be.at.least(1);
      expect(asEndpoint.filter((entry) => entry.ready === true || entry.serving === true), 'ready or serving entries of the probe pod').to.deep.equal([]);
      expect(seen.some((entry) => entry.pod === web.podNames[0] && entry.ready === true), 'the real backend stays ready').to.equal(true);
    } finally {
      request.abort();
    }
  });

  it('refuses a clone a publishNotReadyAddresses Service would serve, runs it via: Ephemeral, and as a clone once that Service is gone', async () => {
    await cluster.core.createNamespacedService({ namespace, body: {
      metadata: { name: 'web-peers' },
      spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: web.labels, ports: [{ name: 'http', port: 8080 }] },
    } });
    await checks.create('peers', slowHttp({ pod: web.podNames[0]! }));
    const stalled = await waitFor('peers Stalled', async () => {
      const check = await checks.get('peers');
      return condition(check, 'Stalled')?.status === 'True' ? check : undefined;
    }, 60_000);
    expect(stalled.status!.reason).to.equal('CloneServedByService');
    expect(stalled.status!.summary).to.include(`Service ${namespace}/web-peers`).and.include('publishNotReadyAddresses').and.include('via: Ephemeral');
    const pods = await cluster.core.listNamespacedPod({ namespace, labelSelector: 'netcheck.dev/check=peers' });
    expect(pods.items, 'no probe pod for a refused clone').to.have.length(0);

    await checks.create('peers-ephemeral', { ...slowHttp({ pod: web.podNames[0]!, via: 'Ephemeral' }), http: { path: '/' } });
    const ephemeral = await checks.completedRun('peers-ephemeral');
    expect(ephemeral.status!.result, describe_(ephemeral)).to.equal('Healthy');
    // The ephemeral probe ran in the source pod as the same restricted, capability-less user.
    const source = await cluster.core.readNamespacedPod({ name: web.podNames[0]!, namespace });
    const added = source.spec!.ephemeralContainers!.find((c) => c.name === ephemeralContainerName(ephemeral.status!.lastRun!.id!, 'peers-ephemeral'))!;
    expect(added.securityContext).to.deep.include({ runAsNonRoot: true, runAsUser: 65532, allowPrivilegeEscalation: false });
    expect(added.securityContext!.capabilities).to.deep.equal({ drop: ['ALL'] });

    await cluster.core.deleteNamespacedService({ name: 'web-peers', namespace });
    const recovered = await checks.completedRun('peers');
    expect(recovered.status!.result, describe_(recovered)).to.equal('Healthy');
  });

  it('owns node probes by the CRD, and deletes them when their check is deleted mid-run', async () => {
    const crd = await cluster.kubeConfig.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: 'networkchecks.netcheck.dev' });
    const nodeName = cluster.info!.nodeName;
    const spec: NetworkCheck['spec'] = { source: { node: nodeName }, destination: { service: web.name, namespace, port: BACKEND_PORTS.http.service }, timeoutSeconds: 3 };
    const nodePods = async (check: string): Promise<V1Pod[]> =>
      (await cluster.core.listNamespacedPod({ namespace: OPERATOR_NAMESPACE, labelSelector: `netcheck.dev/check=${check},netcheck.dev/check-namespace=${OPERATOR_NAMESPACE}` })).items;

    await nodeChecks.create('node-run', spec);
    const running = await waitFor('the node probe pod', async () => (await nodePods('node-run'))[0], 60_000, 100);
    expect(running.metadata!.ownerReferences).to.deep.equal([{ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'networkchecks.netcheck.dev', uid: crd.metadata!.uid, controller: false, blockOwnerDeletion: false }]);
    expect(running.spec!.hostNetwork).to.equal(true);
    const done = await nodeChecks.completedRun('node-run');
    expect(done.status!.result, describe_(done)).to.equal('Healthy');
    expect(condition(done, 'NodeForwarding')!.message, 'the node section of the operator\'s own node probe counts').to.include('ip_forward=1');

    await nodeChecks.create('node-gone', { ...spec, timeoutSeconds: 10 });
    await waitFor('the second node probe pod', async () => (await nodePods('node-gone')).length > 0, 60_000, 100);
    await nodeChecks.custom.deleteNamespacedCustomObject({ group: 'netcheck.dev', version: 'v1alpha1', plural: 'networkchecks', namespace: OPERATOR_NAMESPACE, name: 'node-gone' });
    await waitFor('the deleted check\'s node probe to be deleted', async () => (await nodePods('node-gone')).length === 0, 30_000, 250);
  });
});
