// Verdicts, per-flow counts, hop attribution and the status summary on the real captures in
// test/fixtures/pcap (see its README for how each fault was injected).

import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeCapture, attributeHop, summarizeCapture } from '../../operator/capture/analyze.ts';
import type { AnalyzeOptions, CaptureAnalysis, CaptureTarget } from '../../operator/capture/analyze.ts';
import { LinkType, readPcap, writePcap } from '../../operator/capture/pcap.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/pcap/', import.meta.url));
const fixture = (name: string) => readFileSync(join(FIXTURES, name));
const SERVER = '10.213.2.2';

function analyze(name: string, target?: CaptureTarget, point: AnalyzeOptions['point'] = 'source'): CaptureAnalysis {
  return analyzeCapture(fixture(name), target ? { point, target } : { point });
}

/** Packets tcpdump itself finds with a filter: an independent count. */
function tcpdumpCount(name: string, filter: string): number {
  const output = execFileSync('tcpdump', ['-nn', '-r', join(FIXTURES, name), '--', filter], { stdio: ['ignore', 'pipe', 'ignore'] });
  return output.toString().split('\n').filter((line) => line.length > 0).length;
}

const targetFlows = (analysis: CaptureAnalysis) => analysis.tcpFlows.filter((flow) => flow.matchesTarget);
const total = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe('capture/analyze: verdicts on real captures', function () {
  it('NoSynAck: SYNs dropped by the server', function () {
    const analysis = analyze('syn-no-synack.pcap', { serverIps: [SERVER], serverPort: 8080 });
    const syns = tcpdumpCount('syn-no-synack.pcap', 'tcp[tcpflags] == tcp-syn');
    expect(syns).to.be.at.least(2);
    expect(total(targetFlows(analysis).map((f) => f.syns))).to.equal(syns);
    expect(analysis.verdict.reason).to.equal('NoSynAck');
    expect(analysis.verdict.severity).to.equal('failure');
    expect(analysis.verdict.message).to.match(new RegExp(`^${syns} SYNs to 10\\.213\\.2\\.2:8080 got no SYN-ACK in \\d\\.\\d s$`));
    // The SYN retransmissions reuse one flow; they are not data retransmissions.
    expect(targetFlows(analysis)).to.have.length(1);
    expect(targetFlows(analysis)[0].fromClient.retransmissions).to.equal(0);
  });

  it('ConnectionReset: RST from the server, attributed to the server side', function () {
    const analysis = analyze('rst-refused.pcap', { serverIps: [SERVER], serverPort: 8081 });
    const [flow] = targetFlows(analysis);
    expect(flow).to.include({ syns: 1, synAcks: 0, rstFromServer: 1, rstFromClient: 0, handshakeCompleted: false });
    expect(flow.server).to.deep.equal({ ip: SERVER, port: 8081 });
    expect(analysis.verdict).to.deep.equal({
      reason: 'ConnectionReset',
      severity: 'failure',
      message: '10.213.2.2:8081 answered 1 SYN with RST (connection refused)',
    });
  });

  it('FragmentationNeeded: router reports the next-hop MTU; the data still arrives', function () {
    const analysis = analyze('mtu-frag-needed.pcap', { serverIps: [SERVER], serverPort: 8080 });
    const fragNeeded = analysis.icmpErrors.filter((e) => e.kind === 'fragmentationNeeded');
    expect(fragNeeded.length).to.equal(tcpdumpCount('mtu-frag-needed.pcap', 'icmp[icmptype] == 3 and icmp[icmpcode] == 4'));
    expect(fragNeeded.every((e) => e.matchesTarget && e.nextHopMtu === 1000 && e.from === '10.213.1.1')).to.equal(true);
    const [flow] = targetFlows(analysis);
    expect(flow.fromClient.retransmissions).to.be.at.least(1);
    expect(flow.fromClient.largestSegment).to.be.above(1000);
    expect(flow.fromClient.payloadBytes).to.equal(30000);
    expect(flow.fromClient.unacknowledgedLargeRetransmissions).to.equal(0);
    expect(analysis.verdict.reason).to.equal('FragmentationNeeded');
    // PMTU discovery recovered (everything acknowledged): a warning, not a failure.
    expect(analysis.verdict.severity).to.equal('warning');
    expect(analysis.verdict.message).to.match(
      /^\d+ fragmentation-needed messages? from 10\.213\.1\.1: next-hop MTU 1000, packets to 10\.213\.2\.2:8080 were up to \d+ bytes \(\d+ retransmissions?\)$/,
    );
  });

  it('LargeSegmentsRetransmitted: frag-needed dropped, large segments never acknowledged', function () {
    const analysis = analyze('mtu-blackhole.pcap', { serverIps: [SERVER], serverPort: 8080 });
    const [flow] = targetFlows(analysis);
    expect(flow.handshakeCompleted).to.equal(true);
    expect(flow.fromClient.retransmissions).to.be.at.least(2);
    expect(flow.fromClient.unacknowledgedLargeRetransmissions).to.be.at.least(1);
    expect(flow.fromServer.payloadBytes).to.equal(0);
    expect(analysis.icmpErrors).to.have.length(0);
    expect(analysis.verdict.reason).to.equal('LargeSegmentsRetransmitted');
    expect(analysis.verdict.message).to.contain('never acknowledged while small packets got through (MTU black hole?)');
  });

  it('LargeSegmentsRetransmitted needs large segments: a higher threshold clears it', function () {
    const analysis = analyzeCapture(fixture('mtu-blackhole.pcap'), {
      point: 'source',
      target: { serverIps: [SERVER], serverPort: 8080 },
      largeSegmentBytes: 9000,
    });
    expect(analysis.findings.map((f) => f.reason)).to.not.include('LargeSegmentsRetransmitted');
  });

  it('FragmentationNeeded over IPv6 with a caller spelling the address differently', function () {
    const analysis = analyze('ipv6-packet-too-big.pcap', { serverIps: ['FD00:213:2:0::2'], serverPort: 8080 });
    expect(targetFlows(analysis)).to.have.length(1);
    expect(analysis.verdict.reason).to.equal('FragmentationNeeded');
    expect(analysis.verdict.message).to.contain('next-hop MTU 1280, packets to [fd00:213:2::2]:8080');
  });

  it('DnsNoAnswer: every query for the name unanswered', function () {
    const analysis = analyze('dns-no-answer.pcap', { serverIps: [SERVER], serverPort: 53, transport: 'udp', dnsName: 'web.svc.test' });
    const queries = tcpdumpCount('dns-no-answer.pcap', 'udp dst port 53');
    expect(total(analysis.dns.map((t) => t.queries))).to.equal(queries);
    expect(analysis.verdict.reason).to.equal('DnsNoAnswer');
    expect(analysis.verdict.message).to.match(new RegExp(`^${queries} DNS queries for web\\.svc\\.test \\(A\\) to 10\\.213\\.2\\.2 got no answer in \\d\\.\\d s$`));
    expect(analysis.exchange).to.deep.equal({ kind: 'dns', requests: queries, replies: 0 });
  });

  it('DnsError: NXDOMAIN reported with the name and type', function () {
    const analysis = analyze('dns-nxdomain-sll.pcap', { dnsName: 'missing.svc2.test' });
    expect(analysis.verdict).to.deep.equal({
      reason: 'DnsError',
      severity: 'failure',
      message: '10.213.2.2 answered NXDOMAIN for missing.svc2.test (A)',
    });
    expect(summarizeCapture(analysis).dns).to.deep.equal({ queries: 1, answered: 1, unanswered: 0, rcodes: { NXDOMAIN: 1 } });
  });

  it('DNS name filter: queries for other names do not make a verdict', function () {
    const analysis = analyze('dns-nxdomain-sll.pcap', { dnsName: 'other.test' });
    expect(analysis.dns[0].relevant).to.equal(false);
    expect(analysis.verdict).to.include({ reason: 'NoTraffic', message: 'no DNS queries for other.test were captured' });
  });

  it('Healthy: a completed connection (LINUX_SLL2 capture)', function () {
    const analysis = analyze('tcp-healthy-any-sll2.pcap', { serverIps: [SERVER], serverPort: 8082 });
    expect(analysis.linkType).to.equal(LinkType.LINUX_SLL2);
    const [flow] = targetFlows(analysis);
    expect(flow).to.include({ syns: 1, synAcks: 1, handshakeCompleted: true, rstFromServer: 0 });
    expect(flow.fromClient.payloadBytes).to.equal('hello\n'.length);
    expect(analysis.verdict).to.deep.equal({
      reason: 'Healthy',
      severity: 'ok',
      message: '1 TCP connection to 10.213.2.2:8082 completed the handshake; nothing points at a failure',
    });
  });

  it('NoEchoReply: echo requests on a tun device (LINKTYPE_RAW)', function () {
    const analysis = analyze('icmp-echo-raw.pcap', { serverIps: ['10.214.0.2'], transport: 'icmp' });
    expect(analysis.verdict.reason).to.equal('NoEchoReply');
    expect(analysis.exchange).to.deep.equal({ kind: 'icmp', requests: 3, replies: 0 });
  });

  it('NoTraffic: a target the capture never saw', function () {
    const analysis = analyze('rst-refused.pcap', { serverIps: ['10.99.0.1'], serverPort: 443 });
    expect(analysis.verdict).to.deep.equal({
      reason: 'NoTraffic',
      severity: 'failure',
      message: 'no packets to or from 10.99.0.1:443 were captured',
    });
  });

  it('orients flows without a target: the SYN sender is the client', function () {
    const analysis = analyze('synack-dropped-destination.pcap');
    const [flow] = analysis.tcpFlows;
    expect(flow.client.ip).to.equal('10.213.1.2');
    expect(flow.server).to.deep.equal({ ip: SERVER, port: 8083 });
    expect(analysis.verdict.reason).to.equal('HandshakeIncomplete');
  });

  it('clientIps narrows the flows at a busy destination', function () {
    const mine = analyze('synack-dropped-destination.pcap', { serverIps: [SERVER], serverPort: 8083, clientIps: ['10.213.1.2'] }, 'destination');
    const someoneElse = analyze('synack-dropped-destination.pcap', { serverIps: [SERVER], serverPort: 8083, clientIps: ['10.213.9.9'] }, 'destination');
    expect(targetFlows(mine)).to.have.length(1);
    expect(targetFlows(someoneElse)).to.have.length(0);
    expect(someoneElse.verdict.reason).to.equal('NoTraffic');
  });

  it('decodes every packet of every fixture', function () {
    for (const name of readdirSync(FIXTURES).filter((file) => file.endsWith('.pcap'))) {
      const analysis = analyze(name);
      expect(analysis.packets.undecodable, name).to.equal(0);
      expect(analysis.packets.decoded + analysis.packets.notIp, name).to.equal(analysis.packets.total);
    }
  });

  it('counts packets cut short as undecodable instead of failing', function () {
    const file = readPcap(fixture('syn-no-synack.pcap'));
    const cut = writePcap({ ...file, packets: file.packets.map((p) => ({ ...p, data: p.data.subarray(0, 30) })) });
    const analysis = analyzeCapture(cut, { point: 'source', target: { serverIps: [SERVER], serverPort: 8080 } });
    expect(analysis.packets.undecodable).to.equal(file.packets.length);
    expect(analysis.packets.byReason).to.deep.equal({ truncated: file.packets.length });
    expect(summarizeCapture(analysis).undecodable).to.equal(file.packets.length);
  });

  it('accepts an already parsed file and an empty capture', function () {
    const parsed = readPcap(fixture('rst-refused.pcap'));
    expect(analyzeCapture(parsed, { point: 'source' }).verdict.reason).to.equal('ConnectionReset');
    const empty = writePcap({ linkType: LinkType.EN10MB, snapLength: 128, packets: [] });
    expect(analyzeCapture(empty, { point: 'destination' }).verdict).to.deep.equal({
      reason: 'NoTraffic',
      severity: 'failure',
      message: 'the capture holds no packets',
    });
  });
});

