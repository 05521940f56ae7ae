// Lost on the way, with no layer below to explain it: the pod or the ClusterIP did not answer, or
// pings were lost. The summary says what was ruled out; the fix is to follow the packets.
import { sentence } from '../../util/text.ts';
import type { Analysis, IcmpOutcome } from '../analysis.ts';
import { Layer } from '../layers/index.ts';
import { Cause } from '../reasons.ts';
import { pingCommand } from '../reproduce.ts';
import { cause, rule, type RootCause } from './shared.ts';
import type { PathSymptom } from './symptoms.ts';

function pingText(entry: IcmpOutcome): string {
  const { icmp } = entry;
  return `ping from ${entry.vantage.label} to ${icmp.ip}: ${icmp.received}/${icmp.sent} replies (${icmp.lossPct}% loss)${icmp.err ? `, ${icmp.err}` : ''}`;
}

function pingReproduce(a: Analysis, entry: IcmpOutcome) {
  return pingCommand(a.repro, entry.icmp.ip);
}

/** The path failed silently (or a ping to a pod failed) and every layer below was ruled out. */
function unexplainedPath(a: Analysis, path: PathSymptom, reason: string): RootCause {
  const target = path.silent[0];
  const sameNode = target?.node === target?.vantage.node;
  const where =
    target?.node && target.vantage.node
      ? sameNode
        ? ` on the same node ${target.node}`
        : ` from node ${target.vantage.node} to node ${target.node}`
      : '';
  return cause(
    Layer.PodIP,
    reason,
    'failure',
    sentence(`${path.text}; no NetworkPolicy denies it and the node and CNI evidence shows no fault${where}`),
    'Fix: follow the packets: capture on the source and destination pods (spec.capture) to see whether SYNs leave, arrive, or are answered; check ' +
      'routes and host firewalls between the nodes.',
    path.reproduce,
  );
}

function podPingFailed(a: Analysis): boolean {
  return a.kind === 'pod' && a.icmp.some((entry) => entry.icmp.status !== 'ok');
}

export const packetLoss = rule('packetLoss', [Cause.PacketLoss], ({ a, s }) => {
  const partial = a.icmp.some((entry) => entry.icmp.status === 'partialLoss');
  if (s.path && s.path.silent.length === 0 && podPingFailed(a) && partial) return unexplainedPath(a, s.path, Cause.PacketLoss);
  if (s.icmp?.icmp.status !== 'partialLoss') return undefined;
  const layer = a.kind === 'host' ? Layer.NorthSouth : Layer.PodIP;
  const fix = 'Fix: look for a congested or flapping link, a saturated node, or rate limiting of ICMP on the path.';
  return cause(layer, Cause.PacketLoss, 'failure', `${pingText(s.icmp)}: some packets are lost.`, fix, pingReproduce(a, s.icmp));
});

export const podUnreachable = rule('podUnreachable', [Cause.PodUnreachable], ({ a, s }) => {
  if (s.path && (s.path.silent.length > 0 || podPingFailed(a))) return unexplainedPath(a, s.path, Cause.PodUnreachable);
  if (!s.icmp || a.kind === 'host') return undefined;
  return cause(
    Layer.PodIP,
    Cause.PodUnreachable,
    'failure',
    `${pingText(s.icmp)}.`,
    'Fix: check routes and firewalls between the nodes and the CNI agents.',
    pingReproduce(a, s.icmp),
  );
});

export { pingReproduce, pingText };
