// Decodes the headers we reason about (link, IPv4/IPv6, TCP/UDP/ICMP/ICMPv6, DNS header and
// question) from captured bytes. Captures are headers-only (snap length ~128), so every read is
// bounds-checked: a short packet yields a DecodeFailure, never an exception.

import { formatIpv4, formatIpv6 } from './address.ts';
import { LinkType } from './pcap.ts';

export const IpProtocol = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58 } as const;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100]);
const MAX_VLAN_TAGS = 2;
const DNS_PORT = 53;

export type LinkDirection = 'incoming' | 'outgoing' | 'broadcast' | 'multicast' | 'otherhost';

export interface Ipv4Or6Header {
  version: 4 | 6;
  src: string;
  dst: string;
  /** Total length from the header (IPv6: 40 + payload length): the size of the packet on the wire. */
  totalLength: number;
  headerLength: number;
  /** The upper-layer protocol (IPv6: after walking extension headers). */
  protocol: number;
  ttl: number;
  dontFragment: boolean;
  /** Byte offset of this fragment; > 0 means no transport header is present. */
  fragmentOffset: number;
  moreFragments: boolean;
}

export interface TcpFlags {
  syn: boolean;
  ack: boolean;
  rst: boolean;
  fin: boolean;
  psh: boolean;
}

export interface TcpHeader {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: TcpFlags;
  headerLength: number;
  /** Payload bytes on the wire (from the IP length), not what was captured. */
  payloadLength: number;
}

export interface UdpHeader {
  srcPort: number;
  dstPort: number;
  /** UDP length field minus the 8-byte header. */
  payloadLength: number;
}

/** The packet an ICMP error quotes: which flow the error is about. */
export interface QuotedPacket {
  src: string;
  dst: string;
  protocol: number;
  srcPort?: number;
  dstPort?: number;
  /** Total length of the original packet as the router saw it. */
  totalLength: number;
}

export type IcmpKind =
  | 'echoRequest'
  | 'echoReply'
  | 'destinationUnreachable'
  | 'fragmentationNeeded'
  | 'timeExceeded'
  | 'other';

export interface IcmpMessage {
  version: 4 | 6;
  type: number;
  code: number;
  kind: IcmpKind;
  /** Next-hop MTU from "fragmentation needed" (v4 type 3 code 4) or "packet too big" (v6 type 2). */
  nextHopMtu?: number;
  echoId?: number;
  echoSeq?: number;
  quoted?: QuotedPacket;
}

export interface DnsHeader {
  id: number;
  /** true for a response, false for a query. */
  qr: boolean;
  opcode: number;
  rcode: number;
  truncatedFlag: boolean;
  questionCount: number;
  answerCount: number;
  /** The first question's name without the trailing dot ("." for the root); absent when cut off. */
  questionName?: string;
  questionType?: number;
}

export interface DecodedPacket {
  /** Seconds since the epoch. */
  timestamp: number;
  direction?: LinkDirection;
  ip: Ipv4Or6Header;
  tcp?: TcpHeader;
  udp?: UdpHeader;
  icmp?: IcmpMessage;
  dns?: DnsHeader;
}

export type DecodeFailureReason = 'truncated' | 'notIp' | 'unsupportedLinkType' | 'malformed';

export type DecodeResult =
  | { ok: true; packet: DecodedPacket }
  | { ok: false; reason: DecodeFailureReason };

export const DNS_RCODE_NAMES: Readonly<Record<number, string>> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
};

export function dnsRcodeName(rcode: number): string {
  return DNS_RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

const DNS_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 65: 'HTTPS',
};

export function dnsTypeName(type: number): string {
  return DNS_TYPE_NAMES[type] ?? `TYPE${type}`;
}

class Truncated extends Error {}
const TRUNCATED = new Truncated('truncated');

/** Bounds-checked big-endian reads over one packet. */
class Reader {
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
  has(offset: number, length: number): boolean {
    return offset >= 0 && offset + length <= this.bytes.length;
  }
  u8(offset: number): number {
    if (!this.has(offset, 1)) throw TRUNCATED;
    return this.bytes[offset];
  }
  u16(offset: number): number {
    if (!this.has(offset, 2)) throw TRUNCATED;
    return (this.bytes[offset] << 8) | this.bytes[offset + 1];
  }
  u32(offset: number): number {
    if (!this.has(offset, 4)) throw TRUNCATED;
    return (
      ((this.bytes[offset] << 24) >>> 0) +
      (this.bytes[offset + 1] << 16) +
      (this.bytes[offset + 2] << 8) +
      this.bytes[offset + 3]
    );
  }
  ipv4(offset: number): string {
    if (!this.has(offset, 4)) throw TRUNCATED;
    return formatIpv4(this.bytes, offset);
  }
  ipv6(offset: number): string {
    if (!this.has(offset, 16)) throw TRUNCATED;
    return formatIpv6(this.bytes, offset);
  }
}

