// expect: Blocked, a NetworkPolicy assertion. Did the source get through, and does policy explain
// what happened? A DNS check is blocked when its lookups fail; any other when nothing answered.
import { listText } from '../../util/text.ts';
import type { Analysis } from '../analysis.ts';
import { Layer } from '../layers/index.ts';
import { denyingPolicies, type PolicyFlow } from '../layers/policy.ts';
import { formatPolicyRefs } from '../netpol/rules.ts';
import { Cause, HealthyReason } from '../reasons.ts';
import { connectCommand, digCommand, type Argv } from '../reproduce.ts';
import { podRef } from '../text.ts';
import { describePeerForRule, policyRepro } from './policy.ts';
import { attemptShort, cause, outcomeShort, rule, sourceText, type RuleContext } from './shared.ts';

/** What got through: the evidence that the flow is open, and the policy flows of the destinations reached. */
interface Reach {
  readonly reached: boolean;
  /** "pod shop/web reached svc shop/backend:8080 although the check expects it to be blocked (...)". */
  readonly text: string;
  /** The evaluated flows to the destinations that were reached (all flows when none is known). */
  readonly flows: PolicyFlow[];
  readonly reproduce: Argv[];
}

function reachOf(a: Analysis): Reach {
  const connected = a.service.attempts.filter((attempt) => attempt.connect?.status === 'ok');
  const okPods = a.pods.outcomes.filter((o) => o.status === 'ok');
  const icmpOk = a.icmp.filter((entry) => entry.icmp.received > 0);
  const deniedIPs = new Set(a.policy.denied.map((flow) => flow.backend?.ip ?? flow.target.replace(/:\d+$/, '')));
  // A refusal from a pod the policy does not deny means the SYN arrived: the path is open.
  const refusedOpen = a.pods.outcomes.filter((o) => o.status === 'refused' && !deniedIPs.has(o.ip));
  const evidence = [
    ...connected.map((attempt) => `${a.service.applicable ? 'ClusterIP ' : ''}${attemptShort(a, attempt)}`),
    ...okPods.map((o) => outcomeShort(a, o)),
    ...refusedOpen.map((o) => outcomeShort(a, o)),
    ...icmpOk.map((entry) => `ping ${entry.icmp.ip}: ${entry.icmp.received}/${entry.icmp.sent} replies`),
  ];
  const first = okPods[0] ?? connected[0]?.connect;
  const reachedIPs = new Set([...okPods, ...refusedOpen].map((o) => o.ip));
  const reachedFlows = reachedIPs.size > 0 ? a.policy.flows.filter((flow) => flow.backend?.ip && reachedIPs.has(flow.backend.ip)) : a.policy.flows;
  return {
    reached: evidence.length > 0,
    text: `${sourceText(a)} reached ${a.destinationText} although the check expects it to be blocked (${listText(evidence, 3)})`,
    flows: reachedFlows.length > 0 ? reachedFlows : a.policy.flows,
    reproduce: first ? connectCommand(a.repro, a.transport, first.ip, first.port) : [],
  };
}

/** The first lookup that resolved, for a DNS check expected to be blocked. */
function resolvedLookup(a: Analysis) {
  return a.dns.lookups.find((lookup) => lookup.dns.status === 'ok');
}

function resolvedText(a: Analysis): string | undefined {
  const lookup = resolvedLookup(a);
  if (!lookup) return undefined;
  return `${lookup.dns.name} resolved to ${listText(lookup.dns.answers, 2)} from ${lookup.vantage.label} although the check expects DNS to be blocked`;
}

/** The flow is open although a policy denies it, or policy could not be read: the rules below need the reach. */
function reachedWithPolicy({ a }: RuleContext): Reach | undefined {
  if (a.expect !== 'Blocked' || a.protocol === 'DNS') return undefined;
  const reach = reachOf(a);
  return reach.reached ? reach : undefined;
}

export const unexpectedlyReachable = rule('unexpectedlyReachable', [Cause.UnexpectedlyReachable], (context) => {
  const reach = reachedWithPolicy(context);
  const error = context.a.policy.error;
  if (!reach || !error) return undefined;
  const fix =
    'Fix: let the operator read NetworkPolicies (list networkpolicies) so it can say which one applies, and add a NetworkPolicy that denies this ' +
    'flow if none does.';
  return cause(
    Layer.NetworkPolicy,
    Cause.UnexpectedlyReachable,
    'failure',
    `${reach.text}; the NetworkPolicies could not be read (${error}).`,
    fix,
    reach.reproduce,
  );
});

