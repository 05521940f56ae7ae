// Real faults injected in network namespaces, captured with tcpdump (argv from the operator's
// builder), then analysed. Needs root, tcpdump, socat, dig, dnsmasq, iptables, python3.
// With NETCHECK_RECORD_PCAP_FIXTURES=1 the captures are also written to test/fixtures/pcap/.

import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyzeCapture, attributeHop, summarizeCapture } from '../../operator/capture/analyze.ts';
import type { CaptureAnalysis, CaptureTarget } from '../../operator/capture/analyze.ts';
import { LinkType, readPcap } from '../../operator/capture/pcap.ts';
import { RoutedTopology, run, sleep, FIXTURE_DIR } from './capture-topology.ts';

const RECORD = process.env.NETCHECK_RECORD_PCAP_FIXTURES === '1';
const PORT = 8080;

async function record(name: string, bytes: Uint8Array): Promise<void> {
  if (!RECORD) return;
  expect(bytes.byteLength, `${name} must stay a small fixture`).to.be.below(20 * 1024);
  await writeFile(new URL(name, FIXTURE_DIR), bytes);
}

/** Counts packets matching a tcpdump filter in a file: an independent check of our decoder. */
async function tcpdumpCount(path: string, filter: string): Promise<number> {
  const result = await run(['tcpdump', '-nn', '-r', path, '--', filter]);
  return result.stdout.split('\n').filter((line) => line.trim().length > 0).length;
}

