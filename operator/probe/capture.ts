// Packet capture in probe pods: the tcpdump arguments a run's probe gets, and the pcap read back
// from the probe's log. The probe program (netcheck-probe.sh) runs tcpdump alongside its probes and
// prints the pcap, base64, between two marker lines after its result document.
import type { ResolvedSpec } from '../api/defaults.ts';
import { buildTcpdumpArgv, type CheckProtocol } from '../capture/filter.ts';
import type { CaptureTarget } from '../capture/model.ts';
import { PROBE_ENV } from './result.ts';

export const CAPTURE_LOG_BEGIN = '-----BEGIN NETCHECK PCAP-----';
export const CAPTURE_LOG_END = '-----END NETCHECK PCAP-----';
/** How long a capture runs at most when spec.capture.durationSeconds is not set. */
export const DEFAULT_CAPTURE_SECONDS = 15;

export function captureEnabled(spec: ResolvedSpec): boolean {
  return (spec.capture?.when ?? 'Never') !== 'Never';
}

/** The addresses and port the probe talks to, read back from its environment (one source of truth). */
export function probeTargetsFromEnv(env: { name: string; value: string }[]): { ips: string[]; ports: number[] } {
  const get = (name: string) => env.find((e) => e.name === name)?.value;
  const ips = new Set<string>();
  const ports = new Set<number>();
  for (const ip of [get(PROBE_ENV.targetIp), get(PROBE_ENV.mtuTarget), get(PROBE_ENV.serviceIp)]) if (ip) ips.add(ip);
  const host = get(PROBE_ENV.host);
  if (host && /^[0-9.]+$|:/.test(host)) ips.add(host);
  const port = get(PROBE_ENV.port);
  if (port) ports.add(Number(port));
  for (const endpoint of (get(PROBE_ENV.endpoints) ?? '').split(' ').filter(Boolean)) {
    const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(endpoint);
    if (match) {
      ips.add(match[1]!);
      ports.add(Number(match[2]));
    }
  }
  return { ips: [...ips], ports: [...ports] };
}

/**
 * The capture environment for a probe container, or an error naming the spec field. The filter
 * keeps the target's traffic, DNS and ICMP (where routers report unreachable and frag-needed); with
 * several ports (ClusterIP port and target port) it keeps the target hosts' traffic of the protocol.
 */
export function sourceCaptureEnvironment(spec: ResolvedSpec, probeEnv: { name: string; value: string }[]):
  { ok: true; env: { name: string; value: string }[] } | { ok: false; error: string } {
  if (!captureEnabled(spec)) return { ok: true, env: [] };
  const { ips, ports } = probeTargetsFromEnv(probeEnv);
  const capture = spec.capture!;
  const built = buildTcpdumpArgv({
    interface: 'any',
    filter: {
      protocol: spec.protocol as CheckProtocol,
      destinationIps: ips,
      ...(ports.length === 1 ? { destinationPort: ports[0] } : {}),
      ...(capture.filter ? { extraFilter: capture.filter } : {}),
    },
    snapLength: capture.snapLength,
    maxPackets: capture.maxPackets,
  });
  if (!built.ok) return { ok: false, error: `spec.capture: ${built.error}` };
  // The probe program adds -w itself; the argv starts after the tcpdump path.
  const argv = built.argv.slice(1);
  return {
    ok: true,
    env: [
      { name: PROBE_ENV.captureArgv, value: argv.join('\n') },
      { name: PROBE_ENV.captureSeconds, value: String(capture.durationSeconds ?? DEFAULT_CAPTURE_SECONDS) },
    ],
  };
}

/** What the analysis should treat as the target at the source: every address the probe talks to. */
export function sourceCaptureTarget(spec: ResolvedSpec, probeEnv: { name: string; value: string }[]): CaptureTarget {
  const { ips, ports } = probeTargetsFromEnv(probeEnv);
  const host = probeEnv.find((e) => e.name === PROBE_ENV.host)?.value;
  return {
    ...(ips.length ? { serverIps: ips } : {}),
    ...(ports.length === 1 ? { serverPort: ports[0] } : {}),
    transport: transportOf(spec.protocol),
    ...(host && !/^[0-9.]+$|:/.test(host) ? { dnsName: host } : {}),
  };
}

export function transportOf(protocol: string): 'tcp' | 'udp' | 'icmp' | undefined {
  if (protocol === 'UDP') return 'udp';
  if (protocol === 'ICMP') return 'icmp';
  if (protocol === 'DNS') return undefined;
  return 'tcp';
}

export type PcapFromLog =
  | { state: 'Absent' }
  | { state: 'Found'; pcap: Uint8Array }
  | { state: 'Invalid'; error: string };

/** Finds the pcap a probe printed after its result document (pure). */
export function pcapFromLog(log: string): PcapFromLog {
  const begin = log.lastIndexOf(`${CAPTURE_LOG_BEGIN}\n`);
  if (begin < 0) return { state: 'Absent' };
  const start = begin + CAPTURE_LOG_BEGIN.length + 1;
  const end = log.indexOf(CAPTURE_LOG_END, start);
  if (end < 0) return { state: 'Invalid', error: 'the capture in the probe log has no end marker (the log was cut?)' };
  const body = log.slice(start, end).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) return { state: 'Invalid', error: 'the capture in the probe log is not base64' };
  return { state: 'Found', pcap: new Uint8Array(Buffer.from(body, 'base64')) };
}
