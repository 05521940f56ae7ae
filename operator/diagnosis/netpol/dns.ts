// DNS egress: may the source send port 53 UDP and TCP to the DNS pods? Which policies block which
// protocol to which DNS pod, and what a lookup then does (fails, fails intermittently, or only large
// answers fail).
import type { V1Namespace, V1NetworkPolicy } from '@kubernetes/client-node';
import { evaluateFlow } from './evaluate.ts';
import {
  DNS_PORT,
  describePodShort,
  podNamespaceOf,
  policiesSelectingPod,
  policyRef,
  type EvaluationOptions,
  type FlowEndpoint,
  type FlowVerdict,
  type L4Protocol,
  type PolicyContext,
  type PolicyDirection,
  type PolicyRef,
} from './model.ts';
import { formatPolicyRefs } from './rules.ts';

export type DnsPolicyStatus = 'Allowed' | 'Blocked' | 'Partial' | 'Unknown';

export interface DnsProtocolSummary {
  readonly protocol: L4Protocol;
  /** DNS pods (namespace/name) reachable under policy. */
  readonly allowedTo: readonly string[];
  readonly blockedTo: readonly string[];
}

export interface DnsEgressInput {
  readonly source: FlowEndpoint;
  /** The CoreDNS / kube-dns pods (e.g. kube-system, k8s-app=kube-dns) with their namespace. */
  readonly dnsPods: readonly FlowEndpoint[];
  readonly policies: readonly V1NetworkPolicy[];
  readonly namespaces?: readonly V1Namespace[];
  /** The DNS pods' listening port (targetPort of the kube-dns Service); 53 unless the cluster differs. */
  readonly port?: number;
  readonly options?: EvaluationOptions;
}

export interface DnsEgressVerdict {
  readonly status: DnsPolicyStatus;
  /** UDP and TCP allowed to every DNS pod. */
  readonly allowed: boolean;
  readonly udp: DnsProtocolSummary;
  readonly tcp: DnsProtocolSummary;
  /** Policies whose default-deny blocks some DNS flow (source egress side first). */
  readonly blockingPolicies: readonly PolicyRef[];
  /** Which side blocks: the source's egress policies, the DNS namespace's ingress policies, or both. */
  readonly blockedAt: readonly PolicyDirection[];
  readonly flows: readonly FlowVerdict[];
  readonly message: string;
}

function endpointKey(endpoint: FlowEndpoint): string {
  return endpoint.pod ? `${podNamespaceOf(endpoint)}/${endpoint.pod.metadata?.name ?? '<unnamed>'}` : endpoint.ip;
}

