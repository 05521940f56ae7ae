// Header decoding checked against what tcpdump printed for the same real captures, plus
// robustness: truncated, corrupted and random input must never throw.

import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatIpv6, normalizeIp, parseIp } from '../../operator/capture/address.ts';
import { decodeDnsMessage, decodePacket, dnsRcodeName } from '../../operator/capture/decode.ts';
import type { DecodedPacket, DecodeResult } from '../../operator/capture/decode.ts';
import { LinkType, readPcap } from '../../operator/capture/pcap.ts';
import type { PcapFile } from '../../operator/capture/pcap.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/pcap/', import.meta.url));
const load = (name: string): PcapFile => readPcap(readFileSync(join(FIXTURES, name)));

function decodeAll(file: PcapFile): DecodeResult[] {
  return file.packets.map((packet) => decodePacket(file.linkType, packet.data, packet.timestamp, packet.originalLength));
}

function decoded(file: PcapFile, index: number): DecodedPacket {
  const result = decodeAll(file)[index];
  if (!result.ok) throw new Error(`packet ${index} did not decode: ${result.reason}`);
  return result.packet;
}

/** tcpdump's reading of a fixture, one line per packet (-v adds continuation lines). */
function tcpdumpText(name: string, ...options: string[]): string[] {
  const output = execFileSync('tcpdump', ['-nn', ...options, '-r', join(FIXTURES, name)], { stdio: ['ignore', 'pipe', 'ignore'] });
  return output.toString().split('\n').filter((line) => line.length > 0);
}

function match(line: string | undefined, pattern: RegExp): RegExpExecArray {
  const result = pattern.exec(line ?? '');
  if (!result) throw new Error(`tcpdump line ${JSON.stringify(line)} does not match ${pattern}`);
  return result;
}

function okPackets(file: PcapFile): DecodedPacket[] {
  return decodeAll(file).flatMap((result) => (result.ok ? [result.packet] : []));
}

