// The pod network between the nodes, end to end: the cluster's flannel-style VXLAN overlay
// (test/cluster/overlay.sh) broken for real, and the operator naming it from its own probes.
//   OverlayBroken                 UDP 4789 dropped at the nodes: same-node works, cross-node times out;
//   MTUMismatch                   pods at 1500 over the 1450 overlay, ICMP "fragmentation needed" filtered:
//                                 small packets pass, full-size ones vanish (seed 003 case 2);
//   OverlaySourceAddressMismatch  node 2 encapsulates from a second address, not its InternalIP; the
//                                 nodes accept VXLAN only from InternalIPs (seed 003 case 1).
// Each test asserts result, failedLayer and reason, and the evidence in the summary.
import { expect } from 'chai';
import type { NetworkCheck, NetworkCheckSpec } from '../../operator/api/types.generated.ts';
import type { Manager } from '../../operator/controller/manager.ts';
import { BACKEND_PORTS, TestCluster, useUndos, waitFor } from '../support/cluster.ts';
import { blockOverlay, filterFragmentationNeeded, moveOverlaySource, setPodLinkMtu } from '../support/network-faults.ts';
import { CheckClient, describeCheck, startClusterOperator } from '../support/operator.ts';

/** A second address for node 2, outside the node network (as the DHCP address of seed 003 case 1). */
const STRAY_ADDRESS = '10.241.0.2';

