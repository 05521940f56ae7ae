// Layer 5, NetworkPolicy: does any policy deny egress from the source or ingress to the destination?
// Every policy of the namespaces involved is evaluated with full semantics (netpol/evaluate.ts), for each
// destination pod (after Service translation) or for the host's addresses.
import { defaultPort } from '../../api/defaults.ts';
import { hostPort, plural, uniq } from '../../util/text.ts';
import type { AnalysisBase, Backend, Context } from '../analysis.ts';
import { evaluateFlow } from '../netpol/evaluate.ts';
import { externalEndpoint, podEndpoint, type FlowVerdict, type L4Protocol, type PolicyContext, type PolicyRef } from '../netpol/model.ts';
import { formatPolicyRefs } from '../netpol/rules.ts';
import { fetchedError, fetchedValue, isConnectResult, isIcmpResult } from '../objects.ts';
import { Cause, LayerReason } from '../reasons.ts';
import { defineLayer, finding } from './layer.ts';

declare module '../analysis.ts' {
  interface LayerAnalyses {
    readonly policy: PolicyAnalysis;
  }
}

export interface PolicyFlow {
  readonly target: string;
  readonly backend?: Backend;
  readonly verdict: FlowVerdict;
}

export interface PolicyAnalysis {
  readonly applicable: boolean;
  readonly notApplicable?: string;
  readonly error?: string;
  readonly flows: PolicyFlow[];
  readonly denied: PolicyFlow[];
  readonly policies: number;
}

const NAME = 'NetworkPolicy';
/** Flows evaluated at most: pods of a large Deployment say the same thing. */
const MAX_POD_FLOWS = 16;
const MAX_HOST_FLOWS = 4;

export const policyLayer = defineLayer({
  name: NAME,
  condition: 'NetworkPolicyAllows',
  key: 'policy',
  analyse: analysePolicy,
  finding: policyFinding,
});

function analysePolicy(context: Context): PolicyAnalysis {
  const { evidence, source, protocol } = context;
  const none = { flows: [], denied: [], policies: 0 };
  if (protocol === 'DNS') return { ...none, applicable: false, notApplicable: 'a DNS check: only the DNS egress rules apply (see DNSResolved)' };
  const policies = fetchedValue(evidence.networkPolicies);
  if (!policies) return { ...none, applicable: true, error: fetchedError(evidence.networkPolicies) };
  if (!source.endpoint) return { ...none, applicable: false, notApplicable: 'the source is not known' };
  const policyContext: PolicyContext = {
    policies,
    namespaces: fetchedValue(evidence.namespaces) ?? [],
    options: { ipBlockMatchesPodIPs: context.options.ipBlockMatchesPodIPs },
  };
  const flows = context.kind === 'host' ? hostFlows(context, policyContext) : podFlows(context, policyContext);
  return { applicable: true, flows, denied: flows.filter((flow) => !flow.verdict.allowed), policies: policies.length };
}

function l4Of(context: Context): L4Protocol {
  return context.protocol === 'UDP' ? 'UDP' : context.protocol === 'ICMP' ? ('ICMP' as L4Protocol) : 'TCP';
}

/** A host destination: the addresses the probe connected to, pinged or resolved. */
function hostFlows(context: Context, policyContext: PolicyContext): PolicyFlow[] {
  const source = context.source.endpoint!;
  const addresses = context.vantages.flatMap(({ result }) => [
    isConnectResult(result.connect) ? result.connect.ip : undefined,
    isIcmpResult(result.icmp) ? result.icmp.ip : undefined,
    ...(result.dns?.answers.slice(0, 1) ?? []),
  ]);
  const ips = uniq(addresses.filter((ip): ip is string => Boolean(ip)));
  const specPort = defaultPort(context.input.spec);
  const port = context.attempts[0]?.connect?.port ?? (typeof specPort === 'number' ? specPort : 0);
  return ips.slice(0, MAX_HOST_FLOWS).map((ip) => {
    const destination = externalEndpoint(ip, context.input.spec.destination.host);
    return { target: hostPort(ip, port), verdict: evaluateFlow({ source, destination, port, protocol: l4Of(context) }, policyContext) };
  });
}

