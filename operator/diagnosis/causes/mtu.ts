// The path MTU: full-size packets vanish (a PMTU black hole) or routers report a lower MTU. A black
// hole fails the check, so does an HTTP exchange that hangs over it; a reported lower MTU (PMTU
// discovery works) is a warning.
import { upperFirst } from '../../util/text.ts';
import { Layer } from '../layers/index.ts';
import { Cause } from '../reasons.ts';
import { fromSource, toolArgSafe } from '../reproduce.ts';
import { httpHung, httpText } from './http.ts';
import { cause, rule, type Severity } from './shared.ts';

export const mtuMismatch = rule('mtuMismatch', [Cause.MTUMismatch], ({ a, s }) => {
  const broken = a.mtu.broken;
  if (!broken) return undefined;
  // Large packets explain an exchange only when no connection failed: a failed connection is an earlier broken link.
  const connected = !s.path && !s.bypass;
  const hung = connected && httpHung(s.http);
  const failing = hung || (connected && s.blackhole);
  const severity: Severity | undefined = failing ? 'failure' : s.healthy && broken.mtu.status === 'fragNeeded' ? 'warning' : undefined;
  if (!severity) return undefined;
  const prefix = hung ? httpText(s.http!) : undefined;
  const m = broken.mtu;
  const path = m.path ?? m.largestOk ?? 0;
  const kind =
    m.status === 'blackhole'
      ? `DF packets larger than ${m.largestOk} bytes vanish without an ICMP error`
      : `routers report "fragmentation needed" above ${m.largestOk} bytes`;
  const effect =
    severity === 'warning'
      ? ' (PMTU discovery works, so TCP adapts; large UDP datagrams and tunnels suffer)'
      : ', so large segments are lost while small ones (the handshake) pass';
  const opening = prefix ? `${upperFirst(prefix)}; the` : 'The';
  const summary =
    `${opening} path MTU from ${broken.vantage.label} to ${m.ip} is ${path} bytes while ${m.iface ?? 'its interface'} has MTU ` +
    `${m.local}: ${kind}${effect}.`;
  const size = (m.local ?? 1500) - (m.ip.includes(':') ? 48 : 28);
  const reproduce = toolArgSafe(m.ip)
    ? [fromSource(a.repro, ['ping', '-M', 'do', '-s', String(size), '-c', '3', m.ip]), fromSource(a.repro, ['tracepath', '-n', m.ip])]
    : [];
  const fix =
    `Fix: make the MTUs agree: set the pod network (CNI) MTU to at most ${path} bytes, or raise the MTU of the lower link, and do not ` +
    `filter ICMP "fragmentation needed".`;
  return cause(Layer.MTU, Cause.MTUMismatch, severity, summary, fix, reproduce);
});
