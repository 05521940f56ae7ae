// A small reader/writer for classic libpcap files (what `tcpdump -w` writes).
//
// Why our own: the npm candidates checked (pcap-parser 0.2.1, a stream-era parser without
// link-layer handling; pcap 3.x, a native libpcap binding; pcapjs 0.0.2, unmaintained) are
// either native, stale or too thin. The format is 24 + 16 bytes of headers, so a reader we
// can make robust against truncated files is smaller than any of them.
//
// Format reference: https://www.tcpdump.org/manpages/pcap-savefile.5.html

/** Link-layer header types we decode (LINKTYPE_* values as stored in files). */
export const LinkType = {
  /** Ethernet: what tcpdump writes for eth0 / veth interfaces. */
  EN10MB: 1,
  /** Raw IPv4/IPv6: tun devices, some tunnel interfaces. */
  RAW: 101,
  /** Linux cooked v1: `tcpdump -i any` before libpcap 1.10, or `-y LINUX_SLL`. */
  LINUX_SLL: 113,
  /** Linux cooked v2: `tcpdump -i any` with libpcap >= 1.10. */
  LINUX_SLL2: 276,
} as const;

export type TimestampResolution = 'microsecond' | 'nanosecond';
export type ByteOrder = 'little' | 'big';

export interface PcapPacket {
  /** Capture time in seconds since the epoch, as a float (sub-microsecond precision is lost). */
  timestamp: number;
  /** Raw timestamp fields, kept so a file can be re-written exactly. */
  timestampSeconds: number;
  /** Microseconds or nanoseconds, depending on the file's resolution. */
  timestampFraction: number;
  /** Length of the packet on the wire. */
  originalLength: number;
  /** Bytes captured (at most the snap length). data.length === capturedLength. */
  data: Uint8Array;
}

export interface PcapFile {
  byteOrder: ByteOrder;
  timestampResolution: TimestampResolution;
  versionMajor: number;
  versionMinor: number;
  snapLength: number;
  linkType: number;
  packets: PcapPacket[];
  /** True when the file ended inside a record (tcpdump killed mid-write, or a size cap). */
  truncated: boolean;
}

export const PCAP_GLOBAL_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;

const MAGIC_MICROSECONDS = 0xa1b2c3d4;
const MAGIC_NANOSECONDS = 0xa1b23c4d;
const MAGIC_PCAPNG_SECTION_HEADER = 0x0a0d0d0a;
const MAGIC_KUZNETZOV_MODIFIED = 0xa1b2cd34;

/** A record larger than this is treated as corruption rather than data (libpcap's own bound). */
const MAX_SANE_RECORD_LENGTH = 262144;

export const PcapErrorCode = {
  TooShort: 'TooShort',
  Pcapng: 'Pcapng',
  UnsupportedVariant: 'UnsupportedVariant',
  BadMagic: 'BadMagic',
} as const;
export type PcapErrorCode = (typeof PcapErrorCode)[keyof typeof PcapErrorCode];

export class PcapFormatError extends Error {
  readonly code: PcapErrorCode;
  constructor(code: PcapErrorCode, message: string) {
    super(message);
    this.name = 'PcapFormatError';
    this.code = code;
  }
}

const ERROR_TOO_SHORT = 'not a pcap file: shorter than the 24-byte global header';
const ERROR_PCAPNG =
  'pcapng files are not supported: capture with `tcpdump -w` (classic pcap) or convert with `editcap -F pcap`';
const ERROR_MODIFIED =
  'the "modified" (Kuznetzov) pcap variant is not supported: convert with `editcap -F pcap`';

