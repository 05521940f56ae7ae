// The compact per-capture-point summary that goes into the NetworkCheck status.

import { dnsRcodeName } from './decode.ts';
import type { CaptureAnalysis, CapturePoint, CaptureReason, Severity } from './model.ts';
import { clip } from '../util/text.ts';

/** The compact per-point summary written into status (a few hundred bytes). */
export interface CaptureSummary {
  point: CapturePoint;
  packets: number;
  undecodable?: number;
  durationSeconds: number;
  reason: CaptureReason;
  severity: Severity;
  message: string;
  tcp?: { syn: number; synAck: number; rst: number; retransmissions: number; largestSegment: number };
  icmp?: { unreachable: number; fragNeeded: number; nextHopMtu?: number };
  dns?: { queries: number; answered: number; unanswered: number; rcodes?: Record<string, number> };
  /** Other findings' reasons, after the verdict. */
  alsoSeen?: CaptureReason[];
}

export const MAX_SUMMARY_MESSAGE_LENGTH = 200;

export function summarizeCapture(analysis: CaptureAnalysis): CaptureSummary {
  const summary: CaptureSummary = {
    point: analysis.point,
    packets: analysis.packets.total,
    durationSeconds: Math.round(analysis.durationSeconds * 10) / 10,
    reason: analysis.verdict.reason,
    severity: analysis.verdict.severity,
    message: clip(analysis.verdict.message, MAX_SUMMARY_MESSAGE_LENGTH, '...'),
  };
  if (analysis.packets.undecodable > 0) summary.undecodable = analysis.packets.undecodable;
  const flows = analysis.tcpFlows.filter((flow) => flow.matchesTarget);
  if (flows.length > 0) {
    summary.tcp = {
      syn: flows.reduce((sum, f) => sum + f.syns, 0),
      synAck: flows.reduce((sum, f) => sum + f.synAcks, 0),
      rst: flows.reduce((sum, f) => sum + f.rstFromServer + f.rstFromClient, 0),
      retransmissions: flows.reduce((sum, f) => sum + f.fromClient.retransmissions + f.fromServer.retransmissions, 0),
      largestSegment: Math.max(...flows.map((f) => Math.max(f.fromClient.largestSegment, f.fromServer.largestSegment))),
    };
  }
  const errors = analysis.icmpErrors.filter((event) => event.matchesTarget);
  if (errors.length > 0) {
    const fragNeeded = errors.filter((event) => event.kind === 'fragmentationNeeded');
    summary.icmp = {
      unreachable: errors.filter((event) => event.kind === 'destinationUnreachable').length,
      fragNeeded: fragNeeded.length,
    };
    const mtu = fragNeeded.find((event) => event.nextHopMtu !== undefined)?.nextHopMtu;
    if (mtu !== undefined) summary.icmp.nextHopMtu = mtu;
  }
  const dns = analysis.dns.filter((t) => t.relevant && t.queries > 0);
  if (dns.length > 0) {
    const rcodes: Record<string, number> = {};
    for (const t of dns) if (t.responses > 0) rcodes[dnsRcodeName(t.rcode ?? 0)] = (rcodes[dnsRcodeName(t.rcode ?? 0)] ?? 0) + 1;
    summary.dns = {
      queries: dns.reduce((sum, t) => sum + t.queries, 0),
      answered: dns.filter((t) => t.responses > 0).length,
      unanswered: dns.filter((t) => t.responses === 0).length,
    };
    if (Object.keys(rcodes).length > 0) summary.dns.rcodes = rcodes;
  }
  const others = analysis.findings.slice(1).map((finding) => finding.reason);
  if (others.length > 0) summary.alsoSeen = [...new Set(others)];
  return summary;
}