export const policyNotEnforced = rule('policyNotEnforced', [Cause.PolicyNotEnforced], (context) => {
  const { a } = context;
  if (a.expect !== 'Blocked') return undefined;
  if (a.protocol === 'DNS') {
    const text = resolvedText(a);
    const blocked = a.dns.blockedByPolicy;
    if (!text || !blocked) return undefined;
    const summary = `${text}; ${blocked.message.replace(/; to fix,.*$/, '')}: ${enforcerOf(a).text}.`;
    const reproduce = [...digCommand(a.repro, resolvedLookup(a)?.dns.name), ...policyRepro(blocked.blockingPolicies)];
    return cause(Layer.NetworkPolicy, Cause.PolicyNotEnforced, 'failure', summary, enforcerOf(a).fix, reproduce);
  }
  const reach = reachedWithPolicy(context);
  const denied = reach?.flows.filter((flow) => !flow.verdict.allowed) ?? [];
  if (!reach || denied.length === 0) return undefined;
  const refs = denyingPolicies(denied);
  const enforcer = enforcerOf(a);
  const summary = `${reach.text}, yet ${formatPolicyRefs(refs)} should deny it: ${enforcer.text}.`;
  return cause(Layer.NetworkPolicy, Cause.PolicyNotEnforced, 'failure', summary, enforcer.fix, [...reach.reproduce, ...policyRepro(refs)]);
});

/** Who should have enforced the policy, from the CNI agents found: nobody, flannel (which cannot), or an agent that did not. */
function enforcerOf(a: Analysis): { text: string; fix: string } {
  const cni = a.cni.detected;
  if (cni.length === 0) {
    return {
      text: 'no NetworkPolicy agent was found (by the well-known CNI labels)',
      fix:
        'Fix: run a CNI or policy agent that enforces NetworkPolicy (Calico, Cilium, Antrea, kube-router), or check the one that runs outside ' +
        'the well-known labels.',
    };
  }
  if (cni.every((name) => name === 'flannel')) {
    return {
      text: 'the CNI is flannel, which does not enforce NetworkPolicy',
      fix: "Fix: add a policy agent next to flannel (Calico in canal mode, kube-router's firewall) or move to a CNI that enforces NetworkPolicy.",
    };
  }
  const agents = cni.join(', ');
  return {
    text: `the policy agent (${agents}) did not enforce it`,
    fix: `Fix: check the policy agent (${agents}) on the nodes involved: its pods' logs say why it did not program the policy.`,
  };
}

export const allowedByNetworkPolicy = rule('allowedByNetworkPolicy', [Cause.AllowedByNetworkPolicy], (context) => {
  const { a } = context;
  if (a.expect !== 'Blocked') return undefined;
  if (a.protocol === 'DNS') {
    const text = resolvedText(a);
    if (!text) return undefined;
    const fix = 'Fix: add an egress policy for the source that does not allow port 53 to the DNS pods, if the block is intended.';
    const summary = `${text}; ${a.dns.egress?.message ?? 'the NetworkPolicies could not be evaluated'}.`;
    return cause(Layer.NetworkPolicy, Cause.AllowedByNetworkPolicy, 'failure', summary, fix, digCommand(a.repro, resolvedLookup(a)?.dns.name));
  }
  const reach = reachedWithPolicy(context);
  const allowing = reach?.flows.map((flow) => flow.verdict.ingress.allowedBy ?? flow.verdict.egress.allowedBy).find(Boolean);
  if (!reach || !allowing) return undefined;
  const flow = reach.flows[0];
  const fix =
    `Fix: narrow ${allowing.description} (namespace ${allowing.policy.namespace}) so it no longer admits ` +
    `${describePeerForRule(a, 'source', flow)}, if the block is intended.`;
  return cause(Layer.NetworkPolicy, Cause.AllowedByNetworkPolicy, 'failure', `${reach.text}: ${flow.verdict.message.replace(/\.$/, '')}.`, fix, [
    ...reach.reproduce,
    ...policyRepro([allowing.policy]),
  ]);
});

