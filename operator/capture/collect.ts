// Collects per-flow state from decoded packets.
//
// Flows are 5-tuples oriented client -> server. The orientation comes from the target (the
// destination as seen at this capture point), else from who sent the SYN / who uses port 53,
// else the lower port is taken as the server.

import { normalizeIp } from './address.ts';
import type { DecodedPacket, IcmpMessage, QuotedPacket, TcpHeader } from './decode.ts';
import { DEFAULT_LARGE_SEGMENT_BYTES } from './model.ts';
import type {
  AnalyzeOptions,
  CaptureTarget,
  DnsTransaction,
  EchoFlow,
  Endpoint,
  IcmpErrorEvent,
  TargetTransport,
  TcpDirectionStats,
  TcpFlow,
  UdpFlow,
} from './model.ts';
import { describeServers, endpointText } from './wording.ts';

export const DNS_PORT = 53;

/** Per-direction TCP state: the public counters plus sequence tracking. */
export interface DirectionState extends TcpDirectionStats {
  /** First sequence number seen (the ISN when the SYN was captured); others are relative to it. */
  base?: number;
  /** Highest relative sequence number sent so far: data starting below it is re-sent. */
  highestEnd: number;
  /** Highest relative sequence number the peer acknowledged. */
  highestAckByPeer?: number;
  /** Large retransmitted segments: relative start -> relative end. */
  large: Map<number, number>;
}

function newDirection(): DirectionState {
  return {
    packets: 0,
    payloadBytes: 0,
    largestSegment: 0,
    retransmissions: 0,
    largestRetransmittedSegment: 0,
    unacknowledgedLargeRetransmissions: 0,
    highestEnd: 0,
    large: new Map<number, number>(),
  };
}

export interface TcpFlowState extends Omit<TcpFlow, 'fromClient' | 'fromServer'> {
  fromClient: DirectionState;
  fromServer: DirectionState;
  synAckSeen: boolean;
}

export class TargetMatcher {
  readonly serverIps: Set<string> | undefined;
  readonly clientIps: Set<string> | undefined;
  readonly serverPort: number | undefined;
  readonly transport: TargetTransport | undefined;
  readonly dnsName: string | undefined;

  constructor(target: CaptureTarget | undefined) {
    this.serverIps = target?.serverIps?.length ? new Set(target.serverIps.map(normalizeIp)) : undefined;
    this.clientIps = target?.clientIps?.length ? new Set(target.clientIps.map(normalizeIp)) : undefined;
    this.serverPort = target?.serverPort;
    this.transport = target?.transport;
    this.dnsName = target?.dnsName?.toLowerCase().replace(/\.$/, '');
  }

  get hasServer(): boolean {
    return this.serverIps !== undefined || this.serverPort !== undefined;
  }

  isServer(ip: string, port?: number): boolean {
    if (!this.hasServer) return false;
    if (this.serverIps && !this.serverIps.has(ip)) return false;
    if (this.serverPort !== undefined && port !== undefined && port !== this.serverPort) return false;
    return true;
  }

  isClient(ip: string): boolean {
    return this.clientIps === undefined || this.clientIps.has(ip);
  }

  /** A flow is the target's when its server side is the target and its client is allowed. */
  matches(client: Endpoint, server: Endpoint, transport: TargetTransport): boolean {
    if (this.transport && this.transport !== transport) return false;
    if (!this.hasServer) return this.isClient(client.ip);
    return this.isServer(server.ip, server.port) && this.isClient(client.ip);
  }

  isRelevantDnsName(name: string | undefined): boolean {
    if (!this.dnsName) return true;
    if (name === undefined) return false;
    const lower = name.toLowerCase();
    return lower === this.dnsName || lower.startsWith(`${this.dnsName}.`);
  }

  describe(): string {
    const ips = this.serverIps ? [...this.serverIps] : [];
    const port = this.serverPort;
    if (ips.length === 0) return port !== undefined ? `port ${port}` : 'the target';
    return describeServers(ips.map((ip) => (port !== undefined ? endpointText({ ip, port }) : ip)));
  }
}

/** Decides which side of a TCP/UDP packet is the server before any flow exists. */
function orient(
  matcher: TargetMatcher,
  src: Endpoint,
  dst: Endpoint,
  hint: 'syn' | 'synAck' | 'none',
): { client: Endpoint; server: Endpoint; fromClient: boolean } {
  const asSent = { client: src, server: dst, fromClient: true };
  const reversed = { client: dst, server: src, fromClient: false };
  if (matcher.isServer(dst.ip, dst.port)) return asSent;
  if (matcher.isServer(src.ip, src.port)) return reversed;
  if (hint === 'syn') return asSent;
  if (hint === 'synAck') return reversed;
  if (dst.port === DNS_PORT && src.port !== DNS_PORT) return asSent;
  if (src.port === DNS_PORT && dst.port !== DNS_PORT) return reversed;
  // Ephemeral ports are high: the lower port is most likely the service.
  return src.port < dst.port ? reversed : asSent;
}