function targetFlows(analysis: CaptureAnalysis) {
  return analysis.tcpFlows.filter((flow) => flow.matchesTarget);
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

before(function () {
  if (process.getuid?.() !== 0) throw new Error('the netns capture tests need root (ip netns, iptables, tcpdump)');
});

describe('capture analysis of real faults (netns)', function () {
  describe('TCP connection faults', function () {
    let topology: RoutedTopology;
    // One listening port per test: a previous test's half-open connection keeps retransmitting
    // (SYN-ACKs for up to a minute) and must not show up in the next test's target flows.
    const PORTS = { synDrop: 8080, refused: 8081, healthy: 8082, synAckDrop: 8083, routerSynDrop: 8084, serverSilent: 8085, timed: 8086 };
    before(async function () {
      topology = await RoutedTopology.create();
      for (const [name, port] of Object.entries(PORTS)) if (name !== 'refused') await topology.tcpSink(port);
    });
    after(async function () {
      await topology?.destroy();
    });
    afterEach(async function () {
      await topology.iptables(topology.server, ['-F']);
      await topology.iptables(topology.router, ['-F']);
    });

    const target = (port: number): CaptureTarget => ({ serverIps: [topology.serverIp], serverPort: port, transport: 'tcp' });
    const filter = (port: number) => ({ protocol: 'TCP' as const, destinationIps: [topology.serverIp], destinationPort: port });
    const connect = (port: number) =>
      topology.exec(topology.client, ['socat', '-u', 'OPEN:/dev/null', `TCP4:${topology.serverIp}:${port},connect-timeout=2.5`], {
        allowFailure: true,
      });

    it('reports NoSynAck when the server drops SYNs (iptables DROP at the server)', async function () {
      const port = PORTS.synDrop;
      await topology.iptables(topology.server, ['-A', 'INPUT', '-p', 'tcp', '--dport', String(port), '-j', 'DROP']);
      const capture = await topology.capture(topology.client, 'syn-no-synack', { interface: topology.clientIf, filter: filter(port) });
      const client = await connect(port);
      expect(client.code, 'the connection must fail').to.not.equal(0);
      const bytes = await capture.stop();
      await record('syn-no-synack.pcap', bytes);

      const analysis = analyzeCapture(bytes, { point: 'source', target: target(port) });
      const flows = targetFlows(analysis);
      const syns = sum(flows.map((flow) => flow.syns));
      expect(syns).to.be.at.least(2);
      expect(syns).to.equal(await tcpdumpCount(capture.path, 'tcp[tcpflags] == tcp-syn'));
      expect(sum(flows.map((flow) => flow.synAcks))).to.equal(0);
      expect(analysis.verdict.reason).to.equal('NoSynAck');
      expect(analysis.verdict.message).to.match(new RegExp(`^${syns} SYNs to 10\\.213\\.2\\.2:${port} got no SYN-ACK in \\d+\\.\\d s$`));
      expect(analysis.exchange).to.deep.equal({ kind: 'tcp', requests: syns, replies: 0 });
    });

    it('reports ConnectionReset when nothing listens (RST from the server)', async function () {
      const port = PORTS.refused;
      const capture = await topology.capture(topology.client, 'rst', {
        interface: topology.clientIf,
        filter: filter(port),
      });
      const client = await connect(port);
      expect(client.stderr).to.match(/refused/i);
      const bytes = await capture.stop();
      await record('rst-refused.pcap', bytes);

      const analysis = analyzeCapture(bytes, { point: 'source', target: target(port) });
      const [flow] = targetFlows(analysis);
      expect(flow.rstFromServer).to.equal(1);
      expect(flow.rstFromServer).to.equal(await tcpdumpCount(capture.path, 'tcp[tcpflags] & tcp-rst != 0'));
      expect(flow.synAcks).to.equal(0);
      expect(analysis.verdict).to.deep.equal({
        reason: 'ConnectionReset',
        severity: 'failure',
        message: '10.213.2.2:8081 answered 1 SYN with RST (connection refused)',
      });
    });

    it('reports Healthy for a connection that completes, captured on "any" (LINUX_SLL2)', async function () {
      const port = PORTS.healthy;
      const capture = await topology.capture(topology.client, 'healthy-any', { interface: 'any', filter: filter(port) });
      const client = await topology.exec(topology.client, ['socat', '-u', 'EXEC:echo hello', `TCP4:${topology.serverIp}:${port}`]);
      expect(client.code).to.equal(0);
      const bytes = await capture.stop();
      await record('tcp-healthy-any-sll2.pcap', bytes);

      expect(readPcap(bytes).linkType).to.equal(LinkType.LINUX_SLL2);
      const analysis = analyzeCapture(bytes, { point: 'source', target: target(port) });
      const [flow] = targetFlows(analysis);
      expect(flow.handshakeCompleted).to.equal(true);
      expect(flow.fromClient.payloadBytes).to.equal('hello\n'.length);
      expect(analysis.verdict.reason).to.equal('Healthy');
      expect(analysis.verdict.message).to.match(new RegExp(`^1 TCP connection to 10\\.213\\.2\\.2:${port} completed the handshake`));
    });

    it('attributes the hop: SYN-ACK dropped on the way back (seen at destination, not at source)', async function () {
      const port = PORTS.synAckDrop;
      await topology.iptables(topology.router, ['-A', 'FORWARD', '-p', 'tcp', '--tcp-flags', 'SYN,ACK', 'SYN,ACK', '-j', 'DROP']);
      const nano = ['--time-stamp-precision=nano'];
      const atSource = await topology.capture(topology.client, 'synack-src', { interface: topology.clientIf, filter: filter(port) }, nano);
      const atDestination = await topology.capture(topology.server, 'synack-dst', { interface: topology.serverIf, filter: filter(port) }, nano);
      await connect(port);
      const sourceBytes = await atSource.stop();
      const destinationBytes = await atDestination.stop(0);
      await record('synack-dropped-source.pcap', sourceBytes);
      await record('synack-dropped-destination.pcap', destinationBytes);

      expect(readPcap(sourceBytes).timestampResolution).to.equal('nanosecond');
      const source = analyzeCapture(sourceBytes, { point: 'source', target: target(port) });
      const destination = analyzeCapture(destinationBytes, { point: 'destination', target: target(port) });
      expect(source.verdict.reason).to.equal('NoSynAck');
      const synAcksAtDestination = sum(targetFlows(destination).map((flow) => flow.synAcks));
      expect(synAcksAtDestination).to.be.at.least(1);
      expect(synAcksAtDestination).to.equal(await tcpdumpCount(atDestination.path, 'tcp[tcpflags] == tcp-syn|tcp-ack'));
      expect(destination.verdict.reason).to.equal('HandshakeIncomplete');
      const hop = attributeHop(source, destination);
      expect(hop.reason).to.equal('ClientDidNotReceiveReply');
      expect(hop.message).to.match(/^the destination sent \d+ SYN-ACKs? but none reached the source$/);
    });

    it('attributes the hop: SYN dropped by the router (server did not receive)', async function () {
      const port = PORTS.routerSynDrop;
      await topology.iptables(topology.router, ['-A', 'FORWARD', '-p', 'tcp', '--syn', '-j', 'DROP']);
      const atSource = await topology.capture(topology.client, 'syn-src', { interface: topology.clientIf, filter: filter(port) });
      const atDestination = await topology.capture(topology.server, 'syn-dst', { interface: topology.serverIf, filter: filter(port) });
      await connect(port);
      const sourceBytes = await atSource.stop();
      const destinationBytes = await atDestination.stop(0);
      await record('syn-dropped-by-router-source.pcap', sourceBytes);
      await record('syn-dropped-by-router-destination.pcap', destinationBytes);
      const source = analyzeCapture(sourceBytes, { point: 'source', target: target(port) });
      const destination = analyzeCapture(destinationBytes, { point: 'destination', target: target(port) });
      expect(destination.verdict.reason).to.equal('NoTraffic');
      expect(destination.verdict.message).to.equal(`no packets to or from 10.213.2.2:${port} were captured`);
      const hop = attributeHop(source, destination);
      expect(hop.reason).to.equal('ServerDidNotReceive');
      expect(hop.message).to.match(/^\d+ SYNs? left the source but none reached the destination$/);
    });

    it('attributes the hop: SYN reached the server, which did not answer', async function () {
      const port = PORTS.serverSilent;
      await topology.iptables(topology.server, ['-A', 'INPUT', '-p', 'tcp', '--dport', String(port), '-j', 'DROP']);
      const atSource = await topology.capture(topology.client, 'noans-src', { interface: topology.clientIf, filter: filter(port) });
      const atDestination = await topology.capture(topology.server, 'noans-dst', { interface: topology.serverIf, filter: filter(port) });
      await connect(port);
      const sourceBytes = await atSource.stop();
      const destinationBytes = await atDestination.stop(0);
      await record('server-silent-source.pcap', sourceBytes);
      await record('server-silent-destination.pcap', destinationBytes);
      const source = analyzeCapture(sourceBytes, { point: 'source', target: target(port) });
      const destination = analyzeCapture(destinationBytes, { point: 'destination', target: target(port) });
      expect(destination.verdict.reason).to.equal('NoSynAck');
      const hop = attributeHop(source, destination);
      expect(hop.reason).to.equal('ServerDidNotAnswer');
      expect(hop.message).to.match(/^the destination received \d+ SYNs? but sent no SYN-ACK or RST$/);
    });

    it('stops by itself when durationSeconds wraps tcpdump in timeout(1)', async function () {
      const port = PORTS.timed;
      const capture = await topology.capture(topology.client, 'timed', { interface: topology.clientIf, filter: filter(port), durationSeconds: 1 });
      expect(capture.argv.slice(0, 4)).to.deep.equal(['timeout', '-s', 'INT', '1']);
      await connect(port);
      const exit = await capture.handle.exited;
      // timeout(1) reports 124 when it had to send the signal; tcpdump itself flushed and exited.
      expect(exit.code).to.equal(124);
      expect(exit.stderr).to.match(/packets captured/);
      const analysis = analyzeCapture(await readFile(capture.path), { point: 'source', target: target(port) });
      expect(analysis.verdict.reason).to.equal('Healthy');
    });
  });

  describe('MTU faults', function () {
    let topology: RoutedTopology;
    let payload: string;
    /** The router's server-facing side is narrower than the path's other links. */
    async function setUp(routerServerMtu: number, family: 4 | 6): Promise<void> {
      topology = await RoutedTopology.create({ routerServerMtu });
      await topology.tcpSink(PORT, family);
      payload = join(topology.workDir, 'payload.bin');
      await writeFile(payload, randomBytes(30000));
      // Warm the neighbour caches so the handshake is not delayed by address resolution.
      const server = family === 4 ? topology.serverIp : topology.serverIp6;
      await topology.exec(topology.client, ['ping', `-${family}`, '-c', '1', '-i', '0.2', '-w', '3', server]);
    }
    afterEach(async function () {
      await topology?.destroy();
    });

    const send = (address: string) =>
      topology.exec(topology.client, ['socat', '-u', `FILE:${payload}`, address], { allowFailure: true });

    it('reports FragmentationNeeded with the next-hop MTU from the router', async function () {
      await setUp(1000, 4);
      const capture = await topology.capture(topology.client, 'frag', {
        interface: topology.clientIf,
        filter: { protocol: 'TCP', destinationIps: [topology.serverIp], destinationPort: PORT },
      });
      await send(`TCP4:${topology.serverIp}:${PORT}`);
      const bytes = await capture.stop(500);
      await record('mtu-frag-needed.pcap', bytes);

      const analysis = analyzeCapture(bytes, { point: 'source', target: { serverIps: [topology.serverIp], serverPort: PORT } });
      const fragNeeded = analysis.icmpErrors.filter((event) => event.kind === 'fragmentationNeeded');
      expect(fragNeeded.length).to.be.at.least(1);
      expect(fragNeeded.length).to.equal(await tcpdumpCount(capture.path, 'icmp[icmptype] == 3 and icmp[icmpcode] == 4'));
      expect(fragNeeded[0]).to.include({ from: topology.routerClientIp, nextHopMtu: 1000, code: 4, type: 3 });
      expect(fragNeeded[0].quoted).to.include({ dst: topology.serverIp, dstPort: PORT, protocol: 6 });
      expect(fragNeeded[0].quoted?.totalLength).to.be.above(1000);
      const [flow] = targetFlows(analysis);
      expect(flow.fromClient.retransmissions).to.be.at.least(1);
      expect(flow.fromClient.payloadBytes).to.equal(30000);
      expect(analysis.verdict.reason).to.equal('FragmentationNeeded');
      expect(analysis.verdict.message).to.match(/from 10\.213\.1\.1: next-hop MTU 1000, packets to 10\.213\.2\.2:8080 were up to \d+ bytes/);
      const summary = summarizeCapture(analysis);
      expect(summary.icmp).to.include({ nextHopMtu: 1000 });
      expect(JSON.stringify(summary).length).to.be.below(500);
    });

    it('reports LargeSegmentsRetransmitted when the router drops frag-needed (MTU black hole)', async function () {
      await setUp(1000, 4);
      await topology.iptables(topology.router, ['-A', 'OUTPUT', '-p', 'icmp', '--icmp-type', 'fragmentation-needed', '-j', 'DROP']);
      const capture = await topology.capture(topology.client, 'blackhole', {
        interface: topology.clientIf,
        filter: { protocol: 'TCP', destinationIps: [topology.serverIp], destinationPort: PORT },
      });
      await send(`TCP4:${topology.serverIp}:${PORT}`);
      // Retransmissions back off 0.2, 0.4, 0.8 s...: 2.5 s shows several.
      await sleep(2500);
      const bytes = await capture.stop(0);
      await record('mtu-blackhole.pcap', bytes);

      const analysis = analyzeCapture(bytes, { point: 'source', target: { serverIps: [topology.serverIp], serverPort: PORT } });
      expect(analysis.icmpErrors).to.have.length(0);
      const [flow] = targetFlows(analysis);
      expect(flow.handshakeCompleted).to.equal(true);
      expect(flow.fromClient.retransmissions).to.be.at.least(2);
      expect(flow.fromClient.largestRetransmittedSegment).to.be.above(1000);
      expect(flow.fromClient.unacknowledgedLargeRetransmissions).to.be.at.least(1);
      expect(analysis.verdict.reason).to.equal('LargeSegmentsRetransmitted');
      expect(analysis.verdict.message).to.match(/^segments of \d+ bytes to 10\.213\.2\.2:8080 were retransmitted \d+ times and never acknowledged while small packets got through/);
    });

    it('reports FragmentationNeeded over IPv6 (ICMPv6 packet too big)', async function () {
      // 1280 is the IPv6 minimum: below it the kernel drops the link's IPv6 addresses.
      await setUp(1280, 6);
      const capture = await topology.capture(topology.client, 'ptb6', {
        interface: topology.clientIf,
        filter: { protocol: 'TCP', destinationIps: [topology.serverIp6], destinationPort: PORT },
      });
      await send(`TCP6:[${topology.serverIp6}]:${PORT}`);
      const bytes = await capture.stop(500);
      await record('ipv6-packet-too-big.pcap', bytes);

      const analysis = analyzeCapture(bytes, { point: 'source', target: { serverIps: [topology.serverIp6], serverPort: PORT } });
      const tooBig = analysis.icmpErrors.filter((event) => event.kind === 'fragmentationNeeded');
      expect(tooBig.length).to.be.at.least(1);
      expect(tooBig[0]).to.include({ version: 6, type: 2, nextHopMtu: 1280, from: topology.routerClientIp6 });
      expect(tooBig[0].quoted).to.include({ dst: topology.serverIp6, dstPort: PORT });
      expect(targetFlows(analysis)[0].fromClient.payloadBytes).to.equal(30000);
      expect(analysis.verdict.reason).to.equal('FragmentationNeeded');
    });
  });

  describe('DNS faults', function () {
    let topology: RoutedTopology;
    before(async function () {
      topology = await RoutedTopology.create();
      await topology.dnsServer();
    });
    after(async function () {
      await topology?.destroy();
    });
    afterEach(async function () {
      await topology.iptables(topology.server, ['-F']);
    });

    const filter = () => ({ protocol: 'DNS' as const, destinationIps: [topology.serverIp], destinationPort: 53 });
    const target = (dnsName: string): CaptureTarget => ({ serverIps: [topology.serverIp], serverPort: 53, transport: 'udp', dnsName });
    const dig = (name: string) =>
      topology.exec(topology.client, ['dig', `@${topology.serverIp}`, '+tries=2', '+timeout=1', '+nosearch', name], { allowFailure: true });

    it('reports DnsNoAnswer when the server drops udp/53', async function () {
      await topology.iptables(topology.server, ['-A', 'INPUT', '-p', 'udp', '--dport', '53', '-j', 'DROP']);
      const capture = await topology.capture(topology.client, 'dns-drop', { interface: topology.clientIf, filter: filter() });
      const result = await dig('web.svc.test');
      expect(result.stdout).to.match(/timed out/);
      const bytes = await capture.stop();
      await record('dns-no-answer.pcap', bytes);

      const analysis = analyzeCapture(bytes, { point: 'source', target: target('web.svc.test') });
      const queries = sum(analysis.dns.map((t) => t.queries));
      expect(queries).to.equal(2);
      expect(queries).to.equal(await tcpdumpCount(capture.path, 'udp dst port 53'));
      expect(analysis.dns.every((t) => t.responses === 0)).to.equal(true);
      expect(analysis.verdict).to.include({ reason: 'DnsNoAnswer', severity: 'failure' });
      expect(analysis.verdict.message).to.match(/^2 DNS queries for web\.svc\.test \(A\) to 10\.213\.2\.2 got no answer in \d\.\d s$/);
      expect(summarizeCapture(analysis).dns).to.deep.equal({ queries: 2, answered: 0, unanswered: 2 });
    });

    it('reports DnsError with the rcode for an unknown name (captured as LINUX_SLL)', async function () {
      const capture = await topology.capture(topology.client, 'dns-nx', { interface: 'any', filter: filter() }, ['-y', 'LINUX_SLL']);
      const result = await dig('missing.svc2.test');
      expect(result.stdout).to.match(/status: NXDOMAIN/);
      const bytes = await capture.stop();
      await record('dns-nxdomain-sll.pcap', bytes);

      expect(readPcap(bytes).linkType).to.equal(LinkType.LINUX_SLL);
      const analysis = analyzeCapture(bytes, { point: 'source', target: target('missing.svc2.test') });
      expect(analysis.dns).to.have.length(1);
      expect(analysis.dns[0]).to.include({ name: 'missing.svc2.test', type: 1, rcode: 3, queries: 1, responses: 1 });
      expect(analysis.verdict).to.deep.equal({
        reason: 'DnsError',
        severity: 'failure',
        message: '10.213.2.2 answered NXDOMAIN for missing.svc2.test (A)',
      });
    });

    it('reports Healthy for an answered query', async function () {
      const capture = await topology.capture(topology.client, 'dns-ok', { interface: topology.clientIf, filter: filter() });
      const result = await dig('web.svc.test');
      expect(result.stdout).to.match(/status: NOERROR/);
      const analysis = analyzeCapture(await capture.stop(), { point: 'source', target: target('web.svc.test') });
      expect(analysis.dns[0]).to.include({ rcode: 0, answerCount: 1, responses: 1 });
      expect(analysis.verdict.reason).to.equal('Healthy');
      expect(analysis.exchange).to.deep.equal({ kind: 'dns', requests: 1, replies: 1 });
    });
  });

  describe('raw IP link type', function () {
    let topology: RoutedTopology;
    before(async function () {
      topology = await RoutedTopology.create();
      await topology.exec(topology.client, ['ip', 'tuntap', 'add', 'mode', 'tun', 'name', 'tun0']);
      await topology.exec(topology.client, ['ip', 'addr', 'add', '10.214.0.1/24', 'dev', 'tun0']);
      await topology.exec(topology.client, ['ip', 'link', 'set', 'tun0', 'up']);
      // A tun device only carries packets while a process holds it open; this one reads and discards.
      const holder = [
        'import fcntl, os, struct, sys',
        "fd = os.open('/dev/net/tun', os.O_RDWR)",
        "fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', b'tun0', 0x0001 | 0x1000))",
        "print('attached', flush=True)",
        'while True: os.read(fd, 65536)',
      ].join('\n');
      await topology.background(topology.client, ['/usr/bin/python3', '-c', holder], /attached/);
    });
    after(async function () {
      await topology?.destroy();
    });

    it('decodes a tun capture (LINKTYPE_RAW) and reports NoEchoReply', async function () {
      const capture = await topology.capture(topology.client, 'tun', {
        interface: 'tun0',
        filter: { protocol: 'ICMP', destinationIps: ['10.214.0.2'] },
      });
      await topology.exec(topology.client, ['ping', '-c', '3', '-i', '0.2', '-W', '1', '10.214.0.2'], { allowFailure: true });
      const bytes = await capture.stop();
      await record('icmp-echo-raw.pcap', bytes);

      expect(readPcap(bytes).linkType).to.equal(LinkType.RAW);
      const analysis = analyzeCapture(bytes, { point: 'source', target: { serverIps: ['10.214.0.2'], transport: 'icmp' } });
      expect(analysis.packets).to.include({ total: 3, decoded: 3, undecodable: 0 });
      expect(analysis.echoFlows).to.have.length(1);
      expect(analysis.echoFlows[0]).to.include({ client: '10.214.0.1', server: '10.214.0.2', requests: 3, replies: 0 });
      expect(analysis.verdict.reason).to.equal('NoEchoReply');
      expect(analysis.verdict.message).to.match(/^3 echo requests to 10\.214\.0\.2 got no reply in 0\.\d s$/);
    });
  });
});