// Expected values are parsed from tcpdump's output for the same file: an independent decoder.
describe('capture/decode: fields match tcpdump on real captures', function () {
  it('decodes a SYN and the RST answering it (Ethernet, IPv4, TCP)', function () {
    const [synLine, rstLine] = tcpdumpText('rst-refused.pcap', '-S');
    const syn = match(synLine, /IP (\S+)\.(\d+) > (\S+)\.(\d+): Flags \[S\], seq (\d+),/);
    const rst = match(rstLine, /Flags \[R\.\], seq (\d+), ack (\d+),/);
    const file = load('rst-refused.pcap');
    const synPacket = decoded(file, 0);
    expect(synPacket.ip).to.include({ version: 4, src: syn[1], dst: syn[3], protocol: 6, totalLength: 60, dontFragment: true });
    expect(synPacket.tcp).to.include({ srcPort: Number(syn[2]), dstPort: Number(syn[4]), seq: Number(syn[5]), payloadLength: 0, headerLength: 40 });
    expect(synPacket.tcp?.flags).to.deep.equal({ syn: true, ack: false, rst: false, fin: false, psh: false });
    const rstPacket = decoded(file, 1);
    expect(rstPacket.tcp).to.include({ srcPort: Number(syn[4]), dstPort: Number(syn[2]), seq: Number(rst[1]), ack: Number(rst[2]) });
    expect(rstPacket.tcp?.flags).to.deep.equal({ syn: false, ack: true, rst: true, fin: false, psh: false });
  });

  it('decodes fragmentation-needed with the MTU and the quoted packet (ICMP)', function () {
    const lines = tcpdumpText('mtu-frag-needed.pcap', '-v');
    const at = lines.findIndex((line) => line.includes('need to frag'));
    const icmpLine = match(lines[at], /(\S+) > (\S+): ICMP (\S+) unreachable - need to frag \(mtu (\d+)\)/);
    const quotedLine = match(lines[at + 1], /proto TCP \(6\), length (\d+)\)/);
    const icmp = okPackets(load('mtu-frag-needed.pcap')).find((p) => p.icmp?.kind === 'fragmentationNeeded');
    expect(icmp?.ip).to.include({ src: icmpLine[1], dst: icmpLine[2] });
    expect(icmp?.icmp).to.include({ version: 4, type: 3, code: 4, nextHopMtu: Number(icmpLine[4]) });
    expect(icmp?.icmp?.quoted).to.include({ src: icmpLine[2], dst: icmpLine[3], protocol: 6, totalLength: Number(quotedLine[1]), dstPort: 8080 });
  });

  it('decodes ICMPv6 packet-too-big (IPv6, MTU 1280)', function () {
    const lines = tcpdumpText('ipv6-packet-too-big.pcap').filter((line) => line.includes('packet too big'));
    const first = match(lines[0], /IP6 (\S+) > (\S+): ICMP6, packet too big, mtu (\d+)/);
    const packets = okPackets(load('ipv6-packet-too-big.pcap'));
    const tooBig = packets.filter((p) => p.icmp?.kind === 'fragmentationNeeded');
    expect(tooBig.length).to.equal(lines.length).and.to.be.at.least(1);
    expect(tooBig[0].ip).to.include({ version: 6, src: first[1], dst: first[2], protocol: 58 });
    expect(tooBig[0].icmp).to.include({ version: 6, type: 2, code: 0, nextHopMtu: Number(first[3]) });
    expect(tooBig[0].icmp?.quoted).to.include({ src: first[2], dst: 'fd00:213:2::2', dstPort: 8080, protocol: 6 });
    const syn6 = packets.find((p) => p.tcp?.flags.syn && !p.tcp.flags.ack);
    expect(syn6?.ip).to.include({ version: 6, headerLength: 40, totalLength: 80 });
    expect(syn6?.tcp).to.include({ dstPort: 8080 });
  });

  it('decodes DNS queries and answers (id, qr, rcode, question)', function () {
    const [queryLine, answerLine] = tcpdumpText('dns-nxdomain-sll.pcap');
    const query = match(queryLine, /\.(\d+) > [\d.]+\.53: (\d+)\+ \[1au\] A\? (\S+)\. /);
    const answer = match(answerLine, /: (\d+) NXDomain 0\/0\/1 /);
    const file = load('dns-nxdomain-sll.pcap');
    const queryPacket = decoded(file, 0);
    expect(queryPacket.udp).to.include({ srcPort: Number(query[1]), dstPort: 53 });
    expect(queryPacket.dns).to.include({ id: Number(query[2]), qr: false, rcode: 0, questionCount: 1, questionName: query[3], questionType: 1 });
    const answerPacket = decoded(file, 1);
    expect(answerPacket.dns).to.include({ id: Number(answer[1]), qr: true, rcode: 3, answerCount: 0, questionName: query[3] });
    expect(dnsRcodeName(answerPacket.dns?.rcode ?? -1)).to.equal('NXDOMAIN');
  });

  it('reads the direction from Linux cooked headers (SLL2 and SLL "Out"/"In")', function () {
    for (const name of ['tcp-healthy-any-sll2.pcap', 'dns-nxdomain-sll.pcap']) {
      const expected = tcpdumpText(name, '-e').map((line) => (/ Out /.test(line) ? 'outgoing' : / In /.test(line) ? 'incoming' : 'other'));
      expect(expected).to.include('outgoing').and.to.include('incoming');
      expect(okPackets(load(name)).map((packet) => packet.direction), name).to.deep.equal(expected);
    }
  });

  it('decodes raw IP packets from a tun device (echo id and seq)', function () {
    const lines = tcpdumpText('icmp-echo-raw.pcap');
    const packets = okPackets(load('icmp-echo-raw.pcap'));
    expect(packets).to.have.length(lines.length);
    lines.forEach((line, index) => {
      const echo = match(line, /IP (\S+) > (\S+): ICMP echo request, id (\d+), seq (\d+), length (\d+)/);
      expect(packets[index].ip).to.include({ src: echo[1], dst: echo[2], totalLength: Number(echo[5]) + 20 });
      expect(packets[index].icmp).to.include({ kind: 'echoRequest', echoId: Number(echo[3]), echoSeq: Number(echo[4]) });
    });
  });

  it('computes payload length from the IP header, not the (snapped) capture', function () {
    const line = tcpdumpText('mtu-blackhole.pcap', '-S')[3];
    const segment = match(line, /seq (\d+):(\d+), .*length (\d+)/);
    const file = load('mtu-blackhole.pcap');
    const big = decoded(file, 3);
    expect(file.packets[3].data.length).to.equal(128);
    expect(big.tcp).to.include({ seq: Number(segment[1]), payloadLength: Number(segment[3]) });
    expect(Number(segment[3])).to.be.above(1000);
    expect(big.ip.totalLength).to.equal(Number(segment[3]) + 20 + 32);
  });
});

