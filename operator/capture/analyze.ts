// Turns a capture into per-flow counts and a verdict: where did the packets stop?
//
// analyzeCapture() reads one capture point; attributeHop() (hop.ts) compares a source and a
// destination capture; summarizeCapture() (summary.ts) shrinks an analysis for status.
// This module is the entry point: it re-exports the model and those two functions.

import { CaptureAnalyzer, finishDirection, publicDirection } from './collect.ts';
import { decodePacket } from './decode.ts';
import { buildFindings, healthyMessage } from './findings.ts';
import { CaptureReason } from './model.ts';
import type { AnalyzeOptions, CaptureAnalysis, Finding, PacketCounts } from './model.ts';
import { readPcap } from './pcap.ts';
import type { PcapFile } from './pcap.ts';

export * from './model.ts';
export { attributeHop } from './hop.ts';
export type { HopAttribution, HopReason } from './hop.ts';
export { summarizeCapture, MAX_SUMMARY_MESSAGE_LENGTH } from './summary.ts';
export type { CaptureSummary } from './summary.ts';

/**
 * Analyses one capture point. Accepts the raw pcap bytes or an already parsed file; throws
 * PcapFormatError only when the bytes are not a classic pcap file.
 */
export function analyzeCapture(capture: Uint8Array | PcapFile, options: AnalyzeOptions): CaptureAnalysis {
  const file = capture instanceof Uint8Array ? readPcap(capture) : capture;
  const analyzer = new CaptureAnalyzer(options);
  analyzer.startTime = file.packets[0]?.timestamp ?? 0;
  const counts: PacketCounts = { total: file.packets.length, decoded: 0, undecodable: 0, notIp: 0, byReason: {} };
  for (const raw of file.packets) {
    const result = decodePacket(file.linkType, raw.data, raw.timestamp, raw.originalLength);
    if (!result.ok) {
      counts.byReason[result.reason] = (counts.byReason[result.reason] ?? 0) + 1;
      if (result.reason === 'notIp') counts.notIp++;
      else counts.undecodable++;
      continue;
    }
    counts.decoded++;
    analyzer.add(result.packet);
  }
  for (const transaction of analyzer.dns.values()) {
    transaction.relevant =
      analyzer.matcher.isRelevantDnsName(transaction.name) && analyzer.matcher.isClient(transaction.client.ip);
  }
  for (const flow of analyzer.tcp.values()) {
    finishDirection(flow.fromClient);
    finishDirection(flow.fromServer);
  }
  const lastTimestamp = file.packets.at(-1)?.timestamp ?? analyzer.startTime;
  const endTime = lastTimestamp - analyzer.startTime;
  const { findings, exchange } = buildFindings(analyzer, endTime, counts.total);
  const base = {
    point: options.point,
    linkType: file.linkType,
    fileTruncated: file.truncated,
    startTime: analyzer.startTime,
    durationSeconds: endTime,
    packets: counts,
    tcpFlows: [...analyzer.tcp.values()].map(({ synAckSeen: _seen, fromClient, fromServer, ...flow }) => ({
      ...flow,
      fromClient: publicDirection(fromClient),
      fromServer: publicDirection(fromServer),
    })),
    udpFlows: [...analyzer.udp.values()],
    echoFlows: [...analyzer.echo.values()],
    icmpErrors: analyzer.icmpErrors,
    dns: [...analyzer.dns.values()],
    exchange,
  };
  const verdict: Finding = findings[0] ?? { reason: CaptureReason.Healthy, severity: 'ok', message: healthyMessage(base) };
  return { ...base, findings, verdict };
}
