// Nothing failed: UDP without any answer (open or silently filtered) is a warning; everything else is
// the plain Healthy verdict with the evidence that the path works.
import { hostPort, listText, plural } from '../../util/text.ts';
import { HealthyReason } from '../reasons.ts';
import { connectCommand } from '../reproduce.ts';
import { describeHttp } from '../text.ts';
import { attemptShort, cause, rule, sourceText } from './shared.ts';

export const udpNoReply = rule('udpNoReply', [HealthyReason.UDPNoReply], ({ a, s }) => {
  if (!s.healthy) return undefined;
  const silentAttempts = a.service.attempts.filter((t) => t.connect?.status === 'noReply').map((t) => hostPort(t.connect!.ip, t.connect!.port));
  const udp = [...silentAttempts, ...a.pods.outcomes.filter((o) => o.status === 'noReply').map((o) => hostPort(o.ip, o.port))];
  if (udp.length === 0) return undefined;
  const connect = a.service.attempts[0]?.connect;
  return cause(
    undefined,
    HealthyReason.UDPNoReply,
    'warning',
    `UDP to ${listText(udp, 3)} got no reply and no ICMP error from ${sourceText(a)}, and no NetworkPolicy denies it: the port is open (the ` +
      `service did not answer the probe's datagram) or silently filtered.`,
    'Fix: nothing to fix if the service does not answer arbitrary datagrams; a refused port would have returned ICMP port unreachable.',
    connect ? connectCommand(a.repro, a.transport, connect.ip, connect.port) : [],
  );
});

/** The last rule: it always decides. */
export const reachable = rule('reachable', [HealthyReason.Reachable], ({ a }) => {
  const parts: string[] = [];
  const attempt = a.service.attempts[0];
  if (attempt?.connect) parts.push(`${a.service.applicable ? 'ClusterIP ' : ''}${attemptShort(a, attempt)}`);
  const ok = a.pods.outcomes.filter((o) => o.status === 'ok');
  if (a.pods.outcomes.length > 0) parts.push(`${ok.length}/${a.pods.outcomes.length} pod IPs answered directly`);
  const http = a.podHttpFailed.length === 0 ? a.vantages.find((v) => v.result.http)?.result.http : undefined;
  if (http && !attempt?.http) parts.push(describeHttp(http));
  const ping = a.icmp[0]?.icmp;
  if (ping) parts.push(`ping ${ping.ip}: ${ping.received}/${ping.sent} replies${ping.rtt ? `, avg ${ping.rtt.avg} ms` : ''}`);
  const lookup = a.dns.lookups[0];
  if (lookup) parts.push(`${lookup.dns.name} resolved to ${listText(lookup.dns.answers, 2)} in ${lookup.dns.ms} ms`);
  const notReady = a.endpoints.slices?.notReady.length ?? 0;
  if (notReady > 0) parts.push(`${plural(notReady, 'not-ready endpoint')} left out of rotation`);
  const vantages = a.vantages.length > 1 ? ` (from ${a.vantages.length} sources)` : '';
  return cause(
    undefined,
    HealthyReason.Reachable,
    'ok',
    `${sourceText(a)} reached ${a.destinationText}${vantages}: ${parts.join('; ') || 'all probes passed'}.`,
    undefined,
    [],
  );
});
