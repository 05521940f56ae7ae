// How the diagnosis words what it saw: connections, HTTP exchanges, pods and their state. The layers'
// conditions and the causes' summaries use the same words for the same facts.
import type { V1Pod } from '@kubernetes/client-node';
import type { ConnectStatus, HttpResult } from '../probe/result.ts';
import { hostPort, plural } from '../util/text.ts';
import type { PodOutcome, ServiceAttempt, Transport } from './analysis.ts';

/** The longest condition message the CRD allows. */
export const MAX_CONDITION_MESSAGE = 2000;

export function podRef(pod: V1Pod | undefined): string {
  return `${pod?.metadata?.namespace ?? 'default'}/${pod?.metadata?.name ?? '<unnamed>'}`;
}

export function describeConnect(status: ConnectStatus, ms: number, err: string | undefined, transport: Transport): string {
  switch (status) {
    case 'ok':
      return transport === 'UDP' ? `answered in ${ms} ms` : `connected in ${ms} ms`;
    case 'refused':
      // A RST and an ICMP port unreachable both surface as ECONNREFUSED: do not claim which.
      return transport === 'UDP' ? 'refused (ICMP port unreachable)' : `refused${err && err !== 'ECONNREFUSED' ? ` (${err})` : ''}`;
    case 'timeout':
      return transport === 'UDP' ? `no answer after ${ms} ms` : `timed out after ${ms} ms (no answer to SYN)`;
    case 'unreachable':
      return `unreachable (${err ?? 'no route'})`;
    case 'noReply':
      return `no reply after ${ms} ms and no ICMP error (open or silently filtered)`;
    case 'error':
      return `failed (${err ?? 'error'})`;
  }
}

export function describeHttp(http: HttpResult): string {
  const total = http.ms ? ` in ${http.ms.total} ms` : '';
  switch (http.status) {
    case 'ok':
      return `HTTP ${http.code}${total}`;
    case 'unexpectedStatus':
      return `HTTP ${http.code}${total} (not an expected status)`;
    case 'timeout': {
      const connected = http.ms && http.ms.connect > 0 ? ` after connecting in ${http.ms.connect} ms` : '';
      return `no HTTP response${connected} (timed out${http.err ? `: ${http.err}` : ''})`;
    }
    default:
      return `${http.status}${http.code ? ` HTTP ${http.code}` : ''}${http.err ? ` (${http.err})` : ''}`;
  }
}

/** Why a pod is not ready, from its status: "Pending (Unschedulable)", "Running (container app CrashLoopBackOff, 7 restarts)". */
export function podStateText(pod: V1Pod): string {
  const phase = pod.status?.phase ?? 'Unknown';
  const details: string[] = [];
  for (const status of pod.status?.containerStatuses ?? []) {
    const waiting = status.state?.waiting?.reason;
    const terminated = status.state?.terminated?.reason;
    if (waiting) details.push(`container ${status.name} ${waiting}`);
    else if (terminated) details.push(`container ${status.name} ${terminated}`);
    else if (!status.ready) details.push(`container ${status.name} not ready`);
    if ((status.restartCount ?? 0) > 0) details.push(`${plural(status.restartCount, 'restart')}`);
  }
  const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unschedulable?.reason) details.push(unschedulable.reason);
  if (pod.metadata?.deletionTimestamp) details.push('terminating');
  return details.length > 0 ? `${phase} (${details.join(', ')})` : phase;
}

/** "backend-1 10.244.1.21:8080, node node-1 (same node): connected in 1 ms". */
export function outcomeText(outcome: PodOutcome, transport: Transport): string {
  const pod = outcome.pod ? `${outcome.pod.metadata?.name} ` : '';
  const where = outcome.sameNode === true ? ' (same node)' : outcome.sameNode === false ? ' (other node)' : '';
  const node = outcome.node ? `, node ${outcome.node}${where}` : '';
  return `${pod}${hostPort(outcome.ip, outcome.port)}${node}: ${describeConnect(outcome.status, outcome.ms, outcome.err, transport)}`;
}

/** "from pod shop/web on node node-1: 10.96.0.7:80 connected in 1 ms, HTTP 200 in 7 ms". */
export function attemptText(attempt: ServiceAttempt, transport: Transport): string {
  if (attempt.skipped) return `from ${attempt.vantage.label}: not attempted (${attempt.skipped.err ?? 'no destination address'})`;
  const parts: string[] = [];
  const connect = attempt.connect;
  if (connect) parts.push(`${hostPort(connect.ip, connect.port)} ${describeConnect(connect.status, connect.ms, connect.err, transport)}`);
  if (attempt.http) parts.push(describeHttp(attempt.http));
  return `from ${attempt.vantage.label}: ${parts.join(', ')}`;
}