describe('capture/decode: robustness', function () {
  const files = readdirSync(FIXTURES)
    .filter((name) => name.endsWith('.pcap'))
    .map((name) => ({ name, file: load(name) }));

  it('decodes every packet of every fixture (IPv4/IPv6 all usable)', function () {
    for (const { name, file } of files) {
      for (const [index, result] of decodeAll(file).entries()) {
        expect(result.ok, `${name} #${index}: ${result.ok ? '' : result.reason}`).to.equal(true);
      }
    }
  });

  it('never throws on any prefix of any real packet, and reports truncation', function () {
    let truncated = 0;
    for (const { file } of files) {
      for (const packet of file.packets) {
        for (let length = 0; length < packet.data.length; length++) {
          const result = decodePacket(file.linkType, packet.data.subarray(0, length));
          if (!result.ok) {
            expect(result.reason).to.be.oneOf(['truncated', 'malformed', 'notIp']);
            if (result.reason === 'truncated') truncated++;
          }
        }
        expect(decodePacket(file.linkType, packet.data.subarray(0, 0))).to.deep.equal({ ok: false, reason: 'truncated' });
      }
    }
    expect(truncated).to.be.above(1000);
  });

  it('never throws on real packets with random bytes corrupted', function () {
    for (const { file } of files) {
      for (const packet of file.packets) {
        for (let round = 0; round < 50; round++) {
          const corrupted = Uint8Array.from(packet.data);
          const flips = randomBytes(8);
          for (let i = 0; i < flips.length; i += 2) corrupted[flips[i] % corrupted.length] = flips[i + 1];
          expect(() => decodePacket(file.linkType, corrupted)).to.not.throw();
        }
      }
    }
  });

  it('never throws on random bytes for any link type', function () {
    for (const linkType of [LinkType.EN10MB, LinkType.RAW, LinkType.LINUX_SLL, LinkType.LINUX_SLL2, 9999]) {
      for (let round = 0; round < 2000; round++) {
        const data = randomBytes(round % 160);
        expect(() => decodePacket(linkType, data)).to.not.throw();
      }
    }
  });

  it('reports unknown link types and non-IP frames', function () {
    const ip = load('rst-refused.pcap').packets[0].data;
    expect(decodePacket(12345, ip)).to.deep.equal({ ok: false, reason: 'unsupportedLinkType' });
    const arp = Buffer.from(ip);
    arp.writeUInt16BE(0x0806, 12);
    expect(decodePacket(LinkType.EN10MB, arp)).to.deep.equal({ ok: false, reason: 'notIp' });
  });

  it('survives a DNS name compression loop and a name cut by the snap length', function () {
    // Header (12 bytes, 1 question) then a pointer to itself at offset 12.
    const loop = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1]);
    const looped = decodeDnsMessage(loop);
    expect(looped).to.include({ id: 0x1234, questionCount: 1 });
    expect(looped?.questionName).to.equal(undefined);
    const query = load('dns-no-answer.pcap').packets[0].data;
    // Ethernet 14 + IP 20 + UDP 8: the DNS message starts at 42; keep 5 bytes of the name.
    const cut = decodeDnsMessage(query.subarray(42, 42 + 12 + 5));
    expect(cut).to.include({ id: decodeDnsMessage(query.subarray(42))?.id, qr: false });
    expect(cut?.questionName).to.equal(undefined);
    expect(decodeDnsMessage(query.subarray(42, 42 + 11))).to.equal(undefined);
  });
});

describe('capture/address', function () {
  it('prints IPv6 the RFC 5952 way', function () {
    const cases: Array<[string, string]> = [
      ['fd00:0213:0001:0000:0000:0000:0000:0002', 'fd00:213:1::2'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['FE80::A', 'fe80::a'],
      ['::ffff:10.0.0.1', '::ffff:a00:1'],
    ];
    for (const [input, expected] of cases) {
      const bytes = parseIp(input);
      expect(bytes, input).to.have.length(16);
      expect(formatIpv6(bytes!, 0), input).to.equal(expected);
      expect(normalizeIp(input)).to.equal(expected);
    }
  });

  it('leaves IPv4 alone and non-addresses untouched', function () {
    expect(normalizeIp('10.96.0.10')).to.equal('10.96.0.10');
    expect(parseIp('10.96.0.10')).to.deep.equal(Uint8Array.from([10, 96, 0, 10]));
    expect(parseIp('kubernetes.default')).to.equal(undefined);
    expect(normalizeIp('kubernetes.default')).to.equal('kubernetes.default');
  });
});
