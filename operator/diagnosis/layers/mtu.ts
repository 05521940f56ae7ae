// Layer 8, the path MTU: do full-size packets with DF set reach the destination? The probe's DF pings
// find the largest size that passes and whether routers say "fragmentation needed" above it.
import type { MtuResult } from '../../probe/result.ts';
import type { AnalysisBase, MtuOutcome, Vantage } from '../analysis.ts';
import { isMtuResult } from '../objects.ts';
import { Cause, LayerReason } from '../reasons.ts';
import { defineLayer, finding } from './layer.ts';

declare module '../analysis.ts' {
  interface LayerAnalyses {
    readonly mtu: MtuAnalysis;
  }
}

export interface MtuAnalysis {
  readonly results: MtuOutcome[];
  /** The first measurement that found a lower path MTU (a black hole, or routers reporting it). */
  readonly broken?: { readonly vantage: Vantage; readonly mtu: MtuResult };
}

const NAME = 'MTU';

export const mtuLayer = defineLayer({
  name: NAME,
  condition: 'PathMTU',
  key: 'mtu',
  analyse: (context): MtuAnalysis => {
    const results = context.mtuResults;
    const broken = results.find(
      (entry): entry is MtuOutcome & { mtu: MtuResult } =>
        isMtuResult(entry.mtu) && (entry.mtu.status === 'blackhole' || entry.mtu.status === 'fragNeeded'),
    );
    return { results, ...(broken ? { broken } : {}) };
  },
  finding: mtuFinding,
});

function mtuFinding(a: AnalysisBase) {
  const { mtu } = a;
  if (mtu.results.length === 0) {
    const why =
      a.protocol === 'DNS'
        ? 'a DNS check does not measure the path MTU'
        : a.protocol === 'ICMP'
          ? 'an ICMP check does not measure the path MTU'
          : 'the probe took no path-MTU measurement';
    return finding(NAME, 'Unknown', LayerReason.NotProbed, `Not measured: ${why}.`);
  }
  if (mtu.broken) {
    const m = mtu.broken.mtu;
    const kindText =
      m.status === 'blackhole'
        ? `DF packets above ${m.largestOk} bytes vanish without an ICMP error (a PMTU black hole)`
        : `routers answer "fragmentation needed" above ${m.largestOk} bytes`;
    const text =
      `Path MTU to ${m.ip} from ${mtu.broken.vantage.label} is ${m.path ?? m.largestOk ?? '?'} bytes but ${m.iface ?? 'the interface'} ` +
      `has MTU ${m.local ?? '?'}`;
    return finding(NAME, 'False', Cause.MTUMismatch, `${text}: ${kindText} (${m.pings} DF pings).`);
  }
  const first = mtu.results[0];
  if (!isMtuResult(first.mtu)) return finding(NAME, 'Unknown', LayerReason.NotProbed, `Not measured: ${first.mtu.err ?? 'skipped'}.`);
  const m = first.mtu;
  if (m.status === 'ok') {
    return finding(
      NAME,
      'True',
      LayerReason.PathMTUOK,
      `Full-size ${m.local ?? '?'}-byte DF packets reach ${m.ip} via ${m.iface ?? '?'} from ${first.vantage.label} (${m.pings} DF pings).`,
    );
  }
  if (m.status === 'unreachable') {
    const text =
      `${m.ip} did not answer a small DF ping (ICMP may be filtered, e.g. by a NetworkPolicy that only allows TCP); local MTU ` +
      `${m.local ?? '?'} on ${m.iface ?? '?'}`;
    return finding(NAME, 'Unknown', LayerReason.NotMeasurable, `Not measurable: ${text}.`);
  }
  return finding(NAME, 'Unknown', LayerReason.NotMeasurable, `Not measurable: ${m.err ?? 'the MTU probe failed'}.`);
}