const SLL_PACKET_TYPES: Readonly<Record<number, LinkDirection>> = {
  0: 'incoming',
  1: 'broadcast',
  2: 'multicast',
  3: 'otherhost',
  4: 'outgoing',
};

interface NetworkLayerStart {
  offset: number;
  ethertype: number;
  direction?: LinkDirection;
}

function findNetworkLayer(linkType: number, reader: Reader): NetworkLayerStart | DecodeFailureReason {
  switch (linkType) {
    case LinkType.EN10MB: {
      let offset = 12;
      let ethertype = reader.u16(offset);
      for (let tags = 0; ETHERTYPE_VLAN_TAGS.has(ethertype) && tags < MAX_VLAN_TAGS; tags++) {
        offset += 4;
        ethertype = reader.u16(offset);
      }
      return { offset: offset + 2, ethertype };
    }
    case LinkType.LINUX_SLL:
      return {
        offset: 16,
        ethertype: reader.u16(14),
        direction: SLL_PACKET_TYPES[reader.u16(0)],
      };
    case LinkType.LINUX_SLL2:
      return {
        offset: 20,
        ethertype: reader.u16(0),
        direction: SLL_PACKET_TYPES[reader.u8(10)],
      };
    case LinkType.RAW: {
      const version = reader.u8(0) >> 4;
      if (version === 4) return { offset: 0, ethertype: ETHERTYPE_IPV4 };
      if (version === 6) return { offset: 0, ethertype: ETHERTYPE_IPV6 };
      return 'notIp';
    }
    default:
      return 'unsupportedLinkType';
  }
}

function decodeIpv4Header(reader: Reader, offset: number): Ipv4Or6Header | 'malformed' {
  const versionAndLength = reader.u8(offset);
  if (versionAndLength >> 4 !== 4) return 'malformed';
  const headerLength = (versionAndLength & 0x0f) * 4;
  if (headerLength < 20) return 'malformed';
  const flagsAndOffset = reader.u16(offset + 6);
  const header: Ipv4Or6Header = {
    version: 4,
    totalLength: reader.u16(offset + 2),
    headerLength,
    dontFragment: (flagsAndOffset & 0x4000) !== 0,
    moreFragments: (flagsAndOffset & 0x2000) !== 0,
    fragmentOffset: (flagsAndOffset & 0x1fff) * 8,
    ttl: reader.u8(offset + 8),
    protocol: reader.u8(offset + 9),
    src: reader.ipv4(offset + 12),
    dst: reader.ipv4(offset + 16),
  };
  // Options must be present for the transport header to be located.
  if (!reader.has(offset, headerLength)) throw TRUNCATED;
  return header;
}

const IPV6_EXTENSION_HEADERS = new Set([0, 43, 60]);
const IPV6_FRAGMENT_HEADER = 44;
const MAX_IPV6_EXTENSION_HEADERS = 8;

function decodeIpv6Header(reader: Reader, offset: number): Ipv4Or6Header | 'malformed' {
  if (reader.u8(offset) >> 4 !== 6) return 'malformed';
  const payloadLength = reader.u16(offset + 4);
  let nextHeader = reader.u8(offset + 6);
  const header: Ipv4Or6Header = {
    version: 6,
    totalLength: 40 + payloadLength,
    headerLength: 40,
    protocol: nextHeader,
    ttl: reader.u8(offset + 7),
    src: reader.ipv6(offset + 8),
    dst: reader.ipv6(offset + 24),
    // IPv6 routers never fragment: every packet behaves as if DF were set.
    dontFragment: true,
    fragmentOffset: 0,
    moreFragments: false,
  };
  let cursor = offset + 40;
  for (let count = 0; count < MAX_IPV6_EXTENSION_HEADERS; count++) {
    if (IPV6_EXTENSION_HEADERS.has(nextHeader)) {
      const following = reader.u8(cursor);
      cursor += (reader.u8(cursor + 1) + 1) * 8;
      nextHeader = following;
    } else if (nextHeader === IPV6_FRAGMENT_HEADER) {
      const following = reader.u8(cursor);
      const offsetAndFlags = reader.u16(cursor + 2);
      header.fragmentOffset = offsetAndFlags & 0xfff8;
      header.moreFragments = (offsetAndFlags & 1) !== 0;
      cursor += 8;
      nextHeader = following;
    } else {
      break;
    }
  }
  header.protocol = nextHeader;
  header.headerLength = cursor - offset;
  return header;
}

