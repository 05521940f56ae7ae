// The probe program's MTU probe against a router whose far side has a lowered MTU: once with ICMP
// frag-needed coming back (path MTU discovery works) and once with it dropped (a black hole).
import { expect } from 'chai';
import {
  NetnsLab,
  runProbe,
  useRoutedLab,
  type RoutedTopology,
} from '../support/netns.ts';
import type { MtuResult } from '../../operator/probe/result.ts';

const LOWERED_MTU = 1400;
const PORT = 8080;

function mtuOf(section: unknown): MtuResult {
  expect(section, 'mtu section').to.be.an('object');
  expect((section as { status: string }).status).to.not.equal('skipped');
  return section as MtuResult;
}

describe('probe program: MTU (netns)', function () {
  let lab: NetnsLab;
  let net: RoutedTopology;

  useRoutedLab(async (newLab, newNet) => {
    lab = newLab;
    net = newNet;
    net.client.setResolvConf(`nameserver ${net.serverIp}\n`);
    await net.server.startTcpListener(net.serverIp, PORT);
  });

  const probe = () =>
    runProbe(net.client, {
      NETCHECK_PROTOCOL: 'TCP',
      NETCHECK_TARGET_IP: net.serverIp,
      NETCHECK_PORT: String(PORT),
      NETCHECK_TIMEOUT: '2',
      NETCHECK_MTU_CHECK: '1',
    });

  /** The middle hop: the router's server-side link (and the server) get a smaller MTU. */
  async function lowerMiddleHop(): Promise<void> {
    await net.router.setMtu('r1', LOWERED_MTU);
    await net.server.setMtu('eth0', LOWERED_MTU);
  }

  it('a clean 1500-byte path: status ok, path MTU = local MTU', async () => {
    const { result } = await probe();
    expect(mtuOf(result.mtu)).to.deep.include({
      status: 'ok', iface: 'eth0', local: 1500, path: 1500, fragNeeded: false, largestOk: 1500, smallestLost: null,
    });
  });

  it('MTU lowered on the middle hop WITH ICMP frag-needed: the path MTU is found from the router\'s ICMP', async () => {
    await lowerMiddleHop();
    const { result } = await probe();
    const mtu = mtuOf(result.mtu);
    expect(mtu).to.deep.include({
      status: 'fragNeeded', local: 1500, path: LOWERED_MTU, fragNeeded: true, largestOk: LOWERED_MTU, smallestLost: null,
    });
    expect(mtu.pings, 'frag-needed names the MTU: no bisection needed').to.be.at.most(4);
  });

  it('MTU lowered on the middle hop WITHOUT ICMP (dropped): large packets vanish, a black hole above the path MTU', async () => {
    await lowerMiddleHop();
    // The router's own frag-needed messages leave through OUTPUT: drop them there.
    await net.router.iptables(['-A', 'OUTPUT', '-p', 'icmp', '--icmp-type', 'fragmentation-needed', '-j', 'DROP']);
    const { result } = await probe();
    const mtu = mtuOf(result.mtu);
    expect(mtu).to.deep.include({
      status: 'blackhole', local: 1500, path: LOWERED_MTU, fragNeeded: false, largestOk: LOWERED_MTU, smallestLost: LOWERED_MTU + 1,
    });
    // The handshake is small, so the TCP connect still succeeds: only big packets die.
    expect(result.connect).to.deep.include({ status: 'ok' });
  });
});
