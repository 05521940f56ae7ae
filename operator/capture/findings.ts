// The rules that turn collected flow state into findings (reason + severity + one sentence),
// and the request/reply counts attributeHop() compares. Each rule looks only at the target's
// flows; the most severe finding becomes the verdict, rule order breaking ties.

import type { CaptureAnalyzer, TargetMatcher, TcpFlowState } from './collect.ts';
import { DNS_PORT } from './collect.ts';
import { dnsRcodeName, dnsTypeName } from './decode.ts';
import type { QuotedPacket } from './decode.ts';
import { CaptureReason } from './model.ts';
import type { CaptureAnalysis, DnsTransaction, EchoFlow, Finding, IcmpErrorEvent, Severity, TargetExchange, UdpFlow } from './model.ts';
import { describeServers, endpointText, seconds } from './wording.ts';
import { plural } from '../util/text.ts';

const ICMPV4_UNREACHABLE_CODES: Readonly<Record<number, string>> = {
  0: 'network unreachable',
  1: 'host unreachable',
  2: 'protocol unreachable',
  3: 'port unreachable',
  9: 'network administratively prohibited',
  10: 'host administratively prohibited',
  13: 'communication administratively prohibited',
};
const ICMPV6_UNREACHABLE_CODES: Readonly<Record<number, string>> = {
  0: 'no route to destination',
  1: 'communication administratively prohibited',
  3: 'address unreachable',
  4: 'port unreachable',
  5: 'source address failed policy',
  6: 'reject route',
};

const SEVERITY_RANK: Record<Severity, number> = { failure: 0, warning: 1, ok: 2 };
const UNREADABLE_NAME = 'an unreadable name';

function quotedDestination(quoted: QuotedPacket | undefined): string {
  if (!quoted) return 'an unknown destination';
  return quoted.dstPort !== undefined ? endpointText({ ip: quoted.dst, port: quoted.dstPort }) : quoted.dst;
}

function sum<T>(items: T[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + value(item), 0);
}

/** The target's share of what was collected. */
interface TargetView {
  matcher: TargetMatcher;
  /** Seconds from the first packet to the last one of the capture. */
  endTime: number;
  totalPackets: number;
  tcpFlows: TcpFlowState[];
  udpFlows: UdpFlow[];
  echoFlows: EchoFlow[];
  dns: DnsTransaction[];
  icmpErrors: IcmpErrorEvent[];
}

function targetView(analyzer: CaptureAnalyzer, endTime: number, totalPackets: number): TargetView {
  const dns = [...analyzer.dns.values()].filter((t) => t.relevant);
  return {
    matcher: analyzer.matcher,
    endTime,
    totalPackets,
    tcpFlows: [...analyzer.tcp.values()].filter((flow) => flow.matchesTarget),
    udpFlows: [...analyzer.udp.values()].filter((flow) => flow.matchesTarget && flow.server.port !== DNS_PORT),
    echoFlows: [...analyzer.echo.values()].filter((flow) => flow.matchesTarget),
    dns,
    // Errors about DNS packets count too when DNS is part of the picture.
    icmpErrors: analyzer.icmpErrors.filter((event) => event.matchesTarget || (event.quoted?.dstPort === DNS_PORT && dns.length > 0)),
  };
}

/** A router or the host refused the packets outright. */
function unreachableFindings(view: TargetView): Finding[] {
  const unreachable = view.icmpErrors.filter((event) => event.kind === 'destinationUnreachable');
  if (unreachable.length === 0) return [];
  const first = unreachable[0];
  const names = first.version === 4 ? ICMPV4_UNREACHABLE_CODES : ICMPV6_UNREACHABLE_CODES;
  const what = names[first.code] ?? 'destination unreachable';
  return [
    {
      reason: CaptureReason.DestinationUnreachable,
      severity: 'failure',
      message: `${plural(unreachable.length, 'ICMP error')}: ${what} (code ${first.code}) from ${first.from} for packets to ${quotedDestination(first.quoted)}`,
    },
  ];
}

