// Layer 4, pod IPs: does each destination pod IP:targetPort connect directly, bypassing the service
// proxy? For a ping check to a pod, the pings.
import { listText, uniq } from '../../util/text.ts';
import type { AnalysisBase, Context, IcmpOutcome, PodOutcome } from '../analysis.ts';
import { connectFailed } from '../context.ts';
import { Cause, HealthyReason, LayerReason } from '../reasons.ts';
import { outcomeText } from '../text.ts';
import { defineLayer, finding } from './layer.ts';
import { symptomReason } from './service.ts';

declare module '../analysis.ts' {
  interface LayerAnalyses {
    readonly pods: PodAnalysis;
  }
}

export interface PodAnalysis {
  readonly outcomes: PodOutcome[];
  readonly failed: PodOutcome[];
}

const NAME = 'PodIP';

export const podLayer = defineLayer({
  name: NAME,
  condition: 'PodReachable',
  key: 'pods',
  analyse: (context: Context): PodAnalysis => ({ outcomes: context.podOutcomes, failed: context.podOutcomes.filter((o) => connectFailed(o.status)) }),
  finding: podFinding,
});

function podFinding(a: AnalysisBase) {
  const { pods } = a;
  if (a.kind === 'host' || a.dest.serviceKind === 'ExternalName')
    return finding(NAME, 'Unknown', LayerReason.NotApplicable, 'Not evaluated: the destination is outside the cluster.');
  const icmpPods = a.kind === 'pod' && a.protocol === 'ICMP' ? a.icmp : [];
  if (icmpPods.length > 0) return pingFinding(icmpPods);
  if (pods.outcomes.length === 0) return finding(NAME, 'Unknown', LayerReason.NotProbed, `Not evaluated: ${whyNotProbed(a)}.`);
  const ok = pods.outcomes.filter((o) => o.status === 'ok');
  const byVantage = uniq(pods.outcomes.map((o) => o.vantage.label));
  const from = byVantage.length === 1 ? ` from ${byVantage[0]}` : ` from ${byVantage.length} sources`;
  const text = (outcomes: PodOutcome[], max: number) =>
    listText(
      outcomes.map((o) => outcomeText(o, a.transport)),
      max,
    );
  if (pods.failed.length > 0) {
    const working = ok.length ? `; working: ${text(ok, 3)}` : '';
    return finding(
      NAME,
      'False',
      failedReason(a, ok),
      `${pods.failed.length} of ${pods.outcomes.length} direct pod connections failed${from}: ${text(pods.failed, 4)}${working}.`,
    );
  }
  const noReply = pods.outcomes.filter((o) => o.status === 'noReply');
  const reason = noReply.length === pods.outcomes.length ? HealthyReason.UDPNoReply : LayerReason.PodsConnected;
  return finding(NAME, 'True', reason, `${ok.length} of ${pods.outcomes.length} pod IPs answered directly${from}: ${text(pods.outcomes, 4)}.`);
}

function pingFinding(icmpPods: IcmpOutcome[]) {
  const bad = icmpPods.find((entry) => entry.icmp.status !== 'ok');
  const text = icmpPods
    .map(
      ({ icmp }) =>
        `${icmp.ip}: ${icmp.received}/${icmp.sent} replies${icmp.rtt ? `, avg ${icmp.rtt.avg} ms` : ''}${icmp.err ? ` (${icmp.err})` : ''}`,
    )
    .join('; ');
  const badReason =
    bad?.icmp.status === 'partialLoss'
      ? Cause.PacketLoss
      : bad?.icmp.status === 'unreachable'
        ? LayerReason.HostUnreachable
        : LayerReason.ConnectionTimedOut;
  return finding(NAME, bad ? 'False' : 'True', bad ? badReason : LayerReason.PodsConnected, `Ping from ${icmpPods[0].vantage.label}: ${text}.`);
}

function whyNotProbed(a: AnalysisBase): string {
  if (a.protocol === 'DNS') return 'a DNS check does not connect';
  const backends = a.endpoints.backends;
  if (a.kind === 'service' && backends.every((b) => !b.ready)) return 'no ready backend pod to connect to directly';
  if (a.kind === 'service' && backends.some((b) => b.ready && b.port === undefined))
    return 'the targetPort could not be resolved on the backend pods';
  return 'the probe connected to no pod IP';
}

/** Every failed pod connection was refused, and no NetworkPolicy denies the refused ones. */
export function refusedNotByPolicy(a: AnalysisBase): boolean {
  const failed = a.pods.failed;
  const allRefused = failed.length > 0 && failed.every((o) => o.status === 'refused');
  // A refusal only blames the port when no policy denies the flow (kube-router REJECTs denied traffic).
  const deniedIPs = new Set(a.policy.denied.map((flow) => flow.backend?.ip));
  return allRefused && !failed.some((o) => deniedIPs.has(o.ip));
}

function failedReason(a: AnalysisBase, ok: PodOutcome[]): string {
  if (refusedNotByPolicy(a)) return a.endpoints.targetPortProblem ? Cause.TargetPortMismatch : Cause.PortNotListening;
  return ok.length > 0 ? LayerReason.SomeEndpointsFailing : symptomReason(a.pods.failed[0].status);
}