function flowKey(client: Endpoint, server: Endpoint): string {
  return `${client.ip}|${client.port}|${server.ip}|${server.port}`;
}

/** Sequence distance a - b in 32-bit space (positive when a is after b). */
function seqDelta(a: number, b: number): number {
  return ((a - b) | 0);
}

export class CaptureAnalyzer {
  readonly options: AnalyzeOptions;
  readonly matcher: TargetMatcher;
  readonly largeSegmentBytes: number;
  readonly tcp = new Map<string, TcpFlowState>();
  readonly udp = new Map<string, UdpFlow>();
  readonly echo = new Map<string, EchoFlow>();
  readonly icmpErrors: IcmpErrorEvent[] = [];
  readonly dns = new Map<string, DnsTransaction>();
  startTime = 0;

  constructor(options: AnalyzeOptions) {
    this.options = options;
    this.matcher = new TargetMatcher(options.target);
    this.largeSegmentBytes = options.largeSegmentBytes ?? DEFAULT_LARGE_SEGMENT_BYTES;
  }

  relative(timestamp: number): number {
    return timestamp - this.startTime;
  }

  add(packet: DecodedPacket): void {
    if (packet.tcp) this.addTcp(packet, packet.tcp);
    else if (packet.udp) this.addUdp(packet);
    else if (packet.icmp) this.addIcmp(packet, packet.icmp);
    if (packet.dns) this.addDns(packet);
  }

  addTcp(packet: DecodedPacket, tcp: TcpHeader): void {
    const at = this.relative(packet.timestamp);
    const src = { ip: packet.ip.src, port: tcp.srcPort };
    const dst = { ip: packet.ip.dst, port: tcp.dstPort };
    let flow = this.tcp.get(flowKey(src, dst));
    let fromClient = true;
    if (!flow) {
      flow = this.tcp.get(flowKey(dst, src));
      fromClient = false;
    }
    if (!flow) {
      const hint = tcp.flags.syn ? (tcp.flags.ack ? 'synAck' : 'syn') : 'none';
      const oriented = orient(this.matcher, src, dst, hint);
      fromClient = oriented.fromClient;
      flow = {
        client: oriented.client,
        server: oriented.server,
        matchesTarget: this.matcher.matches(oriented.client, oriented.server, 'tcp'),
        firstSeen: at,
        lastSeen: at,
        syns: 0,
        synAcks: 0,
        rstFromClient: 0,
        rstFromServer: 0,
        handshakeCompleted: false,
        synAckSeen: false,
        fromClient: newDirection(),
        fromServer: newDirection(),
      };
      this.tcp.set(flowKey(oriented.client, oriented.server), flow);
    }
    flow.lastSeen = at;
    const sender = fromClient ? flow.fromClient : flow.fromServer;
    const receiver = fromClient ? flow.fromServer : flow.fromClient;
    const { flags } = tcp;
    if (flags.syn && !flags.ack && fromClient) {
      flow.syns++;
      flow.firstSynAt ??= at;
    }
    if (flags.syn && flags.ack && !fromClient) {
      flow.synAcks++;
      flow.synAckSeen = true;
    }
    if (flags.ack && !flags.syn && fromClient && flow.synAckSeen) flow.handshakeCompleted = true;
    if (flags.rst) {
      if (fromClient) flow.rstFromClient++;
      else flow.rstFromServer++;
    }
    this.trackSequence(sender, receiver, tcp, packet.ip.totalLength);
  }

  trackSequence(sender: DirectionState, receiver: DirectionState, tcp: TcpHeader, ipLength: number): void {
    sender.packets++;
    sender.largestSegment = Math.max(sender.largestSegment, ipLength);
    if (tcp.flags.rst) return;
    if (sender.base === undefined) sender.base = tcp.seq;
    const start = seqDelta(tcp.seq, sender.base);
    const consumed = tcp.payloadLength + (tcp.flags.syn ? 1 : 0) + (tcp.flags.fin ? 1 : 0);
    // One-byte segments below the edge are keep-alives / window probes, not loss.
    const end = start + tcp.payloadLength;
    if (tcp.payloadLength > 1 && start < sender.highestEnd) {
      sender.retransmissions++;
      sender.largestRetransmittedSegment = Math.max(sender.largestRetransmittedSegment, ipLength);
      if (ipLength >= this.largeSegmentBytes) sender.large.set(start, Math.max(end, sender.large.get(start) ?? 0));
      // A re-sent segment may carry some new data past the edge as well.
      sender.payloadBytes += Math.max(0, end - sender.highestEnd);
    } else {
      sender.payloadBytes += tcp.payloadLength;
    }
    sender.highestEnd = Math.max(sender.highestEnd, start + consumed);
    if (tcp.flags.ack && receiver.base !== undefined) {
      const acked = seqDelta(tcp.ack, receiver.base);
      receiver.highestAckByPeer = Math.max(receiver.highestAckByPeer ?? acked, acked);
    }
  }

