// The probe program's TCP/UDP connect classifier against real faults in network namespaces:
// client -> router -> server, faults injected with iptables and routes in the router or server.
import { expect } from 'chai';
import {
  buildRoutedTopology,
  NetnsLab,
  runProbe,
  useRoutedLab,
  type RoutedTopology,
} from '../support/netns.ts';
import { PROBE_MAX_ENDPOINTS, PROBE_RESULT_MAX_BYTES, type ConnectResult, type EndpointsResult } from '../../operator/probe/result.ts';

const PORT = 8080;
const TIMEOUT_S = 2;

function connectOf(section: unknown): ConnectResult {
  expect(section, 'connect section').to.be.an('object');
  expect((section as { status: string }).status).to.not.equal('skipped');
  return section as ConnectResult;
}

describe('probe program: connect (netns)', function () {
  let lab: NetnsLab;
  let net: RoutedTopology;

  useRoutedLab(async (newLab, newNet) => {
    lab = newLab;
    net = newNet;
    net.client.setResolvConf('nameserver 10.250.2.53\n');
  });

  function tcpEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      NETCHECK_PROTOCOL: 'TCP',
      NETCHECK_TARGET_IP: net.serverIp,
      NETCHECK_PORT: String(PORT),
      NETCHECK_TIMEOUT: String(TIMEOUT_S),
      ...extra,
    };
  }

  it('healthy TCP: connects through the router, with latency and the resolv.conf it saw', async () => {
    await net.server.startTcpListener(net.serverIp, PORT);
    const { run, result } = await runProbe(net.client, tcpEnv());
    expect(run.exitCode).to.equal(0);
    expect(result.status).to.equal('done');
    const connect = connectOf(result.connect);
    expect(connect).to.include({ proto: 'TCP', ip: net.serverIp, port: PORT, status: 'ok' });
    expect(connect.ms).to.be.within(0, 1000);
    expect(result.resolv?.ns).to.deep.equal(['10.250.2.53']);
    expect(result.errors).to.deep.equal([]);
    expect(result.dns, 'no DNS for an IP destination').to.equal(undefined);
  });

  it('refused: no listener on the port gives refused (RST), fast', async () => {
    const { result } = await runProbe(net.client, tcpEnv());
    const connect = connectOf(result.connect);
    expect(connect.status).to.equal('refused');
    expect(connect.err).to.equal('ECONNREFUSED');
    expect(connect.ms).to.be.below(1000);
  });

  it('dropped SYN (iptables DROP in the server) gives timeout after the probe timeout', async () => {
    await net.server.startTcpListener(net.serverIp, PORT);
    await net.server.iptables(['-A', 'INPUT', '-p', 'tcp', '--dport', String(PORT), '-j', 'DROP']);
    const { result } = await runProbe(net.client, tcpEnv());
    const connect = connectOf(result.connect);
    expect(connect.status).to.equal('timeout');
    expect(connect.ms).to.be.within(TIMEOUT_S * 1000 - 100, TIMEOUT_S * 1000 + 1500);
  });

  it('dropped SYN in the router (FORWARD DROP) gives timeout too', async () => {
    await net.server.startTcpListener(net.serverIp, PORT);
    await net.router.iptables(['-A', 'FORWARD', '-p', 'tcp', '--dport', String(PORT), '-j', 'DROP']);
    const { result } = await runProbe(net.client, tcpEnv());
    expect(connectOf(result.connect).status).to.equal('timeout');
  });

  it('ICMP host unreachable from the router (REJECT) gives unreachable, well before the timeout', async () => {
    // Linux (6.x) takes the first ICMP unreachable for a SYN as a soft error and gives up at the
    // answer to the first retransmission, about 1 s (the initial RTO) after the connect started.
    const timeoutS = 4;
    await net.server.startTcpListener(net.serverIp, PORT);
    await net.router.iptables(['-A', 'FORWARD', '-p', 'tcp', '--dport', String(PORT), '-j', 'REJECT', '--reject-with', 'icmp-host-unreachable']);
    const { result } = await runProbe(net.client, tcpEnv({ NETCHECK_TIMEOUT: String(timeoutS) }));
    const connect = connectOf(result.connect);
    expect(connect.status).to.equal('unreachable');
    expect(connect.err).to.equal('EHOSTUNREACH');
    expect(connect.ms).to.be.below(2500);
  });

  it('no route on the client gives unreachable (ENETUNREACH) without sending anything', async () => {
    await net.client.deleteRoute('default');
    const { result } = await runProbe(net.client, tcpEnv());
    const connect = connectOf(result.connect);
    expect(connect.status).to.equal('unreachable');
    expect(connect.err).to.equal('ENETUNREACH');
  });

  it('endpoints: each backend is classified on its own (ok, refused, timeout), input order kept', async () => {
    await net.server.addAddress('eth0', '10.250.2.3/24');
    await net.server.addAddress('eth0', '10.250.2.4/24');
    await net.server.startTcpListener(net.serverIp, PORT);
    await net.server.iptables(['-A', 'INPUT', '-d', '10.250.2.4', '-p', 'tcp', '-j', 'DROP']);
    const { result } = await runProbe(
      net.client,
      tcpEnv({ NETCHECK_ENDPOINTS: `${net.serverIp}:${PORT} 10.250.2.3:${PORT} 10.250.2.4:${PORT}` }),
    );
    const endpoints = result.endpoints as EndpointsResult;
    expect(endpoints.total).to.equal(3);
    expect(endpoints.ok).to.equal(1);
    expect(endpoints.items.map((e) => [e.ip, e.status])).to.deep.equal([
      [net.serverIp, 'ok'],
      ['10.250.2.3', 'refused'],
      ['10.250.2.4', 'timeout'],
    ]);
  });

  it('64 endpoints overflow 4096 bytes: the document is truncated (failed endpoints kept), the log has them all', async () => {
    await net.server.startTcpListener(net.serverIp, PORT);
    const endpoints = [`${net.serverIp}:${PORT}`];
    for (let port = 9001; endpoints.length < PROBE_MAX_ENDPOINTS; port++) endpoints.push(`${net.serverIp}:${port}`);
    const { run, result } = await runProbe(net.client, tcpEnv({ NETCHECK_ENDPOINTS: endpoints.join(' ') }));
    expect(Buffer.byteLength(run.resultText)).to.be.at.most(PROBE_RESULT_MAX_BYTES);
    expect(result.truncated).to.equal(true);
    const summary = result.endpoints as EndpointsResult;
    expect(summary).to.include({ total: 64, ok: 1 });
    expect(summary.items.length).to.be.within(1, 32);
    expect(summary.items.every((e) => e.status === 'refused'), 'failed endpoints come first').to.equal(true);
    const full = JSON.parse(run.stdout.trim().split('\n')[0]) as { truncated: boolean; endpoints: EndpointsResult };
    expect(full.truncated).to.equal(false);
    expect(full.endpoints.items).to.have.length(64);
    expect(full.endpoints.items[0]).to.include({ ip: net.serverIp, port: PORT, status: 'ok' });
  });

  it('UDP: an echoing server gives ok, a closed port gives refused (ICMP port unreachable), a DROP gives noReply', async () => {
    await net.server.startUdpEcho(net.serverIp, 5353);
    await net.server.iptables(['-A', 'INPUT', '-p', 'udp', '--dport', '5355', '-j', 'DROP']);
    const udp = (port: number) =>
      runProbe(net.client, { NETCHECK_PROTOCOL: 'UDP', NETCHECK_TARGET_IP: net.serverIp, NETCHECK_PORT: String(port), NETCHECK_TIMEOUT: String(TIMEOUT_S) });
    const [echo, closed, dropped] = await Promise.all([udp(5353), udp(5354), udp(5355)]);
    expect(connectOf(echo.result.connect)).to.include({ proto: 'UDP', status: 'ok' });
    expect(connectOf(closed.result.connect)).to.include({ status: 'refused', err: 'ECONNREFUSED' });
    expect(connectOf(dropped.result.connect)).to.include({ status: 'noReply' });
  });

  it('IPv6: connect, [v6]:port endpoints, ping and path MTU (with frag-needed as ICMPv6 packet-too-big)', async () => {
    const lab6 = new NetnsLab(); // its own lab: the beforeEach topology is IPv4 only
    try {
      const net6 = await buildRoutedTopology(lab6, { ipv6: true });
      net6.client.setResolvConf(`nameserver ${net6.serverIp6}\n`);
      await net6.server.startTcpListener(net6.serverIp6, PORT);
      await net6.router.setMtu('r1', 1400);
      await net6.server.setMtu('eth0', 1400);
      const { result } = await runProbe(net6.client, {
        NETCHECK_PROTOCOL: 'TCP',
        NETCHECK_TARGET_IP: net6.serverIp6,
        NETCHECK_PORT: String(PORT),
        NETCHECK_TIMEOUT: String(TIMEOUT_S),
        NETCHECK_ENDPOINTS: `[${net6.serverIp6}]:${PORT} [${net6.serverIp6}]:${PORT + 1}`,
        NETCHECK_PING: '1',
        NETCHECK_MTU_CHECK: '1',
      });
      expect(result.resolv?.ns).to.deep.equal([net6.serverIp6]);
      expect(connectOf(result.connect)).to.include({ ip: net6.serverIp6, status: 'ok' });
      expect((result.endpoints as EndpointsResult).items.map((e) => e.status)).to.deep.equal(['ok', 'refused']);
      expect(result.icmp).to.deep.include({ status: 'ok', received: 3 });
      expect(result.mtu).to.deep.include({ status: 'fragNeeded', local: 1500, path: 1400, fragNeeded: true });
    } finally {
      await lab6.cleanup();
    }
  });

  it('ICMP ping: replies give ok with rtt; a DROP of echo requests gives 100% loss', async () => {
    const ping = () =>
      runProbe(net.client, { NETCHECK_PROTOCOL: 'ICMP', NETCHECK_TARGET_IP: net.serverIp, NETCHECK_TIMEOUT: String(TIMEOUT_S) });
    const healthy = await ping();
    expect(healthy.result.icmp).to.deep.include({ status: 'ok', sent: 3, received: 3, lossPct: 0 });
    expect((healthy.result.icmp as { rtt: { avg: number } }).rtt.avg).to.be.above(0);
    await net.server.iptables(['-A', 'INPUT', '-p', 'icmp', '--icmp-type', 'echo-request', '-j', 'DROP']);
    const dropped = await ping();
    expect(dropped.result.icmp).to.deep.include({ status: 'loss', received: 0, lossPct: 100, rtt: null });
  });
});