function decodeIpHeader(reader: Reader, offset: number): Ipv4Or6Header | 'malformed' {
  const version = reader.u8(offset) >> 4;
  if (version === 4) return decodeIpv4Header(reader, offset);
  if (version === 6) return decodeIpv6Header(reader, offset);
  return 'malformed';
}

function decodeTcp(reader: Reader, offset: number, ipPayloadLength: number): TcpHeader {
  const flags = reader.u8(offset + 13);
  const headerLength = (reader.u8(offset + 12) >> 4) * 4;
  return {
    srcPort: reader.u16(offset),
    dstPort: reader.u16(offset + 2),
    seq: reader.u32(offset + 4),
    ack: reader.u32(offset + 8),
    headerLength,
    payloadLength: Math.max(0, ipPayloadLength - headerLength),
    flags: {
      fin: (flags & 0x01) !== 0,
      syn: (flags & 0x02) !== 0,
      rst: (flags & 0x04) !== 0,
      psh: (flags & 0x08) !== 0,
      ack: (flags & 0x10) !== 0,
    },
  };
}

function decodeUdp(reader: Reader, offset: number): UdpHeader {
  return {
    srcPort: reader.u16(offset),
    dstPort: reader.u16(offset + 2),
    payloadLength: Math.max(0, reader.u16(offset + 4) - 8),
  };
}

/** The original packet inside an ICMP error; partial data yields what could be read. */
function decodeQuoted(reader: Reader, offset: number): QuotedPacket | undefined {
  try {
    const header = decodeIpHeader(reader, offset);
    if (header === 'malformed') return undefined;
    const quoted: QuotedPacket = {
      src: header.src,
      dst: header.dst,
      protocol: header.protocol,
      totalLength: header.totalLength,
    };
    const transport = offset + header.headerLength;
    const hasPorts = header.protocol === IpProtocol.TCP || header.protocol === IpProtocol.UDP;
    if (hasPorts && header.fragmentOffset === 0 && reader.has(transport, 4)) {
      quoted.srcPort = reader.u16(transport);
      quoted.dstPort = reader.u16(transport + 2);
    }
    return quoted;
  } catch (error) {
    if (error instanceof Truncated) return undefined;
    throw error;
  }
}

function decodeIcmpV4(reader: Reader, offset: number): IcmpMessage {
  const type = reader.u8(offset);
  const code = reader.u8(offset + 1);
  const message: IcmpMessage = { version: 4, type, code, kind: 'other' };
  if (type === 0 || type === 8) {
    message.kind = type === 8 ? 'echoRequest' : 'echoReply';
    message.echoId = reader.u16(offset + 4);
    message.echoSeq = reader.u16(offset + 6);
  } else if (type === 3 || type === 11) {
    if (type === 11) message.kind = 'timeExceeded';
    else if (code === 4) message.kind = 'fragmentationNeeded';
    else message.kind = 'destinationUnreachable';
    if (message.kind === 'fragmentationNeeded' && reader.has(offset + 6, 2)) {
      message.nextHopMtu = reader.u16(offset + 6);
    }
    message.quoted = decodeQuoted(reader, offset + 8);
  }
  return message;
}

function decodeIcmpV6(reader: Reader, offset: number): IcmpMessage {
  const type = reader.u8(offset);
  const code = reader.u8(offset + 1);
  const message: IcmpMessage = { version: 6, type, code, kind: 'other' };
  if (type === 128 || type === 129) {
    message.kind = type === 128 ? 'echoRequest' : 'echoReply';
    message.echoId = reader.u16(offset + 4);
    message.echoSeq = reader.u16(offset + 6);
  } else if (type === 1 || type === 2 || type === 3) {
    message.kind = type === 1 ? 'destinationUnreachable' : type === 2 ? 'fragmentationNeeded' : 'timeExceeded';
    if (type === 2 && reader.has(offset + 4, 4)) message.nextHopMtu = reader.u32(offset + 4);
    message.quoted = decodeQuoted(reader, offset + 8);
  }
  return message;
}

/** Labels are at most 63 bytes; names at most 255. A pointer loop cannot outlast this. */
const MAX_DNS_NAME_STEPS = 128;