/** RSTs from the server, SYNs nobody answered, handshakes the client never completed. */
function tcpFindings(view: TargetView): Finding[] {
  const findings: Finding[] = [];
  const flows = view.tcpFlows;
  const servers = (list: TcpFlowState[]) => describeServers(list.map((flow) => endpointText(flow.server)));
  const refused = flows.filter((flow) => flow.rstFromServer > 0 && !flow.synAckSeen);
  const resetAfterHandshake = flows.filter((flow) => flow.rstFromServer > 0 && flow.synAckSeen);
  if (refused.length > 0) {
    findings.push({
      reason: CaptureReason.ConnectionReset,
      severity: 'failure',
      message: `${servers(refused)} answered ${plural(sum(refused, (f) => f.syns), 'SYN')} with RST (connection refused)`,
    });
  } else if (resetAfterHandshake.length > 0) {
    findings.push({
      reason: CaptureReason.ConnectionReset,
      severity: 'failure',
      message: `${servers(resetAfterHandshake)} reset ${plural(resetAfterHandshake.length, 'connection')} after the handshake`,
    });
  }
  const unanswered = flows.filter((flow) => flow.syns > 0 && flow.synAcks === 0 && flow.rstFromServer === 0);
  if (unanswered.length > 0) {
    const firstSyn = Math.min(...unanswered.map((flow) => flow.firstSynAt ?? flow.firstSeen));
    const succeeded = flows.filter((flow) => flow.synAcks > 0).length;
    findings.push({
      reason: CaptureReason.NoSynAck,
      severity: 'failure',
      message:
        `${plural(sum(unanswered, (f) => f.syns), 'SYN')} to ${servers(unanswered)} got no SYN-ACK in ${seconds(view.endTime - firstSyn)}` +
        (succeeded > 0 ? ` (${plural(succeeded, 'other connection')} succeeded)` : ''),
    });
  }
  // Seen at a destination whose SYN-ACKs are lost on the way back.
  const halfOpen = flows.filter(
    (flow) => flow.synAcks > 0 && !flow.handshakeCompleted && flow.rstFromClient === 0 && flow.rstFromServer === 0,
  );
  if (halfOpen.length > 0 && unanswered.length === 0) {
    findings.push({
      reason: CaptureReason.HandshakeIncomplete,
      severity: 'failure',
      message: `${servers(halfOpen)} sent ${plural(sum(halfOpen, (f) => f.synAcks), 'SYN-ACK')} but the client never completed the handshake`,
    });
  }
  return findings;
}

/** Routers asking for smaller packets, or large segments silently lost (an MTU black hole). */
function mtuFindings(view: TargetView): Finding[] {
  const directions = view.tcpFlows.flatMap((flow) => [
    { towards: flow.server, stats: flow.fromClient },
    { towards: flow.client, stats: flow.fromServer },
  ]);
  const unackedLarge = directions.filter((d) => d.stats.unacknowledgedLargeRetransmissions > 0);
  const fragNeeded = view.icmpErrors.filter((event) => event.kind === 'fragmentationNeeded');
  if (fragNeeded.length > 0) {
    const first = fragNeeded[0];
    // The router's view (quoted length) is exact; captured sizes may be offload super-packets.
    const quotedLargest = Math.max(0, ...fragNeeded.map((event) => event.quoted?.totalLength ?? 0));
    const largest = quotedLargest || Math.max(0, ...directions.map((d) => d.stats.largestSegment));
    const retransmitted = sum(directions, (d) => d.stats.retransmissions);
    return [
      {
        reason: CaptureReason.FragmentationNeeded,
        // PMTU discovery works when the ICMP arrives; it is a failure only if data stays stuck.
        severity: unackedLarge.length > 0 ? 'failure' : 'warning',
        message:
          `${plural(fragNeeded.length, 'fragmentation-needed message')} from ${first.from}: next-hop MTU ${first.nextHopMtu ?? 'unknown'}, ` +
          `packets to ${quotedDestination(first.quoted)} were up to ${largest} bytes` +
          (retransmitted > 0 ? ` (${plural(retransmitted, 'retransmission')})` : ''),
      },
    ];
  }
  if (unackedLarge.length === 0) return [];
  const worst = unackedLarge.reduce((a, b) => (b.stats.largestRetransmittedSegment > a.stats.largestRetransmittedSegment ? b : a));
  const handshakeOk = view.tcpFlows.some((flow) => flow.handshakeCompleted);
  return [
    {
      reason: CaptureReason.LargeSegmentsRetransmitted,
      severity: 'failure',
      message:
        `segments of ${worst.stats.largestRetransmittedSegment} bytes to ${endpointText(worst.towards)} were retransmitted ` +
        `${plural(sum(unackedLarge, (d) => d.stats.retransmissions), 'time')} and never acknowledged` +
        (handshakeOk ? ' while small packets got through (MTU black hole?)' : ''),
    },
  ];
}