export const noPolicyIsolates = rule('noPolicyIsolates', [Cause.NoPolicyIsolates], (context) => {
  const reach = reachedWithPolicy(context);
  if (!reach) return undefined;
  const { a } = context;
  const flow = reach.flows[0];
  const subject = flow?.backend ? `pod ${podRef(flow.backend.pod)}` : a.destinationText;
  const namespace = flow?.backend?.pod.metadata?.namespace ?? a.destNamespace;
  return cause(
    Layer.NetworkPolicy,
    Cause.NoPolicyIsolates,
    'failure',
    `${reach.text}: no NetworkPolicy selects ${subject} for ingress or the source for egress, so all traffic is allowed.`,
    `Fix: add a NetworkPolicy that isolates ${subject} (for example a default-deny ingress policy in namespace ${namespace}) and allow only the ` +
      `intended clients.`,
    reach.reproduce,
  );
});

/** "pod shop/web cannot reach svc shop/backend:8080, as expected (...)". */
function blockedText(a: Analysis): string {
  if (a.protocol === 'DNS') {
    const failed = a.dns.failed;
    return `${failed ? `${failed.dns.name} did not resolve (${failed.dns.status})` : 'no lookup succeeded'}, as expected`;
  }
  const failures = [
    ...a.service.connectFailed.map((attempt) => `${a.service.applicable ? 'ClusterIP ' : ''}${attemptShort(a, attempt)}`),
    ...a.pods.failed.map((o) => outcomeShort(a, o)),
  ];
  return `${sourceText(a)} cannot reach ${a.destinationText}, as expected${failures.length ? ` (${listText(failures, 3)})` : ''}`;
}

export const blockedAsExpected = rule('blockedAsExpected', [HealthyReason.BlockedAsExpected], ({ a }) => {
  if (a.expect !== 'Blocked') return undefined;
  const { policy } = a;
  if (a.protocol === 'DNS') {
    const blocked = a.dns.blockedByPolicy;
    return blocked
      ? cause(undefined, HealthyReason.BlockedAsExpected, 'ok', `${blockedText(a)}: ${blocked.message.replace(/; to fix,.*$/, '')}.`, undefined, [])
      : undefined;
  }
  if (policy.denied.length > 0) {
    const text = `${blockedText(a)}: ${policy.denied[0].verdict.message.replace(/\.$/, '')}; denying: ${formatPolicyRefs(denyingPolicies(policy.denied))}.`;
    return cause(undefined, HealthyReason.BlockedAsExpected, 'ok', text, undefined, []);
  }
  if (policy.error || !policy.applicable || policy.flows.length === 0) {
    const why = policy.error ?? policy.notApplicable ?? 'no flow to evaluate';
    return cause(
      undefined,
      HealthyReason.BlockedAsExpected,
      'ok',
      `${blockedText(a)}; the NetworkPolicies could not be evaluated (${why}).`,
      undefined,
      [],
    );
  }
  return undefined;
});

export const blockedNotByPolicy = rule('blockedNotByPolicy', [HealthyReason.BlockedNotByPolicy], ({ a, explain }) => {
  if (a.expect !== 'Blocked') return undefined;
  if (a.protocol === 'DNS') {
    const egress = a.dns.egress ? ` (${a.dns.egress.message})` : '';
    const fix = 'Fix: if the isolation matters, add an egress policy for the source that does not allow port 53.';
    return cause(
      undefined,
      HealthyReason.BlockedNotByPolicy,
      'warning',
      `${blockedText(a)}, but no NetworkPolicy blocks DNS for the source${egress}.`,
      fix,
      [],
    );
  }
  const explanation = explain();
  const elsewhere = explanation ? `; the block comes from elsewhere: ${explanation.reason}: ${explanation.summary}` : '';
  return cause(
    undefined,
    HealthyReason.BlockedNotByPolicy,
    'warning',
    `${blockedText(a)}, but no NetworkPolicy denies it (${a.policy.flows[0].verdict.message.replace(/\.$/, '')})${elsewhere}`,
    'Fix: if the isolation matters, add a NetworkPolicy that denies this flow: today it only fails by accident and will open when the other fault is fixed.',
    explanation?.reproduce ?? [],
  );
});
