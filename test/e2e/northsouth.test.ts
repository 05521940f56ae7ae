// North-south end to end: the paths into and out of the cluster, each fault injected for real.
//   LoadBalancerPending           a type: LoadBalancer Service on a cluster with no load-balancer controller
//                                 (none runs here, as on bare metal without MetalLB): status.loadBalancer stays empty;
//   IngressControllerUnavailable  an Ingress whose class has no running controller pods; and the healthy case
//                                 with a minimal controller (test/support/ingress-controller.ts) that routes;
//   EgressBlocked                 an "outside" host (a network namespace of this machine, 198.18.0.2), blocked
//                                 by an egress NetworkPolicy, then by a missing route on the node.
// A pending load balancer and a missing ingress controller do not stop traffic inside the cluster: the
// operator reports them as warnings (result Healthy, the reason says what is wrong, the NorthSouthReady
// condition is False with the evidence). Egress that fails is a failure.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { NetworkCheck, NetworkCheckSpec } from '../../operator/api/types.generated.ts';
import type { Manager } from '../../operator/controller/manager.ts';
import { BACKEND_PORTS, TestCluster, useUndos, waitFor } from '../support/cluster.ts';
import { CONTROLLER_NAME, CONTROLLER_PORT, createIngress, createIngressController } from '../support/ingress-controller.ts';
import { createOutsideHost, type OutsideHost } from '../support/network-faults.ts';
import { CheckClient, describeCheck, startClusterOperator } from '../support/operator.ts';