  addUdp(packet: DecodedPacket): void {
    const udp = packet.udp;
    if (!udp) return;
    const at = this.relative(packet.timestamp);
    const src = { ip: packet.ip.src, port: udp.srcPort };
    const dst = { ip: packet.ip.dst, port: udp.dstPort };
    let flow = this.udp.get(flowKey(src, dst));
    let fromClient = true;
    if (!flow) {
      flow = this.udp.get(flowKey(dst, src));
      fromClient = false;
    }
    if (!flow) {
      const oriented = orient(this.matcher, src, dst, 'none');
      fromClient = oriented.fromClient;
      flow = {
        client: oriented.client,
        server: oriented.server,
        matchesTarget: this.matcher.matches(oriented.client, oriented.server, 'udp'),
        firstSeen: at,
        lastSeen: at,
        packetsFromClient: 0,
        packetsFromServer: 0,
        largestFromClient: 0,
        largestFromServer: 0,
      };
      this.udp.set(flowKey(oriented.client, oriented.server), flow);
    }
    flow.lastSeen = at;
    if (fromClient) {
      flow.packetsFromClient++;
      flow.largestFromClient = Math.max(flow.largestFromClient, packet.ip.totalLength);
    } else {
      flow.packetsFromServer++;
      flow.largestFromServer = Math.max(flow.largestFromServer, packet.ip.totalLength);
    }
  }

  addIcmp(packet: DecodedPacket, icmp: IcmpMessage): void {
    const at = this.relative(packet.timestamp);
    if (icmp.kind === 'echoRequest' || icmp.kind === 'echoReply') {
      const request = icmp.kind === 'echoRequest';
      const client = request ? packet.ip.src : packet.ip.dst;
      const server = request ? packet.ip.dst : packet.ip.src;
      const key = `${client}|${server}|${icmp.echoId}`;
      let flow = this.echo.get(key);
      if (!flow) {
        const transportOk = !this.matcher.transport || this.matcher.transport === 'icmp';
        flow = {
          client,
          server,
          id: icmp.echoId ?? 0,
          matchesTarget:
            transportOk &&
            (this.matcher.serverIps ? this.matcher.serverIps.has(server) : true) &&
            this.matcher.isClient(client),
          firstRequestAt: at,
          requests: 0,
          replies: 0,
        };
        this.echo.set(key, flow);
      }
      if (request) flow.requests++;
      else flow.replies++;
      return;
    }
    if (icmp.kind === 'other') return;
    this.icmpErrors.push({
      at,
      from: packet.ip.src,
      kind: icmp.kind,
      version: icmp.version,
      type: icmp.type,
      code: icmp.code,
      nextHopMtu: icmp.nextHopMtu,
      quoted: icmp.quoted,
      matchesTarget: this.icmpMatchesTarget(icmp.quoted),
    });
  }

  icmpMatchesTarget(quoted: QuotedPacket | undefined): boolean {
    if (!this.matcher.hasServer) return true;
    if (!quoted) return false;
    // The quoted packet is either a request to the server or the server's reply.
    return this.matcher.isServer(quoted.dst, quoted.dstPort) || this.matcher.isServer(quoted.src, quoted.srcPort);
  }

  addDns(packet: DecodedPacket): void {
    const dns = packet.dns;
    if (!dns) return;
    const srcPort = packet.udp?.srcPort ?? packet.tcp?.srcPort ?? 0;
    const dstPort = packet.udp?.dstPort ?? packet.tcp?.dstPort ?? 0;
    const at = this.relative(packet.timestamp);
    const client = dns.qr ? { ip: packet.ip.dst, port: dstPort } : { ip: packet.ip.src, port: srcPort };
    const server = dns.qr ? { ip: packet.ip.src, port: srcPort } : { ip: packet.ip.dst, port: dstPort };
    const key = `${flowKey(client, server)}|${dns.id}`;
    let transaction = this.dns.get(key);
    if (!transaction) {
      transaction = {
        client,
        server,
        id: dns.id,
        name: dns.questionName,
        type: dns.questionType,
        queries: 0,
        responses: 0,
        relevant: false,
      };
      this.dns.set(key, transaction);
    }
    transaction.name ??= dns.questionName;
    transaction.type ??= dns.questionType;
    if (dns.qr) {
      transaction.responses++;
      transaction.rcode = dns.rcode;
      transaction.answerCount = dns.answerCount;
    } else {
      transaction.queries++;
      transaction.firstQueryAt ??= at;
    }
  }
}

export function publicDirection(state: DirectionState): TcpDirectionStats {
  return {
    packets: state.packets,
    payloadBytes: state.payloadBytes,
    largestSegment: state.largestSegment,
    retransmissions: state.retransmissions,
    largestRetransmittedSegment: state.largestRetransmittedSegment,
    unacknowledgedLargeRetransmissions: state.unacknowledgedLargeRetransmissions,
  };
}

export function finishDirection(state: DirectionState): void {
  const acked = state.highestAckByPeer ?? 0;
  state.unacknowledgedLargeRetransmissions = [...state.large.values()].filter((end) => end > acked).length;
}