/** Pod destinations and Services: each ready backend pod on its resolved port (after Service translation). */
function podFlows(context: Context, policyContext: PolicyContext): PolicyFlow[] {
  const source = context.source.endpoint!;
  const icmp = context.protocol === 'ICMP';
  const candidates = context.dest.backends.filter((backend) => backend.ip && (icmp || backend.port !== undefined));
  const ready = candidates.filter((backend) => backend.ready);
  return (ready.length > 0 ? ready : candidates).slice(0, MAX_POD_FLOWS).map((backend) => {
    const port = icmp ? 0 : (backend.port as number);
    const destination = podEndpoint(backend.pod, context.namespaceObject(backend.pod.metadata?.namespace ?? 'default'));
    const target = icmp ? (backend.ip as string) : hostPort(backend.ip as string, port);
    return { target, backend, verdict: evaluateFlow({ source, destination, port, protocol: l4Of(context) }, policyContext) };
  });
}

/** The policies whose default-deny blocks the given flows, named. */
export function denyingPolicies(flows: readonly PolicyFlow[]): PolicyRef[] {
  const refs = flows.flatMap((flow) => [
    ...(flow.verdict.egress.allowed ? [] : flow.verdict.egress.defaultDenyPolicies),
    ...(flow.verdict.ingress.allowed ? [] : flow.verdict.ingress.defaultDenyPolicies),
  ]);
  return [...new Map(refs.map((ref) => [`${ref.namespace}/${ref.name}`, ref])).values()];
}

function policyFinding(a: AnalysisBase) {
  const { policy, dns } = a;
  const dnsBlocked = dns.blockedByPolicy;
  const dnsAllowed = dns.egress?.allowed ? ` ${dns.egress.message}` : '';
  if (!policy.applicable) {
    if (dnsBlocked) return finding(NAME, 'False', Cause.DNSEgressBlockedByPolicy, dnsBlocked.message);
    if (dnsAllowed) return finding(NAME, 'True', LayerReason.PolicyAllows, dnsAllowed.trim());
    return finding(NAME, 'Unknown', LayerReason.NotApplicable, `Not evaluated: ${policy.notApplicable}.`);
  }
  if (policy.error) return finding(NAME, 'Unknown', LayerReason.EvidenceUnavailable, `Not evaluated: ${policy.error}.`);
  if (policy.denied.length > 0) {
    const more = policy.denied.length > 1 ? ` (${policy.denied.length} of ${policy.flows.length} flows denied)` : '';
    const dnsText = dnsBlocked ? ` ${dnsBlocked.message}` : '';
    const text = `${policy.denied[0].verdict.message}${more} Denying: ${formatPolicyRefs(denyingPolicies(policy.denied))}.${dnsText}`;
    return finding(NAME, 'False', Cause.BlockedByNetworkPolicy, text);
  }
  if (dnsBlocked) return finding(NAME, 'False', Cause.DNSEgressBlockedByPolicy, dnsBlocked.message);
  if (policy.flows.length === 0) {
    return finding(
      NAME,
      'Unknown',
      LayerReason.NotProbed,
      `Not evaluated: no destination pod or address to evaluate (${plural(policy.policies, 'policy', 'policies')} read).`,
    );
  }
  const isolated = policy.flows.some((flow) => flow.verdict.egress.isolated || flow.verdict.ingress.isolated);
  const flowText = policy.flows.length > 1 ? ` (${policy.flows.length} flows evaluated, all allowed)` : '';
  return finding(
    NAME,
    'True',
    isolated ? LayerReason.PolicyAllows : LayerReason.NotIsolated,
    `${policy.flows[0].verdict.message}${flowText}${dnsAllowed}`,
  );
}