describe('capture/analyze: hop attribution with two capture points', function () {
  const target = (port: number): CaptureTarget => ({ serverIps: [SERVER], serverPort: port, transport: 'tcp' });

  it('answered but the client did not receive (SYN-ACK dropped on the way back)', function () {
    const source = analyze('synack-dropped-source.pcap', target(8083), 'source');
    const destination = analyze('synack-dropped-destination.pcap', target(8083), 'destination');
    const synAcks = tcpdumpCount('synack-dropped-destination.pcap', 'tcp[tcpflags] == tcp-syn|tcp-ack');
    expect(source.exchange.replies).to.equal(0);
    expect(destination.exchange).to.deep.equal({
      kind: 'tcp',
      requests: tcpdumpCount('synack-dropped-destination.pcap', 'tcp[tcpflags] == tcp-syn'),
      replies: synAcks,
    });
    expect(attributeHop(source, destination)).to.deep.equal({
      reason: 'ClientDidNotReceiveReply',
      message: `the destination sent ${synAcks} SYN-ACKs but none reached the source`,
    });
    expect(destination.verdict.message).to.equal(`10.213.2.2:8083 sent ${synAcks} SYN-ACKs but the client never completed the handshake`);
  });

  it('server did not receive (SYNs dropped by a router: the destination capture is empty)', function () {
    const source = analyze('syn-dropped-by-router-source.pcap', target(8084), 'source');
    const destination = analyze('syn-dropped-by-router-destination.pcap', target(8084), 'destination');
    const syns = tcpdumpCount('syn-dropped-by-router-source.pcap', 'tcp[tcpflags] == tcp-syn');
    expect(destination.packets.total).to.equal(0);
    expect(destination.verdict.message).to.equal('no packets to or from 10.213.2.2:8084 were captured');
    expect(attributeHop(source, destination)).to.deep.equal({
      reason: 'ServerDidNotReceive',
      message: `${syns} SYNs left the source but none reached the destination`,
    });
  });

  it('received but did not answer (SYNs dropped by INPUT at the server)', function () {
    const source = analyze('server-silent-source.pcap', target(8085), 'source');
    const destination = analyze('server-silent-destination.pcap', target(8085), 'destination');
    const syns = tcpdumpCount('server-silent-destination.pcap', 'tcp[tcpflags] == tcp-syn');
    expect(destination.exchange).to.deep.equal({ kind: 'tcp', requests: syns, replies: 0 });
    expect(destination.verdict.reason).to.equal('NoSynAck');
    expect(attributeHop(source, destination)).to.deep.equal({
      reason: 'ServerDidNotAnswer',
      message: `the destination received ${syns} SYNs but sent no SYN-ACK or RST`,
    });
  });

  it('reply received at both ends, and nothing sent at all', function () {
    const healthy = analyze('tcp-healthy-any-sll2.pcap', target(8082));
    expect(attributeHop(healthy, healthy).reason).to.equal('ReplyReceived');
    const nothing = analyze('rst-refused.pcap', target(9999));
    expect(attributeHop(nothing, healthy)).to.deep.equal({ reason: 'NoRequestSent', message: 'the source capture holds no SYN to the target' });
  });

  it('works for DNS: queries left the source, none reached the server', function () {
    const dnsTarget: CaptureTarget = { serverIps: [SERVER], serverPort: 53, transport: 'udp' };
    const source = analyze('dns-no-answer.pcap', dnsTarget);
    const destination = analyzeCapture(writePcap({ linkType: LinkType.EN10MB, snapLength: 128, packets: [] }), {
      point: 'destination',
      target: dnsTarget,
    });
    expect(attributeHop(source, destination)).to.deep.equal({
      reason: 'ServerDidNotReceive',
      message: `${source.exchange.requests} DNS queries left the source but none reached the destination`,
    });
  });
});

describe('capture/analyze: status summary', function () {
  it('stays a few hundred bytes for every fixture', function () {
    for (const name of readdirSync(FIXTURES).filter((file) => file.endsWith('.pcap'))) {
      const summary = summarizeCapture(analyze(name));
      const size = JSON.stringify(summary).length;
      expect(size, name).to.be.below(450);
      expect(summary.message.length, name).to.be.at.most(200);
    }
  });

  it('carries the counts behind the verdict', function () {
    const summary = summarizeCapture(analyze('mtu-frag-needed.pcap', { serverIps: [SERVER], serverPort: 8080 }));
    expect(summary).to.include({ point: 'source', reason: 'FragmentationNeeded', severity: 'warning' });
    expect(summary.icmp).to.include({ unreachable: 0, nextHopMtu: 1000 });
    expect(summary.icmp?.fragNeeded).to.be.at.least(1);
    expect(summary.tcp).to.include({ syn: 1, synAck: 1, rst: 0 });
    expect(summary.tcp?.retransmissions).to.be.at.least(1);
  });
});