/** A question with no answer at all; otherwise, only error answers (NXDOMAIN after every search suffix...). */
function dnsFindings(view: TargetView): Finding[] {
  const questions = new Map<string, DnsTransaction[]>();
  for (const transaction of view.dns) {
    if (transaction.queries === 0) continue;
    const key = `${transaction.name ?? '?'}|${transaction.type ?? 0}`;
    questions.set(key, [...(questions.get(key) ?? []), transaction]);
  }
  const unanswered = [...questions.values()].filter((group) => group.every((t) => t.responses === 0));
  if (unanswered.length > 0) {
    const [first] = unanswered[0];
    const all = unanswered.flat();
    const firstQuery = Math.min(...all.map((t) => t.firstQueryAt ?? 0));
    const type = first.type !== undefined ? ` (${dnsTypeName(first.type)})` : '';
    return [
      {
        reason: CaptureReason.DnsNoAnswer,
        severity: 'failure',
        message: `${plural(sum(all, (t) => t.queries), 'DNS query', 'DNS queries')} for ${first.name ?? UNREADABLE_NAME}${type} to ${describeServers(unanswered[0].map((t) => t.server.ip))} got no answer in ${seconds(view.endTime - firstQuery)}`,
      },
    ];
  }
  const answered = view.dns.filter((t) => t.responses > 0);
  if (answered.length === 0 || answered.some((t) => (t.rcode ?? 0) === 0)) return [];
  // The answer for the name exactly as asked is the telling one; else the last search attempt.
  const exact = answered.find((t) => view.matcher.dnsName !== undefined && t.name?.toLowerCase() === view.matcher.dnsName);
  const chosen = exact ?? answered[answered.length - 1];
  const type = chosen.type !== undefined ? ` (${dnsTypeName(chosen.type)})` : '';
  return [
    {
      reason: CaptureReason.DnsError,
      severity: 'failure',
      message:
        `${chosen.server.ip} answered ${dnsRcodeName(chosen.rcode ?? 0)} for ${chosen.name ?? UNREADABLE_NAME}${type}` +
        (answered.length > 1 ? ` (${plural(answered.length, 'error answer')})` : ''),
    },
  ];
}

/** ICMP echo and plain UDP towards the target. */
function echoAndUdpFindings(view: TargetView): Finding[] {
  const findings: Finding[] = [];
  const silentEcho = view.echoFlows.filter((flow) => flow.requests > 0 && flow.replies === 0);
  if (silentEcho.length > 0 && view.echoFlows.every((flow) => flow.replies === 0)) {
    const first = Math.min(...silentEcho.map((flow) => flow.firstRequestAt));
    findings.push({
      reason: CaptureReason.NoEchoReply,
      severity: 'failure',
      message: `${plural(sum(silentEcho, (f) => f.requests), 'echo request')} to ${describeServers(silentEcho.map((flow) => flow.server))} got no reply in ${seconds(view.endTime - first)}`,
    });
  }
  const silentUdp = view.udpFlows.filter((flow) => flow.packetsFromClient > 0 && flow.packetsFromServer === 0);
  if (view.matcher.transport === 'udp' && silentUdp.length > 0 && view.udpFlows.every((flow) => flow.packetsFromServer === 0)) {
    const first = Math.min(...silentUdp.map((flow) => flow.firstSeen));
    findings.push({
      reason: CaptureReason.NoUdpReply,
      // Many UDP protocols never answer: the probe result decides whether this is a failure.
      severity: 'warning',
      message: `${plural(sum(silentUdp, (f) => f.packetsFromClient), 'datagram')} to ${describeServers(silentUdp.map((flow) => endpointText(flow.server)))} got no reply in ${seconds(view.endTime - first)}`,
    });
  }
  return findings;
}

function isDnsTarget(matcher: TargetMatcher): boolean {
  return matcher.serverPort === DNS_PORT && matcher.transport !== 'tcp';
}