function uniqueRefs(refs: readonly PolicyRef[]): PolicyRef[] {
  const seen = new Set<string>();
  return refs.filter((ref) => {
    const key = `${ref.namespace}/${ref.name}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** What a DNS egress evaluation found, before it is worded. */
interface Evaluated {
  readonly port: number;
  readonly sourceText: string;
  readonly udp: DnsProtocolSummary;
  readonly tcp: DnsProtocolSummary;
  readonly flows: FlowVerdict[];
  readonly denied: FlowVerdict[];
  readonly egressBlockers: PolicyRef[];
  readonly ingressBlockers: PolicyRef[];
}

/** Without a DNS pod there is no flow to evaluate; say at least whether the source is egress-isolated. */
function withoutDnsPods(input: DnsEgressInput, sourceText: string): DnsEgressVerdict {
  const isolating = input.source.pod ? policiesSelectingPod(input.policies, input.source.pod, 'Egress').map(policyRef) : [];
  const isolation =
    isolating.length > 0 ? `${sourceText} is egress-isolated by ${formatPolicyRefs(isolating)}` : `${sourceText} is not egress-isolated`;
  const empty = (protocol: L4Protocol): DnsProtocolSummary => ({ protocol, allowedTo: [], blockedTo: [] });
  return {
    status: 'Unknown',
    allowed: false,
    udp: empty('UDP'),
    tcp: empty('TCP'),
    blockingPolicies: [],
    blockedAt: [],
    flows: [],
    message: `DNS egress policy cannot be evaluated: no DNS pods were found (${isolation}).`,
  };
}

/** Every DNS pod over UDP and over TCP. */
function evaluateAll(input: DnsEgressInput, sourceText: string): Evaluated {
  const port = input.port ?? DNS_PORT;
  const context: PolicyContext = { policies: input.policies, namespaces: input.namespaces, options: input.options };
  const flows: FlowVerdict[] = [];
  const summarise = (protocol: L4Protocol): DnsProtocolSummary => {
    const allowedTo: string[] = [];
    const blockedTo: string[] = [];
    for (const dnsPod of input.dnsPods) {
      const verdict = evaluateFlow({ source: input.source, destination: dnsPod, port, protocol }, context);
      flows.push(verdict);
      (verdict.allowed ? allowedTo : blockedTo).push(endpointKey(dnsPod));
    }
    return { protocol, allowedTo, blockedTo };
  };
  const udp = summarise('UDP');
  const tcp = summarise('TCP');
  const denied = flows.filter((verdict) => !verdict.allowed);
  const egressBlockers = uniqueRefs(denied.flatMap((verdict) => verdict.egress.defaultDenyPolicies));
  const ingressBlockers = uniqueRefs(denied.flatMap((verdict) => verdict.ingress.defaultDenyPolicies));
  return { port, sourceText, udp, tcp, flows, denied, egressBlockers, ingressBlockers };
}

/** "policy X (namespace shop) selects it for egress and ...", and the rules that would fix it. */
function blockersAndFix(input: DnsEgressInput, e: Evaluated): { blockers: string; fix: string } {
  const selects = (refs: readonly PolicyRef[]): string => (refs.length === 1 ? 'selects' : 'select');
  const clauses: string[] = [];
  if (e.egressBlockers.length > 0) clauses.push(`${formatPolicyRefs(e.egressBlockers)} ${selects(e.egressBlockers)} it for egress`);
  if (e.ingressBlockers.length > 0) clauses.push(`${formatPolicyRefs(e.ingressBlockers)} ${selects(e.ingressBlockers)} the DNS pods for ingress`);
  const first = input.dnsPods[0];
  const dnsNamespace = first.pod ? podNamespaceOf(first) : undefined;
  const dnsAppLabel = first.pod?.metadata?.labels?.['k8s-app'];
  const dnsPeerText = dnsNamespace ? `pods${dnsAppLabel ? ` k8s-app=${dnsAppLabel}` : ''} in namespace ${dnsNamespace}` : 'the DNS servers';
  const fixes: string[] = [];
  if (e.egressBlockers.length > 0) fixes.push(`add an egress rule to ${dnsPeerText} on ${e.port}/UDP and ${e.port}/TCP`);
  if (e.ingressBlockers.length > 0) fixes.push(`add an ingress rule on the DNS pods admitting ${e.sourceText}`);
  return { blockers: clauses.join(' and '), fix: fixes.join(' and ') };
}

/** DNS allowed to some DNS pods or over one protocol only: what breaks. */
function partialMessage(e: Evaluated, blockers: string, fix: string): string {
  const { port, udp, tcp } = e;
  const parts = [udp, tcp]
    .filter((summary) => summary.blockedTo.length > 0)
    .map((summary) =>
      summary.allowedTo.length === 0
        ? `${port}/${summary.protocol} is blocked to every DNS pod`
        : `${port}/${summary.protocol} is blocked to ${summary.blockedTo.join(', ')} but allowed to ${summary.allowedTo.join(', ')}`,
    );
  const consequence =
    udp.blockedTo.length > 0 && udp.allowedTo.length > 0
      ? 'lookups fail intermittently, depending on which DNS pod answers'
      : udp.allowedTo.length === 0
        ? 'UDP lookups fail and only TCP works'
        : 'large answers that fall back to TCP fail';
  return `DNS from ${e.sourceText} is only partly allowed: ${parts.join('; ')} (${blockers}), so ${consequence}; to fix, ${fix}.`;
}

/** Decides whether DNS (UDP and TCP to port 53 of the DNS pods) is allowed for the source, naming blockers. */
export function evaluateDnsEgress(input: DnsEgressInput): DnsEgressVerdict {
  const sourceText = describePodShort(input.source);
  if (input.dnsPods.length === 0) return withoutDnsPods(input, sourceText);
  const e = evaluateAll(input, sourceText);
  const { port, udp, tcp, flows, denied } = e;
  const blockedAt: PolicyDirection[] = [
    ...(denied.some((verdict) => !verdict.egress.allowed) ? ['Egress' as const] : []),
    ...(denied.some((verdict) => !verdict.ingress.allowed) ? ['Ingress' as const] : []),
  ];
  const common = { udp, tcp, blockingPolicies: uniqueRefs([...e.egressBlockers, ...e.ingressBlockers]), blockedAt, flows };
  if (denied.length === 0) {
    const egressRule = flows.find((verdict) => verdict.egress.allowedBy)?.egress.allowedBy;
    const how = egressRule
      ? `egress allowed by policy ${egressRule.description} (namespace ${egressRule.policy.namespace})`
      : `egress from ${sourceText} is not restricted`;
    const message = `DNS from ${sourceText} to ${input.dnsPods.length} DNS pod(s) on ${port}/UDP and ${port}/TCP is allowed: ${how}.`;
    return { status: 'Allowed', allowed: true, ...common, message };
  }
  const { blockers, fix } = blockersAndFix(input, e);
  if (udp.allowedTo.length === 0 && tcp.allowedTo.length === 0) {
    const targets = input.dnsPods.map((endpoint) => `${endpointKey(endpoint)} ${endpoint.ip}`).join(', ');
    const message =
      `DNS from ${sourceText} is blocked: ${blockers}, and no rule allows ${port}/UDP or ${port}/TCP to the DNS pods (${targets}); ` +
      `to fix, ${fix}.`;
    return { status: 'Blocked', allowed: false, ...common, message };
  }
  return { status: 'Partial', allowed: false, ...common, message: partialMessage(e, blockers, fix) };
}