function readDnsName(reader: Reader, messageStart: number, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let cursor = offset;
  let end = -1;
  for (let steps = 0; steps < MAX_DNS_NAME_STEPS; steps++) {
    const length = reader.u8(cursor);
    if (length === 0) {
      if (end < 0) end = cursor + 1;
      return { name: labels.length ? labels.join('.') : '.', end };
    }
    if ((length & 0xc0) === 0xc0) {
      const pointer = ((length & 0x3f) << 8) | reader.u8(cursor + 1);
      if (end < 0) end = cursor + 2;
      cursor = messageStart + pointer;
      continue;
    }
    if (length > 63) throw TRUNCATED;
    if (!reader.has(cursor + 1, length)) throw TRUNCATED;
    let label = '';
    for (const byte of reader.bytes.subarray(cursor + 1, cursor + 1 + length)) {
      // Printable ASCII as is; anything else escaped the way dig prints it.
      label += byte > 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\${byte.toString().padStart(3, '0')}`;
    }
    labels.push(label);
    cursor += 1 + length;
  }
  throw TRUNCATED;
}

/**
 * Decodes a DNS message header and its first question. Returns undefined if even the 12-byte
 * header is cut off; a cut-off question leaves questionName undefined.
 */
export function decodeDnsMessage(bytes: Uint8Array, offset = 0): DnsHeader | undefined {
  const reader = new Reader(bytes);
  if (!reader.has(offset, 12)) return undefined;
  const flags = reader.u16(offset + 2);
  const header: DnsHeader = {
    id: reader.u16(offset),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0x0f,
    truncatedFlag: (flags & 0x0200) !== 0,
    rcode: flags & 0x000f,
    questionCount: reader.u16(offset + 4),
    answerCount: reader.u16(offset + 6),
  };
  if (header.questionCount > 0) {
    try {
      const { name, end } = readDnsName(reader, offset, offset + 12);
      header.questionName = name;
      if (reader.has(end, 2)) header.questionType = reader.u16(end);
    } catch (error) {
      if (!(error instanceof Truncated)) throw error;
    }
  }
  return header;
}

function decodeLayers(linkType: number, reader: Reader, timestamp: number, originalLength: number): DecodeResult {
  const start = findNetworkLayer(linkType, reader);
  if (typeof start === 'string') return { ok: false, reason: start };
  if (start.ethertype !== ETHERTYPE_IPV4 && start.ethertype !== ETHERTYPE_IPV6) return { ok: false, reason: 'notIp' };
  const ip = decodeIpHeader(reader, start.offset);
  if (ip === 'malformed') return { ok: false, reason: 'malformed' };
  if (ip.totalLength < ip.headerLength) {
    // Segmentation offload can hand tcpdump super-packets whose length field is 0.
    ip.totalLength = Math.max(ip.headerLength, originalLength - start.offset);
  }
  const packet: DecodedPacket = { timestamp, ip };
  if (start.direction) packet.direction = start.direction;
  if (ip.fragmentOffset > 0) return { ok: true, packet };
  const transport = start.offset + ip.headerLength;
  const ipPayloadLength = ip.totalLength - ip.headerLength;
  switch (ip.protocol) {
    case IpProtocol.TCP: {
      packet.tcp = decodeTcp(reader, transport, ipPayloadLength);
      const tcp = packet.tcp;
      if ((tcp.srcPort === DNS_PORT || tcp.dstPort === DNS_PORT) && tcp.payloadLength > 2) {
        // DNS over TCP: only a segment holding exactly one length-prefixed message is decoded.
        const payload = transport + tcp.headerLength;
        if (reader.has(payload, 2) && reader.u16(payload) === tcp.payloadLength - 2) {
          const dns = decodeDnsMessage(reader.bytes, payload + 2);
          if (dns) packet.dns = dns;
        }
      }
      break;
    }
    case IpProtocol.UDP: {
      packet.udp = decodeUdp(reader, transport);
      if (packet.udp.srcPort === DNS_PORT || packet.udp.dstPort === DNS_PORT) {
        const dns = decodeDnsMessage(reader.bytes, transport + 8);
        if (dns) packet.dns = dns;
      }
      break;
    }
    case IpProtocol.ICMP:
      if (ip.version === 4) packet.icmp = decodeIcmpV4(reader, transport);
      break;
    case IpProtocol.ICMPV6:
      if (ip.version === 6) packet.icmp = decodeIcmpV6(reader, transport);
      break;
  }
  return { ok: true, packet };
}

/**
 * Decodes one captured packet. Never throws on short or odd data: the failure reason says why
 * a packet could not be used (truncated before the headers we need, not IP, unknown link type).
 */
export function decodePacket(linkType: number, data: Uint8Array, timestamp = 0, originalLength = data.length): DecodeResult {
  const reader = new Reader(data);
  try {
    return decodeLayers(linkType, reader, timestamp, originalLength);
  } catch (error) {
    if (error instanceof Truncated) return { ok: false, reason: 'truncated' };
    throw error;
  }
}