describe('north-south paths, broken for real', function () {
  this.timeout(300_000);
  let cluster: TestCluster;
  let checks = undefined as unknown as CheckClient;
  let manager: Manager | undefined;
  let namespace: string;
  let outside: OutsideHost | undefined;
  const undos = useUndos();

  const runCheck = (prefix: string, spec: NetworkCheckSpec) => checks.run(prefix, spec);
  const condition = (check: NetworkCheck, type: string) => check.status?.conditions?.find((c) => c.type === type);

  before(async function () {
    this.timeout(300_000);
    cluster = await TestCluster.connect();
    namespace = await cluster.createNamespace('e2e-ns');
    checks = new CheckClient(cluster, namespace);
    await Promise.all([
      cluster.createBackend({ namespace, name: 'shop' }),
      cluster.startPod({ namespace, name: 'web', labels: { app: 'web' } }),
    ]);
    manager = await startClusterOperator(cluster, [namespace]);
  });

  after(async () => {
    await manager?.stop();
    await outside?.undo();
    if (namespace) await cluster.deleteNamespace(namespace, { wait: true });
  });

  it('LoadBalancerPending: a LoadBalancer Service that no controller provisions', async () => {
    await cluster.core.createNamespacedService({ namespace, body: {
      metadata: { name: 'shop-lb' },
      spec: { type: 'LoadBalancer', selector: { app: 'shop' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    } });
    const lb = await cluster.core.readNamespacedService({ name: 'shop-lb', namespace });
    await cluster.waitForServiceProxied(lb.spec!.clusterIP!);
    const check = await runCheck('lb', { source: { pod: 'web' }, destination: { service: 'shop-lb', port: 80 } });
    expect(check.status!.result, describeCheck(check)).to.equal('Healthy');
    expect(check.status!.failedLayer, describeCheck(check)).to.equal(undefined);
    expect(check.status!.reason, describeCheck(check)).to.equal('LoadBalancerPending');
    expect(check.status!.summary).to.include(`${namespace}/shop-lb`).and.include('status.loadBalancer is empty');
    const northSouth = condition(check, 'NorthSouthReady');
    expect(northSouth?.status).to.equal('False');
    expect(northSouth?.reason).to.equal('LoadBalancerPending');
  });

  it('IngressControllerUnavailable, then healthy once a controller of the class runs and routes', async () => {
    await createIngress(cluster, namespace, 'shop', 'shop.example.test', 'shop', BACKEND_PORTS.http.service);
    await createIngressController(cluster, namespace);
    // The minimal controller reads the Ingress and routes to the Service: it is ready once it proxies.
    await cluster.waitForDeploymentReady(namespace, CONTROLLER_NAME, 90_000);
    const [controller] = (await cluster.core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/name=ingress-nginx' })).items;
    const routed = await cluster.exec(namespace, 'web', ['curl', '-sS', '-H', 'Host: shop.example.test', `http://${controller.status!.podIP}:${CONTROLLER_PORT}/`]);
    expect(JSON.parse(routed.stdout).hostname, 'the controller routes to the shop backend').to.match(/^shop-/);
    const healthy = await runCheck('ingress', { source: { pod: 'web' }, destination: { service: 'shop', port: BACKEND_PORTS.http.service } });
    expect(healthy.status!.result, describeCheck(healthy)).to.equal('Healthy');
    expect(healthy.status!.reason, describeCheck(healthy)).to.equal('Reachable');
    expect(condition(healthy, 'NorthSouthReady')?.status, describeCheck(healthy)).to.equal('True');

    // The fault: the class's controller has no pods any more.
    await cluster.apps.patchNamespacedDeploymentScale({ name: CONTROLLER_NAME, namespace, body: { spec: { replicas: 0 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await waitFor('the controller pods to go', async () => (await cluster.core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/name=ingress-nginx' })).items.length === 0, 60_000);
    const down = await runCheck('ingress', { source: { pod: 'web' }, destination: { service: 'shop', port: BACKEND_PORTS.http.service } });
    expect(down.status!.result, describeCheck(down)).to.equal('Healthy');
    expect(down.status!.failedLayer, describeCheck(down)).to.equal(undefined);
    expect(down.status!.reason, describeCheck(down)).to.equal('IngressControllerUnavailable');
    expect(down.status!.summary).to.include(`${namespace}/shop`).and.include('no ingress controller pods');
    expect(condition(down, 'NorthSouthReady')?.status).to.equal('False');
  });

  describe('EgressBlocked: an outside host on this machine', () => {
    const toOutside = (): NetworkCheckSpec => ({ source: { pod: 'web', via: 'Ephemeral' }, destination: { host: outside!.address, port: outside!.port }, protocol: 'TCP' });

    before(async () => { outside = await createOutsideHost(cluster); });

    it('reaches it while nothing blocks it', async () => {
      const check = await runCheck('egress', toOutside());
      expect(check.status!.result, describeCheck(check)).to.equal('Healthy');
      expect(condition(check, 'NorthSouthReady')?.status, describeCheck(check)).to.equal('True');
    });

    it('names the egress policy that blocks it', async () => {
      undos.push(await cluster.createNetworkPolicy(namespace, {
        metadata: { name: 'web-egress-in-cluster-only' },
        spec: {
          podSelector: { matchLabels: { app: 'web' } },
          policyTypes: ['Egress'],
          egress: [{ to: [{ ipBlock: { cidr: cluster.info!.clusterCidr } }, { namespaceSelector: {} }] }],
        },
      }));
      const check = await runCheck('egress', toOutside());
      expect(check.status!.result, describeCheck(check)).to.equal('Unhealthy');
      expect(check.status!.failedLayer, describeCheck(check)).to.equal('NetworkPolicy');
      expect(check.status!.reason, describeCheck(check)).to.equal('EgressBlocked');
      expect(check.status!.summary).to.include(outside!.address).and.include('web-egress-in-cluster-only');
    });

    it('names the lost traffic when the node has no route to it', async () => {
      undos.push(await outside!.removeRoute());
      const check = await runCheck('egress', toOutside());
      expect(check.status!.result, describeCheck(check)).to.equal('Unhealthy');
      expect(check.status!.failedLayer, describeCheck(check)).to.equal('NorthSouth');
      expect(check.status!.reason, describeCheck(check)).to.equal('EgressBlocked');
      expect(check.status!.summary).to.include(outside!.address).and.include('no NetworkPolicy denies it');
    });
  });
});