function formatMagic(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

interface HeaderLayout {
  byteOrder: ByteOrder;
  timestampResolution: TimestampResolution;
}

function detectLayout(view: DataView): HeaderLayout {
  const asLittle = view.getUint32(0, true);
  const asBig = view.getUint32(0, false);
  if (asBig === MAGIC_PCAPNG_SECTION_HEADER) {
    throw new PcapFormatError(PcapErrorCode.Pcapng, ERROR_PCAPNG);
  }
  for (const [value, byteOrder] of [
    [asLittle, 'little'],
    [asBig, 'big'],
  ] as const) {
    if (value === MAGIC_MICROSECONDS) return { byteOrder, timestampResolution: 'microsecond' };
    if (value === MAGIC_NANOSECONDS) return { byteOrder, timestampResolution: 'nanosecond' };
    if (value === MAGIC_KUZNETZOV_MODIFIED) {
      throw new PcapFormatError(PcapErrorCode.UnsupportedVariant, ERROR_MODIFIED);
    }
  }
  throw new PcapFormatError(
    PcapErrorCode.BadMagic,
    `not a pcap file: unknown magic number ${formatMagic(asBig)}`,
  );
}

function toView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Parses a classic pcap file. Throws PcapFormatError only when the global header is unusable;
 * a file cut short inside a record yields the complete records and `truncated: true`.
 */
export function readPcap(bytes: Uint8Array): PcapFile {
  if (bytes.byteLength < PCAP_GLOBAL_HEADER_LENGTH) {
    // Four bytes are enough to recognise pcapng, which deserves its own message.
    if (bytes.byteLength >= 4 && toView(bytes).getUint32(0, false) === MAGIC_PCAPNG_SECTION_HEADER) {
      throw new PcapFormatError(PcapErrorCode.Pcapng, ERROR_PCAPNG);
    }
    throw new PcapFormatError(PcapErrorCode.TooShort, ERROR_TOO_SHORT);
  }
  const view = toView(bytes);
  const layout = detectLayout(view);
  const little = layout.byteOrder === 'little';
  const fractionDivisor = layout.timestampResolution === 'nanosecond' ? 1e9 : 1e6;
  const snapLength = view.getUint32(16, little);
  const file: PcapFile = {
    ...layout,
    versionMajor: view.getUint16(4, little),
    versionMinor: view.getUint16(6, little),
    snapLength,
    // The upper bits may carry FCS information; the link type is the low 16 bits.
    linkType: view.getUint32(20, little) & 0xffff,
    packets: [],
    truncated: false,
  };
  const recordLimit = Math.max(snapLength, MAX_SANE_RECORD_LENGTH);
  let offset = PCAP_GLOBAL_HEADER_LENGTH;
  while (offset < bytes.byteLength) {
    if (offset + PCAP_RECORD_HEADER_LENGTH > bytes.byteLength) {
      file.truncated = true;
      break;
    }
    const timestampSeconds = view.getUint32(offset, little);
    const timestampFraction = view.getUint32(offset + 4, little);
    const capturedLength = view.getUint32(offset + 8, little);
    const originalLength = view.getUint32(offset + 12, little);
    const dataStart = offset + PCAP_RECORD_HEADER_LENGTH;
    if (capturedLength > recordLimit || dataStart + capturedLength > bytes.byteLength) {
      // Either garbage or the tail of a file cut short: keep what we have.
      file.truncated = true;
      break;
    }
    file.packets.push({
      timestamp: timestampSeconds + timestampFraction / fractionDivisor,
      timestampSeconds,
      timestampFraction,
      originalLength,
      data: bytes.subarray(dataStart, dataStart + capturedLength),
    });
    offset = dataStart + capturedLength;
  }
  return file;
}

export interface WritablePcap {
  linkType: number;
  snapLength: number;
  packets: ReadonlyArray<Pick<PcapPacket, 'timestampSeconds' | 'timestampFraction' | 'originalLength' | 'data'>>;
  byteOrder?: ByteOrder;
  timestampResolution?: TimestampResolution;
}

/** Serialises a classic pcap file (version 2.4). */
export function writePcap(file: WritablePcap): Uint8Array {
  const little = (file.byteOrder ?? 'little') === 'little';
  const magic = file.timestampResolution === 'nanosecond' ? MAGIC_NANOSECONDS : MAGIC_MICROSECONDS;
  let total = PCAP_GLOBAL_HEADER_LENGTH;
  for (const packet of file.packets) total += PCAP_RECORD_HEADER_LENGTH + packet.data.byteLength;
  const out = new Uint8Array(total);
  const view = toView(out);
  view.setUint32(0, magic, little);
  view.setUint16(4, 2, little);
  view.setUint16(6, 4, little);
  view.setInt32(8, 0, little);
  view.setUint32(12, 0, little);
  view.setUint32(16, file.snapLength, little);
  view.setUint32(20, file.linkType, little);
  let offset = PCAP_GLOBAL_HEADER_LENGTH;
  for (const packet of file.packets) {
    view.setUint32(offset, packet.timestampSeconds, little);
    view.setUint32(offset + 4, packet.timestampFraction, little);
    view.setUint32(offset + 8, packet.data.byteLength, little);
    view.setUint32(offset + 12, packet.originalLength, little);
    out.set(packet.data, offset + PCAP_RECORD_HEADER_LENGTH);
    offset += PCAP_RECORD_HEADER_LENGTH + packet.data.byteLength;
  }
  return out;
}

export interface CapPcapOptions {
  /** The result never exceeds this many bytes (whole records only). */
  maxBytes: number;
  /** Cut every packet to at most this many captured bytes (headers only). */
  snapLength?: number;
}

export interface CappedPcap {
  bytes: Uint8Array;
  packetsKept: number;
  packetsDropped: number;
  /** True when packets were dropped or cut, or the input itself was truncated. */
  truncated: boolean;
}

/**
 * Re-writes a capture so it fits a size budget: packets cut to `snapLength`, then records
 * dropped from the end until the file fits. The output is always a valid pcap file that
 * `tcpdump -r` opens, which a raw byte slice would not be.
 */
export function capPcap(bytes: Uint8Array, options: CapPcapOptions): CappedPcap {
  if (options.maxBytes < PCAP_GLOBAL_HEADER_LENGTH) {
    throw new RangeError(`maxBytes must be at least ${PCAP_GLOBAL_HEADER_LENGTH}`);
  }
  const file = readPcap(bytes);
  const snapLength =
    options.snapLength !== undefined ? Math.min(options.snapLength, file.snapLength || options.snapLength) : file.snapLength;
  let cut = false;
  const kept: PcapPacket[] = [];
  let size = PCAP_GLOBAL_HEADER_LENGTH;
  for (const packet of file.packets) {
    let data = packet.data;
    if (options.snapLength !== undefined && data.byteLength > options.snapLength) {
      data = data.subarray(0, options.snapLength);
      cut = true;
    }
    if (size + PCAP_RECORD_HEADER_LENGTH + data.byteLength > options.maxBytes) break;
    size += PCAP_RECORD_HEADER_LENGTH + data.byteLength;
    kept.push({ ...packet, data });
  }
  const packetsDropped = file.packets.length - kept.length;
  return {
    bytes: writePcap({
      linkType: file.linkType,
      snapLength,
      packets: kept,
      byteOrder: file.byteOrder,
      timestampResolution: file.timestampResolution,
    }),
    packetsKept: kept.length,
    packetsDropped,
    truncated: cut || packetsDropped > 0 || file.truncated,
  };
}
