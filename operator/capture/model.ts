// The data model of a capture analysis: targets, per-flow counts, findings and verdicts.
// Everything here is plain data that can be logged, compared in tests or summarised for status.

import type { DecodeFailureReason, QuotedPacket } from './decode.ts';

export type CapturePoint = 'source' | 'destination';
export type TargetTransport = 'tcp' | 'udp' | 'icmp';

export interface Endpoint {
  ip: string;
  port: number;
}

/** What the check talks to, as seen at this capture point (ClusterIP at the source, pod IP at the destination). */
export interface CaptureTarget {
  serverIps?: string[];
  serverPort?: number;
  transport?: TargetTransport;
  /** Restricts flows to these clients (useful at a destination that serves many clients). */
  clientIps?: string[];
  /** Restricts DNS verdicts to this name and its search-domain expansions. */
  dnsName?: string;
}

export interface AnalyzeOptions {
  point: CapturePoint;
  target?: CaptureTarget;
  /** IP total length at or above which a retransmitted segment points at an MTU problem. */
  largeSegmentBytes?: number;
}

export const DEFAULT_LARGE_SEGMENT_BYTES = 1200;

export const CaptureReason = {
  Healthy: 'Healthy',
  NoTraffic: 'NoTraffic',
  NoSynAck: 'NoSynAck',
  HandshakeIncomplete: 'HandshakeIncomplete',
  ConnectionReset: 'ConnectionReset',
  DestinationUnreachable: 'DestinationUnreachable',
  FragmentationNeeded: 'FragmentationNeeded',
  LargeSegmentsRetransmitted: 'LargeSegmentsRetransmitted',
  DnsNoAnswer: 'DnsNoAnswer',
  DnsError: 'DnsError',
  NoEchoReply: 'NoEchoReply',
  NoUdpReply: 'NoUdpReply',
} as const;
export type CaptureReason = (typeof CaptureReason)[keyof typeof CaptureReason];

export type Severity = 'ok' | 'warning' | 'failure';

export interface Finding {
  reason: CaptureReason;
  severity: Severity;
  message: string;
}

export interface TcpDirectionStats {
  packets: number;
  payloadBytes: number;
  /** Largest IP total length sent in this direction. */
  largestSegment: number;
  /** Data segments re-sending sequence space already sent. */
  retransmissions: number;
  largestRetransmittedSegment: number;
  /** Retransmitted segments >= largeSegmentBytes never acknowledged by the peer. */
  unacknowledgedLargeRetransmissions: number;
}

export interface TcpFlow {
  client: Endpoint;
  server: Endpoint;
  matchesTarget: boolean;
  firstSeen: number;
  lastSeen: number;
  syns: number;
  synAcks: number;
  rstFromClient: number;
  rstFromServer: number;
  handshakeCompleted: boolean;
  firstSynAt?: number;
  fromClient: TcpDirectionStats;
  fromServer: TcpDirectionStats;
}

export interface UdpFlow {
  client: Endpoint;
  server: Endpoint;
  matchesTarget: boolean;
  firstSeen: number;
  lastSeen: number;
  packetsFromClient: number;
  packetsFromServer: number;
  largestFromClient: number;
  largestFromServer: number;
}

export interface EchoFlow {
  client: string;
  server: string;
  id: number;
  matchesTarget: boolean;
  firstRequestAt: number;
  requests: number;
  replies: number;
}

export interface IcmpErrorEvent {
  at: number;
  /** Who sent the ICMP error (router or host). */
  from: string;
  kind: 'destinationUnreachable' | 'fragmentationNeeded' | 'timeExceeded';
  version: 4 | 6;
  type: number;
  code: number;
  nextHopMtu?: number;
  quoted?: QuotedPacket;
  matchesTarget: boolean;
}

export interface DnsTransaction {
  client: Endpoint;
  server: Endpoint;
  id: number;
  name?: string;
  type?: number;
  /** Copies of the query seen (a resolver may resend with the same id). */
  queries: number;
  responses: number;
  firstQueryAt?: number;
  rcode?: number;
  answerCount?: number;
  relevant: boolean;
}

export interface PacketCounts {
  total: number;
  decoded: number;
  /** Cut too short, malformed or of an unknown link type. */
  undecodable: number;
  /** Decodable link layer, but not IP (ARP, LLDP...). */
  notIp: number;
  byReason: Partial<Record<DecodeFailureReason, number>>;
}

/** Requests towards the target and replies from it: what attributeHop() compares. */
export interface TargetExchange {
  kind: 'tcp' | 'udp' | 'dns' | 'icmp' | 'none';
  requests: number;
  replies: number;
}

export interface CaptureAnalysis {
  point: CapturePoint;
  linkType: number;
  fileTruncated: boolean;
  startTime: number;
  durationSeconds: number;
  packets: PacketCounts;
  tcpFlows: TcpFlow[];
  udpFlows: UdpFlow[];
  echoFlows: EchoFlow[];
  icmpErrors: IcmpErrorEvent[];
  dns: DnsTransaction[];
  exchange: TargetExchange;
  findings: Finding[];
  verdict: Finding;
}
