// The pcap reader/writer against real captures recorded in network namespaces
// (test/fixtures/pcap/README.md), cross-checked with tcpdump -r.

import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { capPcap, LinkType, PcapFormatError, readPcap, writePcap, PCAP_GLOBAL_HEADER_LENGTH } from '../../operator/capture/pcap.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/pcap/', import.meta.url));
const fixture = (name: string) => readFileSync(join(FIXTURES, name));
const scratch = mkdtempSync(join(tmpdir(), 'capture-pcap-test-'));

/** tcpdump's own reading of a file: one line per packet. */
function tcpdumpLines(path: string): string[] {
  const output = execFileSync('tcpdump', ['-nn', '-r', path], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  return output.split('\n').filter((line) => line.length > 0);
}

function writeScratch(name: string, bytes: Uint8Array): string {
  const path = join(scratch, name);
  writeFileSync(path, bytes);
  return path;
}

describe('capture/pcap: readPcap on real captures', function () {
  const fixtures = readdirSync(FIXTURES).filter((name) => name.endsWith('.pcap'));

  it('has the recorded fixtures to test against', function () {
    expect(fixtures.length).to.be.at.least(10);
  });

  for (const name of readdirSync(FIXTURES).filter((file) => file.endsWith('.pcap'))) {
    it(`reads every packet of ${name} (same count as tcpdump -r)`, function () {
      const file = readPcap(fixture(name));
      expect(file.truncated).to.equal(false);
      expect(file.snapLength).to.equal(128);
      expect(file.packets.length).to.equal(tcpdumpLines(join(FIXTURES, name)).length);
      for (const packet of file.packets) {
        expect(packet.data.length).to.be.at.most(128);
        expect(packet.originalLength).to.be.at.least(packet.data.length);
      }
    });
  }

  it('recognises the four link types tcpdump wrote', function () {
    expect(readPcap(fixture('syn-no-synack.pcap')).linkType).to.equal(LinkType.EN10MB);
    expect(readPcap(fixture('dns-nxdomain-sll.pcap')).linkType).to.equal(LinkType.LINUX_SLL);
    expect(readPcap(fixture('tcp-healthy-any-sll2.pcap')).linkType).to.equal(LinkType.LINUX_SLL2);
    expect(readPcap(fixture('icmp-echo-raw.pcap')).linkType).to.equal(LinkType.RAW);
  });

  it('reads microsecond and nanosecond timestamps', function () {
    const micro = readPcap(fixture('syn-no-synack.pcap'));
    const nano = readPcap(fixture('synack-dropped-source.pcap'));
    expect(micro.timestampResolution).to.equal('microsecond');
    expect(nano.timestampResolution).to.equal('nanosecond');
    for (const file of [micro, nano]) {
      const [first, second] = file.packets;
      expect(first.timestamp).to.be.within(1.7e9, 2.2e9);
      expect(second.timestamp).to.be.at.least(first.timestamp);
    }
    // tcpdump prints the nano file's first SYN and the SYN retransmission ~1 s apart.
    const syns = nano.packets.slice(0, 2);
    expect(syns[1].timestamp - syns[0].timestamp).to.be.within(0.9, 1.2);
    expect(nano.packets[0].timestampFraction).to.be.below(1e9);
  });

  it('reads a big-endian file (re-written from a real capture) exactly as tcpdump does', function () {
    const original = readPcap(fixture('mtu-frag-needed.pcap'));
    const swapped = writePcap({ ...original, byteOrder: 'big' });
    expect([...swapped.subarray(0, 4)]).to.deep.equal([0xa1, 0xb2, 0xc3, 0xd4]);
    const reread = readPcap(swapped);
    expect(reread.byteOrder).to.equal('big');
    expect(reread.linkType).to.equal(original.linkType);
    expect(reread.packets.map((p) => [p.timestamp, p.originalLength, Buffer.from(p.data).toString('hex')])).to.deep.equal(
      original.packets.map((p) => [p.timestamp, p.originalLength, Buffer.from(p.data).toString('hex')]),
    );
    expect(tcpdumpLines(writeScratch('big-endian.pcap', swapped))).to.deep.equal(tcpdumpLines(join(FIXTURES, 'mtu-frag-needed.pcap')));
  });

  it('round-trips a nanosecond file byte for byte', function () {
    const bytes = fixture('synack-dropped-destination.pcap');
    expect(Buffer.from(writePcap(readPcap(bytes))).equals(bytes)).to.equal(true);
  });

  it('keeps the whole records of a file cut at any byte and flags it truncated', function () {
    const bytes = fixture('dns-no-answer.pcap');
    const full = readPcap(bytes);
    const boundaries = new Set<number>();
    let offset = PCAP_GLOBAL_HEADER_LENGTH;
    boundaries.add(offset);
    for (const packet of full.packets) {
      offset += 16 + packet.data.length;
      boundaries.add(offset);
    }
    let previousCount = 0;
    for (let length = PCAP_GLOBAL_HEADER_LENGTH; length <= bytes.length; length++) {
      const file = readPcap(bytes.subarray(0, length));
      expect(file.truncated, `cut at ${length}`).to.equal(!boundaries.has(length));
      expect(file.packets.length).to.be.at.least(previousCount);
      previousCount = file.packets.length;
    }
    expect(previousCount).to.equal(full.packets.length);
  });

  it('stops at a corrupt record length instead of allocating garbage', function () {
    const bytes = Buffer.from(fixture('rst-refused.pcap'));
    // The second record's captured length, made absurd.
    const secondRecord = PCAP_GLOBAL_HEADER_LENGTH + 16 + readPcap(bytes).packets[0].data.length;
    bytes.writeUInt32LE(0x7fffffff, secondRecord + 8);
    const file = readPcap(bytes);
    expect(file.packets).to.have.length(1);
    expect(file.truncated).to.equal(true);
  });
});

describe('capture/pcap: format errors', function () {
  function formatError(bytes: Uint8Array): PcapFormatError {
    try {
      readPcap(bytes);
    } catch (error) {
      expect(error).to.be.instanceOf(PcapFormatError);
      return error as PcapFormatError;
    }
    throw new Error('expected a PcapFormatError');
  }

  it('rejects pcapng with a message saying how to get classic pcap', function () {
    // A pcapng Section Header Block: type 0x0A0D0D0A, length 28, byte-order magic 0x1A2B3C4D, v1.0.
    const sectionHeader = Buffer.alloc(28);
    sectionHeader.writeUInt32BE(0x0a0d0d0a, 0);
    sectionHeader.writeUInt32LE(28, 4);
    sectionHeader.writeUInt32LE(0x1a2b3c4d, 8);
    sectionHeader.writeUInt16LE(1, 12);
    sectionHeader.writeBigInt64LE(-1n, 16);
    sectionHeader.writeUInt32LE(28, 24);
    const error = formatError(sectionHeader);
    expect(error.code).to.equal('Pcapng');
    expect(error.message).to.match(/pcapng files are not supported/);
    expect(error.message).to.match(/tcpdump -w/);
    expect(formatError(sectionHeader.subarray(0, 8)).code).to.equal('Pcapng');
  });

  it('rejects short input, unknown magic and the modified-pcap variant', function () {
    expect(formatError(new Uint8Array(10)).code).to.equal('TooShort');
    const header = Buffer.from(fixture('rst-refused.pcap').subarray(0, 24));
    header.writeUInt32LE(0xdeadbeef, 0);
    const unknown = formatError(header);
    expect(unknown.code).to.equal('BadMagic');
    expect(unknown.message).to.contain('0xefbeadde');
    header.writeUInt32LE(0xa1b2cd34, 0);
    expect(formatError(header).code).to.equal('UnsupportedVariant');
  });

  it('accepts an empty capture (tcpdump output when nothing matched)', function () {
    const empty = writePcap({ linkType: LinkType.EN10MB, snapLength: 128, packets: [] });
    expect(empty.length).to.equal(24);
    const file = readPcap(empty);
    expect(file.packets).to.have.length(0);
    expect(file.truncated).to.equal(false);
    expect(tcpdumpLines(writeScratch('empty.pcap', empty))).to.have.length(0);
  });
});

describe('capture/pcap: capPcap', function () {
  const bytes = fixture('ipv6-packet-too-big.pcap');
  const total = readPcap(bytes).packets.length;

  it('keeps a capture that fits untouched in content', function () {
    const capped = capPcap(bytes, { maxBytes: 1 << 20 });
    expect(capped).to.include({ packetsKept: total, packetsDropped: 0, truncated: false });
    expect(Buffer.from(capped.bytes).equals(bytes)).to.equal(true);
  });

  for (const maxBytes of [24, 100, Math.floor(bytes.length / 2), bytes.length - 1]) {
    it(`fits ${maxBytes} bytes with whole records that tcpdump -r reads`, function () {
      const capped = capPcap(bytes, { maxBytes });
      expect(capped.bytes.length).to.be.at.most(maxBytes);
      expect(capped.packetsKept + capped.packetsDropped).to.equal(total);
      expect(capped.truncated).to.equal(true);
      expect(tcpdumpLines(writeScratch(`capped-${maxBytes}.pcap`, capped.bytes))).to.have.length(capped.packetsKept);
    });
  }

  it('cuts packets to a smaller snap length and records it in the header', function () {
    const capped = capPcap(bytes, { maxBytes: 1 << 20, snapLength: 64 });
    const file = readPcap(capped.bytes);
    expect(file.snapLength).to.equal(64);
    expect(file.packets).to.have.length(total);
    expect(Math.max(...file.packets.map((p) => p.data.length))).to.equal(64);
    expect(capped.truncated).to.equal(true);
    expect(tcpdumpLines(writeScratch('snap64.pcap', capped.bytes))).to.have.length(total);
  });

  it('refuses a budget smaller than the global header', function () {
    expect(() => capPcap(bytes, { maxBytes: 23 })).to.throw(RangeError);
  });
});
