// NetworkPolicy denies the flow (expect: Reachable), and the wording every policy cause shares: the
// rule to add, named from the policies that deny and the peers' stable labels.
import { sentence } from '../../util/text.ts';
import type { Analysis } from '../analysis.ts';
import { Layer } from '../layers/index.ts';
import { denyingPolicies, type PolicyFlow } from '../layers/policy.ts';
import { formatLabels } from '../labels.ts';
import type { PolicyRef } from '../netpol/model.ts';
import { formatPolicyRefs } from '../netpol/rules.ts';
import { Cause } from '../reasons.ts';
import { kubectl, type Argv } from '../reproduce.ts';
import { cause, rule } from './shared.ts';
import { deniedUnanswered } from './symptoms.ts';

/** Labels that change with every rollout or name one pod: never suggest them in a policy. */
const VOLATILE_LABELS = new Set([
  'pod-template-hash',
  'controller-revision-hash',
  'pod-template-generation',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
  'controller-uid',
  'batch.kubernetes.io/controller-uid',
  'job-name',
  'batch.kubernetes.io/job-name',
]);

function stableLabels(labels: Record<string, string> | undefined): Record<string, string> {
  const stable = (key: string) => !VOLATILE_LABELS.has(key) && !key.startsWith('netcheck.dev/') && key !== 'app.kubernetes.io/managed-by';
  return Object.fromEntries(Object.entries(labels ?? {}).filter(([key]) => stable(key)));
}

/** "pods app=web in namespace shop": how a policy rule would name one end of the flow. */
export function describePeerForRule(a: Analysis, side: 'source' | 'destination', flow: PolicyFlow): string {
  if (side === 'source') {
    const pod = a.source.endpoint?.pod;
    if (!pod) return a.source.endpoint?.displayName ? `${a.source.endpoint.displayName} (ipBlock ${a.source.endpoint.ip}/32)` : 'the source';
    return `pods ${formatLabels(stableLabels(a.source.newPodLabels ?? pod.metadata?.labels))} in namespace ${pod.metadata?.namespace}`;
  }
  const pod = flow.backend?.pod;
  if (!pod) return `ipBlock ${flow.target.replace(/:\d+$/, '')}/32`;
  // For a Service, its selector is the stable description of its pods.
  const selector = a.kind === 'service' ? a.endpoints.service?.spec?.selector : undefined;
  return (
    `pods ${formatLabels(selector && Object.keys(selector).length > 0 ? selector : stableLabels(pod.metadata?.labels))} in namespace ` +
    `${pod.metadata?.namespace}`
  );
}

function flowPort(a: Analysis): string {
  const port = a.pods.outcomes[0]?.port ?? a.policy.flows[0]?.backend?.port ?? a.service.attempts[0]?.connect?.port;
  const protocol = a.protocol === 'UDP' ? 'UDP' : a.protocol === 'ICMP' ? 'ICMP' : 'TCP';
  return port ? `${port}/${protocol}` : protocol;
}

/** "add an ingress rule to policy X (namespace shop) admitting pods app=web in namespace front on 8080/TCP". */
export function policyFix(a: Analysis, flows: readonly PolicyFlow[]): string {
  const flow = flows[0];
  const parts: string[] = [];
  if (!flow.verdict.egress.allowed) {
    parts.push(
      `add an egress rule to ${formatPolicyRefs(flow.verdict.egress.defaultDenyPolicies)} allowing ${describePeerForRule(a, 'destination', flow)} ` +
        `on ${flowPort(a)}`,
    );
  }
  if (!flow.verdict.ingress.allowed) {
    parts.push(
      `add an ingress rule to ${formatPolicyRefs(flow.verdict.ingress.defaultDenyPolicies)} admitting ${describePeerForRule(a, 'source', flow)} on ` +
        `${flowPort(a)}`,
    );
  }
  return `Fix: ${parts.join(', and ')}, if this traffic is intended.`;
}

export function policyRepro(refs: readonly PolicyRef[]): Argv[] {
  return refs.slice(0, 3).map((ref) => kubectl(ref.namespace, 'describe', 'networkpolicy', ref.name));
}

// NetworkPolicy first, even for refusals: agents that REJECT denied traffic (kube-router answers
// with ICMP port unreachable) make a denied TCP connect fail with ECONNREFUSED, exactly like a
// closed port. Only a flow the policies allow can blame the port.
export const blockedByNetworkPolicy = rule('blockedByNetworkPolicy', [Cause.BlockedByNetworkPolicy], ({ a, s }) => {
  const path = s.path;
  if (!path) return undefined;
  const denied = deniedUnanswered(a);
  if (denied.length === 0) return undefined;
  const rejected =
    path.failed.length > 0 && path.silent.length === 0
      ? ' (refused rather than dropped: the policy agent rejects denied traffic, as kube-router does with ICMP port unreachable)'
      : '';
  const summary = sentence(`${path.text}${rejected}: ${denied[0].verdict.message.replace(/\.$/, '')}`);
  return cause(Layer.NetworkPolicy, Cause.BlockedByNetworkPolicy, 'failure', summary, policyFix(a, denied), [
    ...path.reproduce,
    ...policyRepro(denyingPolicies(denied)),
  ]);
});
