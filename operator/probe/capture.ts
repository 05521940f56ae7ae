// Packet capture in probe pods: the tcpdump arguments a run's probe gets, and the pcap read back
// from the probe's log. The probe program (netcheck-probe.sh) runs tcpdump alongside its probes and
// prints the pcap, base64, between two marker lines after its result document.
import { isIP } from 'node:net';
import type { V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import { defaultPort, type ResolvedSpec } from '../api/defaults.ts';
import { buildTcpdumpArgv, type CaptureFilterSpec, type CheckProtocol } from '../capture/filter.ts';
import type { CaptureTarget } from '../capture/model.ts';
import { backendEndpoint, resolveServicePort } from './env.ts';
import { netcheckEphemeralCount } from './guards.ts';
import { DEFAULT_MAX_EPHEMERAL_PER_POD } from './policy.ts';
import { PROBE_ENV } from './result.ts';
import { CAPTURE_ROOT_CAPABILITIES, rootContext } from './security.ts';
import type { RunRequest } from './stage.ts';

export const CAPTURE_LOG_BEGIN = '-----BEGIN NETCHECK PCAP-----';
export const CAPTURE_LOG_END = '-----END NETCHECK PCAP-----';
/** How long a capture runs at most when spec.capture.durationSeconds is not set. */
export const DEFAULT_CAPTURE_SECONDS = 15;

/**
 * tcpdump's arguments for a capture point (on every interface, spec.capture's limits and its filter
 * ANDed), without the tcpdump path and without -w: the capture programs add -w themselves.
 */
function tcpdumpArguments(spec: ResolvedSpec, filter: Omit<CaptureFilterSpec, 'protocol' | 'extraFilter'>):
  { ok: true; args: string[] } | { ok: false; error: string } {
  const capture = spec.capture ?? {};
  const built = buildTcpdumpArgv({
    interface: 'any',
    filter: { protocol: spec.protocol as CheckProtocol, ...filter, ...(capture.filter ? { extraFilter: capture.filter } : {}) },
    snapLength: capture.snapLength,
    maxPackets: capture.maxPackets,
  });
  return built.ok ? { ok: true, args: built.argv.slice(1) } : { ok: false, error: `spec.capture: ${built.error}` };
}

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
  if (host && isIP(host) !== 0) ips.add(host);
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
  const built = tcpdumpArguments(spec, { destinationIps: ips, ...(ports.length === 1 ? { destinationPort: ports[0] } : {}) });
  if (!built.ok) return built;
  return {
    ok: true,
    env: [
      { name: PROBE_ENV.captureArgv, value: built.args.join('\n') },
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
    ...(host && isIP(host) === 0 ? { dnsName: host } : {}),
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

// ---------------------------------------------------------------------------------------------
// Destination capture: tcpdump in an ephemeral container of each destination pod in the check's own
// namespace, for a fixed duration (an ephemeral container cannot be told that the probes finished).

/** The ephemeral capture container's name in a destination pod: one per run, as ephemeral containers stay. */
export function destinationCaptureContainerName(runId: string): string {
  return `netcheck-cap-${runId}`.slice(0, 63);
}

/**
 * The destination capture program. Its arguments are the duration and tcpdump's argv; they arrive as
 * positional parameters ("$@"), never as shell text. -Z root, -w - and the redirection as in the probe.
 */
export const DESTINATION_CAPTURE_SCRIPT = [
  'seconds=$1; shift',
  'tcpdump -Z root -w - "$@" >/tmp/netcheck-capture.pcap 2>/tmp/netcheck-capture.err &',
  'pid=$!',
  'sleep "$seconds"',
  'kill -INT "$pid" 2>/dev/null; wait "$pid"',
  `if [ -s /tmp/netcheck-capture.pcap ]; then echo '${CAPTURE_LOG_BEGIN}'; base64 -w 76 /tmp/netcheck-capture.pcap; echo '${CAPTURE_LOG_END}'; fi`,
  'cat /tmp/netcheck-capture.err >&2',
].join('\n');

export interface DestinationCapturePlan {
  /** namespace/name of the pod. */
  pod: V1Pod;
  /** The port the destination pod serves the probe on (its target port), when known. */
  port?: number;
}

/** Which destination pods may be captured, and why the others may not (pure). */
export function destinationCaptureTargets(request: RunRequest, maxEphemeralPerPod = DEFAULT_MAX_EPHEMERAL_PER_POD): { capture: DestinationCapturePlan[]; refused: { pod: string; reason: string }[] } {
  const { check, spec, targets } = request;
  const namespace = check.metadata!.namespace!;
  const capture: DestinationCapturePlan[] = [];
  const refused: { pod: string; reason: string }[] = [];
  if (!captureEnabled(spec) || !spec.capture?.destination) return { capture, refused };
  const servicePort = targets.destinationService ? resolveServicePort(targets.destinationService, defaultPort(spec)).servicePort : undefined;
  for (const pod of targets.destinationPods.slice(0, MAX_DESTINATION_CAPTURES)) {
    const name = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    if (pod.metadata?.namespace !== namespace) {
      refused.push({ pod: name, reason: `pod ${name} is outside the check's namespace ${namespace}; a check captures only in its own namespace` });
      continue;
    }
    if (pod.status?.phase !== 'Running' || !pod.status.podIP) {
      refused.push({ pod: name, reason: `pod ${name} is not Running with an IP` });
      continue;
    }
    const added = netcheckEphemeralCount(pod);
    if (added >= maxEphemeralPerPod) {
      refused.push({ pod: name, reason: `pod ${name} already holds ${added} ephemeral containers from this operator (at most ${maxEphemeralPerPod}); Kubernetes never removes them` });
      continue;
    }
    const port = servicePort ? backendEndpoint(pod, servicePort)?.port : typeof spec.destination.port === 'number' ? spec.destination.port : undefined;
    capture.push({ pod, ...(port !== undefined ? { port } : {}) });
  }
  return { capture, refused };
}

export const DESTINATION_CAPTURE_TARGET_ENV = 'NETCHECK_CAPTURE_TARGET';

/** At most this many destination pods get a capture container per run. */
export const MAX_DESTINATION_CAPTURES = 4;

/**
 * The ephemeral container that captures in one destination pod, or an error naming spec.capture.
 * It runs the operator's own image (never spec.probe.image: the pod is not the check author's probe).
 */
export function buildDestinationCaptureContainer(request: RunRequest, target: DestinationCapturePlan, image: string):
  { ok: true; container: V1EphemeralContainer } | { ok: false; error: string } {
  const { spec, runId } = request;
  const capture = spec.capture!;
  const built = tcpdumpArguments(spec, {
    destinationIps: [target.pod.status!.podIP!],
    ...(target.port !== undefined ? { destinationPort: target.port } : {}),
    includeDns: false,
  });
  if (!built.ok) return built;
  return {
    ok: true,
    container: {
      name: destinationCaptureContainerName(runId),
      image,
      imagePullPolicy: spec.probe?.imagePullPolicy ?? 'IfNotPresent',
      command: ['/bin/bash', '-c', DESTINATION_CAPTURE_SCRIPT, 'netcheck-capture', String(capture.durationSeconds ?? DEFAULT_CAPTURE_SECONDS), ...built.args],
      terminationMessagePolicy: 'File',
      // Read back by the operator for the analysis; the program itself does not use it.
      env: [{ name: DESTINATION_CAPTURE_TARGET_ENV, value: `${target.pod.status!.podIP!}${target.port !== undefined ? ` ${target.port}` : ''}` }],
      // Root with NET_RAW (and tcpdump's SETUID/SETGID) only: the reconciler admits this only in a
      // namespace at Pod Security "privileged". It writes its pcap to its own root filesystem.
      securityContext: rootContext(CAPTURE_ROOT_CAPABILITIES, false),
    },
  };
}

/** The analysis target at a destination pod: its own address and port, from the probe's clients. */
export function destinationCaptureTarget(spec: ResolvedSpec, podIp: string | undefined, port: number | undefined, clientIps: string[]): CaptureTarget {
  return {
    ...(podIp ? { serverIps: [podIp] } : {}),
    ...(port !== undefined ? { serverPort: port } : {}),
    transport: transportOf(spec.protocol),
    ...(clientIps.length ? { clientIps } : {}),
  };
}