/** Requests to the target and replies from it; DNS targets count queries and responses. */
function targetExchange(view: TargetView): TargetExchange {
  const { matcher } = view;
  if (isDnsTarget(matcher)) {
    const toServer = view.dns.filter((t) => !matcher.serverIps || matcher.serverIps.has(t.server.ip));
    return { kind: 'dns', requests: sum(toServer, (t) => t.queries), replies: sum(toServer, (t) => t.responses) };
  }
  if (view.tcpFlows.length > 0 || matcher.transport === 'tcp') {
    return {
      kind: 'tcp',
      requests: sum(view.tcpFlows, (flow) => flow.syns),
      // A RST answering a SYN is a reply too: the server received and refused.
      replies: sum(view.tcpFlows, (flow) => flow.synAcks + (flow.synAckSeen ? 0 : flow.rstFromServer)),
    };
  }
  if (view.echoFlows.length > 0 || matcher.transport === 'icmp') {
    return { kind: 'icmp', requests: sum(view.echoFlows, (f) => f.requests), replies: sum(view.echoFlows, (f) => f.replies) };
  }
  if (view.udpFlows.length > 0 || matcher.transport === 'udp') {
    return {
      kind: 'udp',
      requests: sum(view.udpFlows, (f) => f.packetsFromClient),
      replies: sum(view.udpFlows, (f) => f.packetsFromServer),
    };
  }
  return { kind: 'none', requests: 0, replies: 0 };
}

/** Nothing to judge: an empty capture, or none of the target's packets. */
function noTrafficFindings(view: TargetView, exchange: TargetExchange, earlier: Finding[]): Finding[] {
  const { matcher } = view;
  if (view.totalPackets === 0 && !matcher.hasServer) {
    return [{ reason: CaptureReason.NoTraffic, severity: 'failure', message: 'the capture holds no packets' }];
  }
  if (earlier.length > 0) return [];
  const targetSeen =
    view.tcpFlows.length + view.udpFlows.length + view.echoFlows.length > 0 || (isDnsTarget(matcher) && exchange.requests > 0);
  if (matcher.hasServer && !targetSeen) {
    return [{ reason: CaptureReason.NoTraffic, severity: 'failure', message: `no packets to or from ${matcher.describe()} were captured` }];
  }
  if (!matcher.hasServer && matcher.dnsName && view.dns.length === 0) {
    return [{ reason: CaptureReason.NoTraffic, severity: 'failure', message: `no DNS queries for ${matcher.dnsName} were captured` }];
  }
  return [];
}

/** All findings, most severe first (stable: rule order breaks ties), and the target exchange. */
export function buildFindings(
  analyzer: CaptureAnalyzer,
  endTime: number,
  totalPackets: number,
): { findings: Finding[]; exchange: TargetExchange } {
  const view = targetView(analyzer, endTime, totalPackets);
  const findings = [
    ...unreachableFindings(view),
    ...tcpFindings(view),
    ...mtuFindings(view),
    ...dnsFindings(view),
    ...echoAndUdpFindings(view),
  ];
  const exchange = targetExchange(view);
  findings.push(...noTrafficFindings(view, exchange, findings));
  findings.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
  return { findings, exchange };
}

/** The Healthy verdict's sentence: what was seen working. */
export function healthyMessage(analysis: Omit<CaptureAnalysis, 'findings' | 'verdict'>): string {
  const parts: string[] = [];
  const targetTcp = analysis.tcpFlows.filter((flow) => flow.matchesTarget);
  if (targetTcp.length > 0) {
    const completed = targetTcp.filter((flow) => flow.handshakeCompleted).length;
    const retransmissions = sum(targetTcp, (f) => f.fromClient.retransmissions + f.fromServer.retransmissions);
    const servers = describeServers(targetTcp.map((f) => endpointText(f.server)));
    parts.push(
      (completed === targetTcp.length
        ? `${plural(completed, 'TCP connection')} to ${servers} completed the handshake`
        : `${plural(targetTcp.length, 'TCP connection')} to ${servers}, ${completed} with a complete handshake`) +
        (retransmissions > 0 ? ` (${plural(retransmissions, 'retransmission')})` : ''),
    );
  }
  const answeredDns = analysis.dns.filter((t) => t.relevant && t.responses > 0).length;
  if (answeredDns > 0) parts.push(plural(answeredDns, 'DNS query', 'DNS queries') + ' answered');
  const echoReplies = sum(analysis.echoFlows.filter((f) => f.matchesTarget), (f) => f.replies);
  if (echoReplies > 0) parts.push(plural(echoReplies, 'echo reply', 'echo replies'));
  const udpReplies = sum(analysis.udpFlows.filter((f) => f.matchesTarget && f.server.port !== DNS_PORT), (f) => f.packetsFromServer);
  if (udpReplies > 0) parts.push(plural(udpReplies, 'UDP reply', 'UDP replies'));
  if (parts.length === 0) parts.push(`${plural(analysis.packets.decoded, 'packet')} decoded`);
  return `${parts.join('; ')}; nothing points at a failure`;
}