describe('the VXLAN overlay between the nodes, broken for real', function () {
  this.timeout(300_000);
  let cluster: TestCluster;
  let checks = undefined as unknown as CheckClient;
  let manager: Manager | undefined;
  let namespace: string;
  let first: string;
  let second: string;
  let farPod: string;
  let farIp: string;
  const undos = useUndos();

  const runCheck = (prefix: string, spec: NetworkCheckSpec) => checks.run(prefix, spec);
  const toSpread: NetworkCheckSpec = { source: { pod: 'web' }, destination: { service: 'spread', port: BACKEND_PORTS.http.service } };
  const curl = (pod: string, ip: string) => cluster.exec(namespace, pod, ['curl', '-sS', '-o', '/dev/null', '--max-time', '3', `http://${ip}:${BACKEND_PORTS.http.container}/`]);

  before(async function () {
    this.timeout(300_000);
    cluster = await TestCluster.connect();
    const info = cluster.info!;
    if (info.nodes.length < 2 || info.podNetworkMode !== 'vxlan') {
      throw new Error(`these tests need two nodes joined by the VXLAN overlay (nodes: ${info.nodes.length}, NETCHECK_POD_NETWORK=${info.podNetworkMode})`);
    }
    [first, second] = [info.nodes[0].name, info.nodes[1].name];
    namespace = await cluster.createNamespace('e2e-overlay');
    checks = new CheckClient(cluster, namespace);
    const [, far] = await Promise.all([
      cluster.createBackend({ namespace, name: 'near', labels: { app: 'spread', side: 'near' }, node: first, service: false }),
      cluster.createBackend({ namespace, name: 'far', labels: { app: 'spread', side: 'far' }, node: second, service: false }),
      cluster.startPod({ namespace, name: 'web', labels: { app: 'web' }, node: first }),
      cluster.startPod({ namespace, name: 'far-client', labels: { app: 'far-client' }, node: second }),
    ]);
    [farPod, farIp] = [far.podNames[0], far.podIps[0]];
    const service = await cluster.core.createNamespacedService({ namespace, body: {
      metadata: { name: 'spread' },
      spec: { selector: { app: 'spread' }, ports: [{ name: 'http', port: BACKEND_PORTS.http.service, targetPort: 'http' }] },
    } });
    await cluster.waitForEndpoints(namespace, 'spread', 2);
    await cluster.waitForServiceProxied(service.spec!.clusterIP!);
    manager = await startClusterOperator(cluster, [namespace]);
  });

  after(async () => {
    await manager?.stop();
    if (namespace) await cluster.deleteNamespace(namespace, { wait: true });
  });

  it('carries cross-node pod traffic in VXLAN (UDP 4789) through flannel.1, at the overlay MTU', async () => {
    const info = cluster.info!;
    const link = await cluster.runOnNode(first, ['ip', '-d', '-o', 'link', 'show', 'dev', info.vxlan.device]);
    expect(link.stdout).to.match(/vxlan id 1 local 10\.240\.0\.1 dev netcheck0/).and.include(`dstport ${info.vxlan.port}`).and.include(`mtu ${info.vxlan.mtu}`);
    const route = await cluster.runOnNode(first, ['ip', '-o', 'route', 'show', cluster.node(second).podCidr]);
    expect(route.stdout).to.include(`dev ${info.vxlan.device}`).and.include('onlink');
    const webLink = await cluster.inPodNetns(namespace, 'web', ['ip', '-o', 'link', 'show', 'dev', 'eth0']);
    expect(webLink.stdout).to.include(`mtu ${info.vxlan.mtu} `);
    const before = await vxlanPackets(cluster, second);
    expect((await curl('web', farIp)).exitCode).to.equal(0);
    expect(await vxlanPackets(cluster, second)).to.be.greaterThan(before);
    const annotations = (await cluster.core.readNode({ name: second })).metadata?.annotations ?? {};
    expect(annotations).to.include({ 'flannel.alpha.coreos.com/backend-type': 'vxlan', 'flannel.alpha.coreos.com/public-ip': cluster.node(second).ip });
  });

  it('OverlayBroken: UDP 4789 dropped between the nodes; same-node answers, cross-node times out', async () => {
    undos.push(await blockOverlay(cluster));
    expect((await curl('web', farIp)).exitCode, 'cross-node is broken').to.equal(28);
    const check = await runCheck('overlay', toSpread);
    expect(check.status!.result, describeCheck(check)).to.equal('Unhealthy');
    expect(check.status!.failedLayer, describeCheck(check)).to.equal('CNI');
    expect(check.status!.reason, describeCheck(check)).to.equal('OverlayBroken');
    expect(check.status!.summary).to.include(farIp).and.include(second);
  });

  it('MTUMismatch: pods at 1500 over the 1450 overlay, no clamping and no ICMP: large payloads stall', async () => {
    const info = cluster.info!;
    undos.push(await setPodLinkMtu(cluster, namespace, 'web', 1500));
    undos.push(await setPodLinkMtu(cluster, namespace, farPod, 1500));
    undos.push(await filterFragmentationNeeded(cluster));
    // The handshake (small segments) works; a full-size, unfragmentable packet does not get through.
    expect((await curl('web', farIp)).exitCode).to.equal(0);
    const ping = (size: number) => cluster.exec(namespace, 'web', ['ping', '-c', '1', '-W', '1', '-M', 'do', '-s', String(size), farIp]);
    expect((await ping(info.vxlan.mtu - 28)).exitCode).to.equal(0);
    expect((await ping(1500 - 28)).exitCode).to.not.equal(0);
    // The probe runs inside web (an ephemeral container), whose link is at 1500: a new probe pod would get
    // the overlay's MTU from the CNI and never meet the fault.
    const check = await runCheck('mtu', { source: { pod: 'web', via: 'Ephemeral' }, destination: { pod: farPod, port: BACKEND_PORTS.http.container } });
    expect(check.status!.result, describeCheck(check)).to.equal('Unhealthy');
    expect(check.status!.failedLayer, describeCheck(check)).to.equal('MTU');
    expect(check.status!.reason, describeCheck(check)).to.equal('MTUMismatch');
    expect(check.status!.summary).to.include(String(info.vxlan.mtu)).and.include('1500');
  });

  it('OverlaySourceAddressMismatch: node 2 encapsulates from a stray address; only its pods fail', async () => {
    undos.push(await moveOverlaySource(cluster, second, STRAY_ADDRESS));
    expect((await curl('web', farIp)).exitCode, 'node 1 -> node 2 is broken').to.not.equal(0);
    expect((await curl('far-client', farIp)).exitCode, 'node 2 -> node 2 still works').to.equal(0);
    const check = await runCheck('vtep', toSpread);
    expect(check.status!.result, describeCheck(check)).to.equal('Unhealthy');
    expect(check.status!.failedLayer, describeCheck(check)).to.equal('CNI');
    expect(check.status!.reason, describeCheck(check)).to.equal('OverlaySourceAddressMismatch');
    expect(check.status!.summary).to.include(second).and.include(STRAY_ADDRESS).and.include(cluster.node(second).ip);
  });

  it('is healthy again once the overlay is restored', async function () {
    await waitFor('cross-node traffic to flow again', async () => (await curl('web', farIp)).exitCode === 0, 30_000, 500);
    const check = await runCheck('restored', toSpread);
    expect(check.status!.result, describeCheck(check)).to.equal('Healthy');
  });
});

/** Packets node `node` received on its VXLAN device (the decapsulated ones). */
async function vxlanPackets(cluster: TestCluster, node: string): Promise<number> {
  // netlink, not /sys/class/net (sysfs shows the host's namespace, whatever nsenter --net entered).
  const stats = await cluster.runOnNode(node, ['ip', '-j', '-s', 'link', 'show', 'dev', cluster.info!.vxlan.device]);
  return Number((JSON.parse(stats.stdout) as { stats64: { rx: { packets: number } } }[])[0].stats64.rx.packets);
}
