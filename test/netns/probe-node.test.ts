// The probe program's node mode, run inside the router namespace standing in for a node: forwarding
// disabled (ip_forward=0), and kube-proxy-style iptables rules for a Service IP (a real DNAT path).
import { expect } from 'chai';
import {
  NetnsLab,
  runProbe,
  useRoutedLab,
  type RoutedTopology,
} from '../support/netns.ts';
import type { NodeResult } from '../../operator/probe/result.ts';

const SERVICE_IP = '10.250.96.10';
const EMPTY_SERVICE_IP = '10.250.96.11';
const SERVICE_PORT = 80;
const BACKEND_PORT = 8080;
const SVC_CHAIN = 'KUBE-SVC-NCTWEB0000000000';
const SEP_CHAIN = 'KUBE-SEP-NCTWEB0000000001';

function nodeOf(section: unknown): NodeResult {
  expect(section, 'node section').to.be.an('object');
  return section as NodeResult;
}

describe('probe program: node mode and ip_forward (netns)', function () {
  let lab: NetnsLab;
  let net: RoutedTopology;

  useRoutedLab(async (newLab, newNet) => {
    lab = newLab;
    net = newNet;
    net.client.setResolvConf(`nameserver ${net.serverIp}\n`);
    net.router.setResolvConf(`nameserver ${net.serverIp}\n`);
    await net.server.startTcpListener(net.serverIp, BACKEND_PORT);
    // A node routes the service range somewhere (usually its default route); without a route,
    // locally generated packets to a ClusterIP fail before the nat OUTPUT chain can DNAT them.
    await net.router.addRoute('10.250.96.0/24', { dev: 'r1' });
    await installKubeProxyLikeRules();
  });

  /**
   * What kube-proxy (iptables mode) programs for one Service with one endpoint, and a REJECT for a
   * Service without endpoints, in the router ("node") namespace.
   */
  async function installKubeProxyLikeRules(): Promise<void> {
    const nat = (args: string[]) => net.router.iptables(['-t', 'nat', ...args]);
    await nat(['-N', 'KUBE-SERVICES']);
    await nat(['-N', SVC_CHAIN]);
    await nat(['-N', SEP_CHAIN]);
    await nat(['-A', 'PREROUTING', '-j', 'KUBE-SERVICES']);
    await nat(['-A', 'OUTPUT', '-j', 'KUBE-SERVICES']);
    await nat(['-A', 'KUBE-SERVICES', '-d', `${SERVICE_IP}/32`, '-p', 'tcp', '-m', 'comment', '--comment', 'default/web cluster IP',
      '-m', 'tcp', '--dport', String(SERVICE_PORT), '-j', SVC_CHAIN]);
    await nat(['-A', SVC_CHAIN, '-j', SEP_CHAIN]);
    await nat(['-A', SEP_CHAIN, '-p', 'tcp', '-j', 'DNAT', '--to-destination', `${net.serverIp}:${BACKEND_PORT}`]);
    await net.router.iptables(['-N', 'KUBE-SERVICES']);
    await net.router.iptables(['-A', 'FORWARD', '-j', 'KUBE-SERVICES']);
    await net.router.iptables(['-A', 'OUTPUT', '-j', 'KUBE-SERVICES']);
    await net.router.iptables(['-A', 'KUBE-SERVICES', '-d', `${EMPTY_SERVICE_IP}/32`, '-p', 'tcp', '-m', 'comment', '--comment',
      'default/empty has no endpoints', '-m', 'tcp', '--dport', String(SERVICE_PORT), '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable']);
  }

  const podProbe = (serviceIp: string) =>
    runProbe(net.client, { NETCHECK_PROTOCOL: 'TCP', NETCHECK_TARGET_IP: serviceIp, NETCHECK_PORT: String(SERVICE_PORT), NETCHECK_TIMEOUT: '2' });

  const nodeProbe = (serviceIp: string) =>
    runProbe(net.router, {
      NETCHECK_MODE: 'node',
      NETCHECK_PROTOCOL: 'TCP',
      NETCHECK_TARGET_IP: serviceIp,
      NETCHECK_PORT: String(SERVICE_PORT),
      NETCHECK_TIMEOUT: '2',
    });

  it('forwarding on: the Service IP is DNATed to the backend; node mode finds the KUBE-SVC rule and its endpoint', async () => {
    const pod = await podProbe(SERVICE_IP);
    expect(pod.result.connect).to.deep.include({ status: 'ok', ip: SERVICE_IP });
    expect(pod.result.node, 'pod mode has no node section').to.equal(undefined);

    const { result } = await nodeProbe(SERVICE_IP);
    expect(result.mode).to.equal('node');
    const node = nodeOf(result.node);
    expect(node).to.deep.include({ ipForward: 1, proxyMode: 'iptables' });
    expect(node.svc).to.deep.equal({ ip: SERVICE_IP, rules: 1, chains: [SVC_CHAIN], endpoints: 1, rejectRules: 0 });
  });

  it('ip_forward=0 on the router: the pod\'s connect times out, node mode reports ipForward 0 and still connects locally', async () => {
    await net.router.sysctl('net.ipv4.ip_forward', '0');
    const pod = await podProbe(SERVICE_IP);
    expect(pod.result.connect).to.deep.include({ status: 'timeout' });

    const { result } = await nodeProbe(SERVICE_IP);
    const node = nodeOf(result.node);
    expect(node.ipForward).to.equal(0);
    // From the node itself nothing is forwarded, so the Service answers: the decisive comparison.
    expect(result.connect).to.deep.include({ status: 'ok' });
  });

  it('a Service without endpoints: kube-proxy\'s REJECT makes the pod see refused; node mode counts the reject rule', async () => {
    const pod = await podProbe(EMPTY_SERVICE_IP);
    expect(pod.result.connect).to.deep.include({ status: 'refused' });
    const nodeRun = await nodeProbe(EMPTY_SERVICE_IP);
    expect(nodeRun.result.connect).to.deep.include({ status: 'refused' });
    const node = nodeOf(nodeRun.result.node);
    expect(node.svc).to.deep.equal({ ip: EMPTY_SERVICE_IP, rules: 0, chains: [], endpoints: 0, rejectRules: 1 });
  });

  it('reads bridge-nf-call-iptables and conntrack fill as the node namespace sees them', async () => {
    const expected = async (file: string): Promise<number | null> => {
      const read = await net.router.exec('cat', [file]);
      return read.code === 0 ? Number(read.stdout.trim()) : null;
    };
    const node = nodeOf((await runProbe(net.router, { NETCHECK_MODE: 'node' })).result.node);
    expect(node.bridgeNfCallIptables).to.equal(await expected('/proc/sys/net/bridge/bridge-nf-call-iptables'));
    expect(node.conntrackMax).to.equal(await expected('/proc/sys/net/netfilter/nf_conntrack_max'));
    expect(node.conntrackCount).to.be.a('number');
    expect(node.svc, 'no service IP given').to.equal(undefined);
    expect(node.proxyMode).to.equal('iptables');
  });

  it('a namespace without kube-proxy rules reports proxyMode none', async () => {
    const node = nodeOf((await runProbe(net.server, { NETCHECK_MODE: 'node', NETCHECK_SERVICE_IP: SERVICE_IP })).result.node);
    expect(node.proxyMode).to.equal('none');
    expect(node.svc).to.deep.equal({ ip: SERVICE_IP, rules: 0, chains: [], endpoints: 0, rejectRules: 0 });
  });
});
