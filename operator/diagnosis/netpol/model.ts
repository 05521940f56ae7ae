// The NetworkPolicy evaluator's model: the endpoints of a flow, the verdicts, and the accessors that
// read a policy the way the API server defaults it. See evaluate.ts for the semantics implemented.
import type { V1Namespace, V1NetworkPolicy, V1NetworkPolicyIngressRule, V1NetworkPolicyPeer, V1Pod } from '@kubernetes/client-node';
import { matchesLabelSelector } from '../labels.ts';

export type PolicyDirection = 'Ingress' | 'Egress';
export type L4Protocol = 'TCP' | 'UDP' | 'SCTP';

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_PROTOCOL: L4Protocol = 'TCP';
export const DNS_PORT = 53;

/** One end of a flow. A pod endpoint has `pod` (and ideally `namespace`); an external one only `ip`. */
export interface FlowEndpoint {
  readonly pod?: V1Pod;
  /** The pod's Namespace object, for namespaceSelector matching. Looked up in the context when absent. */
  readonly namespace?: V1Namespace;
  readonly ip: string;
  /** Display name for non-pod endpoints, e.g. "node worker-1" or "api.example.com". */
  readonly displayName?: string;
}

export interface Flow {
  readonly source: FlowEndpoint;
  readonly destination: FlowEndpoint;
  /** Destination port after Service translation (the targetPort). */
  readonly port: number;
  readonly protocol?: L4Protocol;
}

export interface EvaluationOptions {
  /** Whether ipBlock peers match pod IPs (default true; false models Cilium). */
  readonly ipBlockMatchesPodIPs?: boolean;
}

export interface PolicyContext {
  /** Policies of any namespaces; each side only considers the ones in its own namespace. */
  readonly policies: readonly V1NetworkPolicy[];
  /** Namespaces for namespaceSelector matching when an endpoint does not carry its Namespace object. */
  readonly namespaces?: readonly V1Namespace[];
  readonly options?: EvaluationOptions;
}

export interface PolicyRef {
  readonly name: string;
  readonly namespace: string;
}

export interface RuleRef {
  readonly policy: PolicyRef;
  readonly direction: PolicyDirection;
  readonly ruleIndex: number;
  /** "allow-frontend ingress rule #0". */
  readonly description: string;
}

/** A rule that matched the peer but not the port, or the port but not the peer. */
export interface RuleNearMiss extends RuleRef {
  readonly peerMatched: boolean;
  readonly portMatched: boolean;
  /** "allows 5432/TCP only from pods app=api in namespace shop". */
  readonly explanation: string;
}

export interface DirectionVerdict {
  readonly direction: PolicyDirection;
  /** The pod this direction is enforced at ("pod shop/web-1"), or the endpoint's description. */
  readonly subject: string;
  /** False when the side is not a pod (or a hostNetwork pod): NetworkPolicy does not apply there. */
  readonly applies: boolean;
  readonly isolated: boolean;
  readonly allowed: boolean;
  /** Policies in the subject's namespace that select it for this direction, sorted by name. */
  readonly selectingPolicies: readonly PolicyRef[];
  /** The first rule (by policy name, then rule index) that allows the flow. */
  readonly allowedBy?: RuleRef;
  readonly allowingRules: readonly RuleRef[];
  /** When denied: the selecting policies, whose default-deny applies. Empty otherwise. */
  readonly defaultDenyPolicies: readonly PolicyRef[];
  readonly nearMisses: readonly RuleNearMiss[];
  readonly message: string;
}

export interface FlowVerdict {
  readonly allowed: boolean;
  readonly protocol: L4Protocol;
  readonly port: number;
  readonly egress: DirectionVerdict;
  readonly ingress: DirectionVerdict;
  /** Directions that deny the flow, egress first. */
  readonly deniedAt: readonly PolicyDirection[];
  readonly message: string;
}

// ---------------------------------------------------------------------------------------------------
// Small accessors.

export function podEndpoint(pod: V1Pod, namespace?: V1Namespace, ip?: string): FlowEndpoint {
  return { pod, namespace, ip: ip ?? pod.status?.podIP ?? pod.status?.podIPs?.[0]?.ip ?? '' };
}

export function externalEndpoint(ip: string, displayName?: string): FlowEndpoint {
  return { ip, displayName };
}

export function policyRef(policy: V1NetworkPolicy): PolicyRef {
  return { name: policy.metadata?.name ?? '<unnamed>', namespace: policy.metadata?.namespace ?? DEFAULT_NAMESPACE };
}

export function podNamespaceOf(endpoint: FlowEndpoint): string {
  return endpoint.pod?.metadata?.namespace ?? endpoint.namespace?.metadata?.name ?? DEFAULT_NAMESPACE;
}

export function isHostNetwork(pod: V1Pod | undefined): boolean {
  return pod?.spec?.hostNetwork === true;
}

export function describeEndpoint(endpoint: FlowEndpoint): string {
  if (endpoint.pod) {
    const name = `pod ${podNamespaceOf(endpoint)}/${endpoint.pod.metadata?.name ?? '<unnamed>'}`;
    return endpoint.ip ? `${name} (${endpoint.ip})` : name;
  }
  if (endpoint.displayName) return `${endpoint.displayName} (${endpoint.ip})`;
  return endpoint.ip;
}

export function describePodShort(endpoint: FlowEndpoint): string {
  return endpoint.pod ? `pod ${podNamespaceOf(endpoint)}/${endpoint.pod.metadata?.name ?? '<unnamed>'}` : describeEndpoint(endpoint);
}

export function ingressPeers(rule: V1NetworkPolicyIngressRule): V1NetworkPolicyPeer[] | undefined {
  return rule._from ?? (rule as { from?: V1NetworkPolicyPeer[] }).from;
}

export function normaliseProtocol(protocol: string | undefined): string {
  return (protocol ?? DEFAULT_PROTOCOL).toUpperCase();
}

/** policyTypes as the API server defaults them. */
export function effectivePolicyTypes(policy: V1NetworkPolicy): PolicyDirection[] {
  const declared = policy.spec?.policyTypes;
  if (declared && declared.length > 0) {
    return (['Ingress', 'Egress'] as const).filter((direction) => declared.some((type) => type.toLowerCase() === direction.toLowerCase()));
  }
  const types: PolicyDirection[] = ['Ingress'];
  if ((policy.spec?.egress ?? []).length > 0) types.push('Egress');
  return types;
}

/** Whether the policy's spec.podSelector selects the pod (same namespace only). */
export function policySelectsPod(policy: V1NetworkPolicy, pod: V1Pod): boolean {
  if (isHostNetwork(pod)) return false;
  if ((policy.metadata?.namespace ?? DEFAULT_NAMESPACE) !== (pod.metadata?.namespace ?? DEFAULT_NAMESPACE)) return false;
  return matchesLabelSelector(policy.spec?.podSelector ?? {}, pod.metadata?.labels);
}

export function policiesSelectingPod(policies: readonly V1NetworkPolicy[], pod: V1Pod, direction: PolicyDirection): V1NetworkPolicy[] {
  return policies
    .filter((policy) => policySelectsPod(policy, pod) && effectivePolicyTypes(policy).includes(direction))
    .sort((left, right) => policyRef(left).name.localeCompare(policyRef(right).name));
}
