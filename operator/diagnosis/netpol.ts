// A NetworkPolicy evaluator with the semantics of networking.k8s.io/v1. Pure functions: it takes the
// policies, the namespaces and the two endpoints of a flow and says whether the flow is allowed, which
// policies select each side, which rule allows it, or which policies' default-deny applies.
//
// Semantics implemented (https://kubernetes.io/docs/concepts/services-networking/network-policies/):
// - A pod is isolated for a direction iff some policy IN ITS NAMESPACE selects it (spec.podSelector, {} =
//   every pod) and has that direction among its policyTypes. Absent policyTypes mean Ingress, plus Egress
//   when spec.egress has at least one rule (the API server's defaulting).
// - An isolated pod accepts/sends traffic iff at least one rule of at least one selecting policy allows
//   it (policies are additive, there is no deny rule). A direction with no rules denies everything.
// - A rule with no from/to peers matches every peer; a rule with no ports matches every port.
// - Peer: podSelector alone = pods in the policy's namespace; namespaceSelector alone = all pods in the
//   matching namespaces; both in one peer = pods matching podSelector in namespaces matching
//   namespaceSelector (AND); separate peers are ORed. ipBlock = cidr minus except, IPv4 or IPv6.
// - Port: protocol defaults to TCP; a numeric port with optional endPort range; a named port is
//   resolved against the DESTINATION pod's container ports (for egress only when the destination is a
//   pod: a named port never matches an external address).
// - A flow needs egress allowed at the source pod AND ingress allowed at the destination pod. A side that
//   is not a pod (external address, node) is not subject to NetworkPolicy.
//
// Choices where implementations differ (documented so the diagnosis can say so):
// - ipBlock is matched against pod IPs too (Calico, kube-router, Antrea do; Cilium does not match
//   in-cluster endpoints against CIDR rules). Set `ipBlockMatchesPodIPs: false` for the latter.
// - hostNetwork pods are treated as the node: policies do not select them, and pod/namespace selectors do
//   not match them as peers (the behaviour the docs describe for most plugins). Only ipBlock can match.
// - Traffic is evaluated after Service DNAT: the destination is a pod IP and the port is the targetPort.
//   Pass the backend pod, not the ClusterIP.
// - Ingress rules: @kubernetes/client-node names the field `_from`; a plain YAML/JSON object has `from`.
//   Both are read.
import type {
  V1IPBlock,
  V1Namespace,
  V1NetworkPolicy,
  V1NetworkPolicyEgressRule,
  V1NetworkPolicyIngressRule,
  V1NetworkPolicyPeer,
  V1NetworkPolicyPort,
  V1Pod,
} from '@kubernetes/client-node';
import { formatLabelSelector, isEmptySelector, matchesLabelSelector, type Labels } from './labels.ts';

export type PolicyDirection = 'Ingress' | 'Egress';
export type L4Protocol = 'TCP' | 'UDP' | 'SCTP';

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const DEFAULT_NAMESPACE = 'default';
const DEFAULT_PROTOCOL: L4Protocol = 'TCP';
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

function podNamespaceOf(endpoint: FlowEndpoint): string {
  return endpoint.pod?.metadata?.namespace ?? endpoint.namespace?.metadata?.name ?? DEFAULT_NAMESPACE;
}

function isHostNetwork(pod: V1Pod | undefined): boolean {
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

function describePodShort(endpoint: FlowEndpoint): string {
  return endpoint.pod ? `pod ${podNamespaceOf(endpoint)}/${endpoint.pod.metadata?.name ?? '<unnamed>'}` : describeEndpoint(endpoint);
}

function ingressPeers(rule: V1NetworkPolicyIngressRule): V1NetworkPolicyPeer[] | undefined {
  return rule._from ?? (rule as { from?: V1NetworkPolicyPeer[] }).from;
}

function normaliseProtocol(protocol: string | undefined): string {
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

// ---------------------------------------------------------------------------------------------------
// IP addresses and CIDRs (IPv4 and IPv6, bigint arithmetic).

interface ParsedAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

function parseIPv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIPv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string): string[] => (half === '' ? [] : half.split(':'));
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  const words: number[] = [];
  const pushGroups = (groups: string[], target: number[]): boolean => {
    for (let index = 0; index < groups.length; index++) {
      const group = groups[index];
      if (group.includes('.')) {
        // An embedded IPv4 address is allowed as the last group only.
        if (index !== groups.length - 1) return false;
        const v4 = parseIPv4(group);
        if (v4 === undefined) return false;
        target.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return false;
        target.push(parseInt(group, 16));
      }
    }
    return true;
  };
  const headWords: number[] = [];
  const tailWords: number[] = [];
  if (!pushGroups(head, headWords) || !pushGroups(tail, tailWords)) return undefined;
  if (halves.length === 1) {
    if (headWords.length !== 8) return undefined;
    words.push(...headWords);
  } else {
    const missing = 8 - headWords.length - tailWords.length;
    if (missing < 1) return undefined;
    words.push(...headWords, ...new Array<number>(missing).fill(0), ...tailWords);
  }
  return words.reduce((value, word) => (value << 16n) | BigInt(word), 0n);
}

const IPV4_MAPPED_PREFIX = 0xffffn << 32n;

/** Parses an IPv4 or IPv6 address; IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4, like Go's net package. */
export function parseIP(text: string): ParsedAddress | undefined {
  const trimmed = text.trim().replace(/%.*$/, '');
  if (trimmed.includes(':')) {
    const value = parseIPv6(trimmed);
    if (value === undefined) return undefined;
    if (value >> 32n === IPV4_MAPPED_PREFIX >> 32n) return { family: 4, value: value & 0xffffffffn };
    return { family: 6, value };
  }
  const value = parseIPv4(trimmed);
  return value === undefined ? undefined : { family: 4, value };
}

interface ParsedCidr {
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly prefix: number;
}

export function parseCIDR(text: string): ParsedCidr | undefined {
  const slash = text.lastIndexOf('/');
  if (slash < 0) return undefined;
  const address = parseIP(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!address || !/^\d{1,3}$/.test(prefixText)) return undefined;
  let prefix = Number(prefixText);
  // An IPv4-mapped IPv6 CIDR (::ffff:10.0.0.0/104) becomes an IPv4 one.
  if (address.family === 4 && text.slice(0, slash).includes(':')) prefix -= 96;
  const bits = address.family === 4 ? 32 : 128;
  if (prefix < 0 || prefix > bits) return undefined;
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return { family: address.family, network: address.value & mask, prefix };
}

export function cidrContains(cidr: string, ip: string): boolean {
  const network = parseCIDR(cidr);
  const address = parseIP(ip);
  if (!network || !address || network.family !== address.family) return false;
  const bits = network.family === 4 ? 32 : 128;
  const shift = BigInt(bits - network.prefix);
  return address.value >> shift === network.network >> shift;
}

/** In cidr and in none of the except ranges. */
export function ipBlockContains(ipBlock: V1IPBlock, ip: string): boolean {
  return cidrContains(ipBlock.cidr, ip) && !(ipBlock.except ?? []).some((excepted) => cidrContains(excepted, ip));
}

// ---------------------------------------------------------------------------------------------------
// Peers and ports.

function namespaceLabelsOf(endpoint: FlowEndpoint, context: PolicyContext): Labels {
  const name = podNamespaceOf(endpoint);
  const namespace = endpoint.namespace ?? context.namespaces?.find((candidate) => candidate.metadata?.name === name);
  // The API server sets kubernetes.io/metadata.name on every namespace (immutable since 1.21), so it is
  // there even when we were not given the Namespace object.
  return { ...(namespace?.metadata?.labels ?? {}), [NAMESPACE_NAME_LABEL]: name };
}

/** Whether one peer entry matches the endpoint at the other end of the flow. */
export function peerMatches(peer: V1NetworkPolicyPeer, policyNamespace: string, endpoint: FlowEndpoint, context: PolicyContext): boolean {
  if (peer.ipBlock) {
    if (endpoint.pod && !isHostNetwork(endpoint.pod) && context.options?.ipBlockMatchesPodIPs === false) return false;
    return endpoint.ip !== '' && ipBlockContains(peer.ipBlock, endpoint.ip);
  }
  if (!peer.podSelector && !peer.namespaceSelector) return false; // rejected by the API: "must specify a peer"
  if (!endpoint.pod || isHostNetwork(endpoint.pod)) return false;
  if (peer.namespaceSelector) {
    if (!matchesLabelSelector(peer.namespaceSelector, namespaceLabelsOf(endpoint, context))) return false;
  } else if (podNamespaceOf(endpoint) !== policyNamespace) {
    return false;
  }
  return peer.podSelector ? matchesLabelSelector(peer.podSelector, endpoint.pod.metadata?.labels) : true;
}

function numericPort(port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  // A string of digits is a number that went through YAML as a string; the API's IntOrString would have
  // decoded it as an int, and a real port name must contain a letter.
  if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port);
  return undefined;
}

/** Resolves a named port on a pod: the containerPort whose name and protocol match. */
export function resolveNamedPort(pod: V1Pod | undefined, name: string, protocol: string): number | undefined {
  if (!pod) return undefined;
  // initContainers count too: sidecars (restartPolicy Always) live there and serve ports.
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  for (const container of containers) {
    for (const containerPort of container.ports ?? []) {
      if (containerPort.name === name && normaliseProtocol(containerPort.protocol) === protocol) return containerPort.containerPort;
    }
  }
  return undefined;
}

/** Whether one ports entry admits port/protocol on the destination pod. */
export function portMatches(spec: V1NetworkPolicyPort, port: number, protocol: L4Protocol, destinationPod: V1Pod | undefined): boolean {
  const specProtocol = normaliseProtocol(spec.protocol);
  if (specProtocol !== protocol) return false;
  if (spec.port === undefined || spec.port === null) return true;
  const start = numericPort(spec.port);
  if (start !== undefined) {
    // endPort below port is rejected by the API; treat it as a single port rather than an empty range.
    const end = spec.endPort !== undefined && spec.endPort !== null && spec.endPort >= start ? spec.endPort : start;
    return port >= start && port <= end;
  }
  return resolveNamedPort(destinationPod, String(spec.port), specProtocol) === port;
}

export function formatPortSpec(spec: V1NetworkPolicyPort): string {
  const protocol = normaliseProtocol(spec.protocol);
  if (spec.port === undefined || spec.port === null) return `any ${protocol} port`;
  const start = numericPort(spec.port);
  if (start === undefined) return `named port ${spec.port}/${protocol}`;
  if (spec.endPort !== undefined && spec.endPort !== null && spec.endPort > start) return `${start}-${spec.endPort}/${protocol}`;
  return `${start}/${protocol}`;
}

export function formatPeer(peer: V1NetworkPolicyPeer, policyNamespace: string): string {
  if (peer.ipBlock) {
    const except = peer.ipBlock.except ?? [];
    return except.length > 0 ? `ipBlock ${peer.ipBlock.cidr} except ${except.join(', ')}` : `ipBlock ${peer.ipBlock.cidr}`;
  }
  const pods = peer.podSelector && !isEmptySelector(peer.podSelector) ? `pods ${formatLabelSelector(peer.podSelector)}` : 'all pods';
  if (!peer.namespaceSelector) return `${pods} in namespace ${policyNamespace}`;
  if (isEmptySelector(peer.namespaceSelector)) return `${pods} in all namespaces`;
  return `${pods} in namespaces ${formatLabelSelector(peer.namespaceSelector)}`;
}

function formatPeers(peers: readonly V1NetworkPolicyPeer[] | undefined, policyNamespace: string): string {
  if (!peers || peers.length === 0) return 'any peer';
  return peers.map((peer) => formatPeer(peer, policyNamespace)).join(' or ');
}

function formatPorts(ports: readonly V1NetworkPolicyPort[] | undefined): string {
  if (!ports || ports.length === 0) return 'any port';
  return ports.map(formatPortSpec).join(', ');
}

export function formatPolicyRefs(refs: readonly PolicyRef[]): string {
  const byNamespace = new Map<string, string[]>();
  for (const ref of refs) byNamespace.set(ref.namespace, [...(byNamespace.get(ref.namespace) ?? []), ref.name]);
  return [...byNamespace.entries()]
    .map(([namespace, names]) => `${names.length === 1 ? 'policy' : 'policies'} ${names.join(', ')} (namespace ${namespace})`)
    .join(' and ');
}

function ruleDescription(policy: PolicyRef, direction: PolicyDirection, ruleIndex: number): string {
  return `${policy.name} ${direction.toLowerCase()} rule #${ruleIndex}`;
}

function formatTarget(endpoint: FlowEndpoint, port: number, protocol: L4Protocol): string {
  const where = endpoint.ip ? `${endpoint.ip}:${port}/${protocol}` : `port ${port}/${protocol}`;
  return endpoint.pod ? `${describePodShort(endpoint)} at ${where}` : endpoint.displayName ? `${endpoint.displayName} at ${where}` : where;
}

// ---------------------------------------------------------------------------------------------------
// Evaluation.

interface RuleView {
  readonly peers: readonly V1NetworkPolicyPeer[] | undefined;
  readonly ports: readonly V1NetworkPolicyPort[] | undefined;
}

function rulesOf(policy: V1NetworkPolicy, direction: PolicyDirection): RuleView[] {
  if (direction === 'Ingress') {
    return (policy.spec?.ingress ?? []).map((rule: V1NetworkPolicyIngressRule) => ({ peers: ingressPeers(rule), ports: rule.ports }));
  }
  return (policy.spec?.egress ?? []).map((rule: V1NetworkPolicyEgressRule) => ({ peers: rule.to, ports: rule.ports }));
}

/**
 * Evaluates one direction. For Egress the subject is the source pod and the peer is the destination; for
 * Ingress the subject is the destination pod and the peer is the source. Named ports always resolve
 * against the destination.
 */
export function evaluateDirection(direction: PolicyDirection, flow: Flow, context: PolicyContext): DirectionVerdict {
  const protocol = flow.protocol ?? DEFAULT_PROTOCOL;
  const subject = direction === 'Egress' ? flow.source : flow.destination;
  const peer = direction === 'Egress' ? flow.destination : flow.source;
  const subjectText = describePodShort(subject);
  const verb = direction === 'Egress' ? 'Egress from' : 'Ingress to';
  const base = { direction, subject: subjectText, allowingRules: [], defaultDenyPolicies: [], nearMisses: [], selectingPolicies: [] };

  if (!subject.pod) {
    const role = direction === 'Egress' ? 'source' : 'destination';
    return { ...base, applies: false, isolated: false, allowed: true, message: `${verb} ${describeEndpoint(subject)} is not subject to NetworkPolicy: the ${role} is not a pod.` };
  }
  if (isHostNetwork(subject.pod)) {
    return {
      ...base,
      applies: false,
      isolated: false,
      allowed: true,
      message: `${verb} ${subjectText} is not subject to NetworkPolicy: it uses the host network, so most plugins treat its traffic as the node's.`,
    };
  }

  const subjectNamespace = podNamespaceOf(subject);
  const selecting = policiesSelectingPod(context.policies, subject.pod, direction);
  const selectingRefs = selecting.map(policyRef);
  if (selecting.length === 0) {
    return {
      ...base,
      applies: true,
      isolated: false,
      allowed: true,
      message: `${verb} ${subjectText} is not restricted: no NetworkPolicy in namespace ${subjectNamespace} selects it for ${direction.toLowerCase()}.`,
    };
  }

  const destinationPod = isHostNetwork(flow.destination.pod) ? undefined : flow.destination.pod;
  const allowingRules: RuleRef[] = [];
  const nearMisses: RuleNearMiss[] = [];
  for (const policy of selecting) {
    const ref = policyRef(policy);
    rulesOf(policy, direction).forEach((rule, ruleIndex) => {
      const peerMatched = !rule.peers || rule.peers.length === 0 || rule.peers.some((candidate) => peerMatches(candidate, ref.namespace, peer, context));
      const portMatched = !rule.ports || rule.ports.length === 0 || rule.ports.some((spec) => portMatches(spec, flow.port, protocol, destinationPod));
      const ruleRef: RuleRef = { policy: ref, direction, ruleIndex, description: ruleDescription(ref, direction, ruleIndex) };
      if (peerMatched && portMatched) {
        allowingRules.push(ruleRef);
      } else if (peerMatched || portMatched) {
        const peersText = formatPeers(rule.peers, ref.namespace);
        const portsText = formatPorts(rule.ports);
        const explanation = peerMatched
          ? `${ruleRef.description} allows that peer only on ${portsText}`
          : `${ruleRef.description} allows ${portsText} only ${direction === 'Egress' ? 'to' : 'from'} ${peersText}`;
        nearMisses.push({ ...ruleRef, peerMatched, portMatched, explanation });
      }
    });
  }

  const target = formatTarget(flow.destination, flow.port, protocol);
  if (allowingRules.length > 0) {
    const allowedBy = allowingRules[0];
    const flowText = direction === 'Egress' ? `to ${target}` : `from ${describeEndpoint(flow.source)} on ${flow.port}/${protocol}`;
    return {
      ...base,
      applies: true,
      isolated: true,
      allowed: true,
      selectingPolicies: selectingRefs,
      allowedBy,
      allowingRules,
      nearMisses,
      message: `${verb} ${subjectText} ${flowText} is allowed by policy ${allowedBy.description} (namespace ${allowedBy.policy.namespace}).`,
    };
  }

  const selectsText = `${formatPolicyRefs(selectingRefs)} ${selectingRefs.length === 1 ? 'selects' : 'select'} it`;
  const hasRules = selecting.some((policy) => rulesOf(policy, direction).length > 0);
  const ruleText =
    (direction === 'Egress' ? `no egress rule allows ${target}` : `no ingress rule admits ${describeEndpoint(flow.source)} on ${flow.port}/${protocol}`) +
    (hasRules ? '' : ` (${selectingRefs.length === 1 ? 'it has' : 'they have'} no ${direction.toLowerCase()} rules: deny all)`);
  const closest = nearMisses.length > 0 ? `; closest: ${nearMisses[0].explanation}` : '';
  return {
    ...base,
    applies: true,
    isolated: true,
    allowed: false,
    selectingPolicies: selectingRefs,
    defaultDenyPolicies: selectingRefs,
    nearMisses,
    message: `${verb} ${subjectText} is denied: ${selectsText} and ${ruleText}${closest}.`,
  };
}

/** Evaluates a flow: egress at the source and ingress at the destination must both allow it. */
export function evaluateFlow(flow: Flow, context: PolicyContext): FlowVerdict {
  const protocol = flow.protocol ?? DEFAULT_PROTOCOL;
  const egress = evaluateDirection('Egress', flow, context);
  const ingress = evaluateDirection('Ingress', flow, context);
  const deniedAt: PolicyDirection[] = [];
  if (!egress.allowed) deniedAt.push('Egress');
  if (!ingress.allowed) deniedAt.push('Ingress');
  const allowed = deniedAt.length === 0;
  const flowText = `${describePodShort(flow.source)} -> ${formatTarget(flow.destination, flow.port, protocol)}`;

  let message: string;
  if (deniedAt.length === 2) {
    message =
      `Traffic ${flowText} is denied on both sides: egress by ${formatPolicyRefs(egress.defaultDenyPolicies)} ` +
      `and ingress by ${formatPolicyRefs(ingress.defaultDenyPolicies)}, and neither has a rule that allows it.`;
  } else if (deniedAt.length === 1) {
    message = (deniedAt[0] === 'Egress' ? egress : ingress).message;
  } else {
    const sideText = (verdict: DirectionVerdict): string => {
      const name = verdict.direction.toLowerCase();
      if (!verdict.applies) return `${name} not subject to policy`;
      if (!verdict.isolated) return `${name} unrestricted`;
      const rule = verdict.allowedBy as RuleRef;
      return `${name} by policy ${rule.description} (namespace ${rule.policy.namespace})`;
    };
    message = `NetworkPolicy allows ${flowText}: ${sideText(egress)}, ${sideText(ingress)}.`;
  }
  return { allowed, protocol, port: flow.port, egress, ingress, deniedAt, message };
}

// ---------------------------------------------------------------------------------------------------
// DNS egress: may the source send port 53 UDP and TCP to the DNS pods?

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

/** Decides whether DNS (UDP and TCP to port 53 of the DNS pods) is allowed for the source, naming blockers. */
export function evaluateDnsEgress(input: DnsEgressInput): DnsEgressVerdict {
  const port = input.port ?? DNS_PORT;
  const context: PolicyContext = { policies: input.policies, namespaces: input.namespaces, options: input.options };
  const sourceText = describePodShort(input.source);

  if (input.dnsPods.length === 0) {
    // Without a DNS pod there is no flow to evaluate; say at least whether the source is egress-isolated.
    const probe = input.source.pod ? policiesSelectingPod(input.policies, input.source.pod, 'Egress').map(policyRef) : [];
    const isolation = probe.length > 0 ? `${sourceText} is egress-isolated by ${formatPolicyRefs(probe)}` : `${sourceText} is not egress-isolated`;
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
  const egressBlocked = denied.some((verdict) => !verdict.egress.allowed);
  const ingressBlocked = denied.some((verdict) => !verdict.ingress.allowed);
  const blockedAt: PolicyDirection[] = [...(egressBlocked ? ['Egress' as const] : []), ...(ingressBlocked ? ['Ingress' as const] : [])];
  const egressBlockers = uniqueRefs(denied.flatMap((verdict) => verdict.egress.defaultDenyPolicies));
  const ingressBlockers = uniqueRefs(denied.flatMap((verdict) => verdict.ingress.defaultDenyPolicies));
  const blockingPolicies = uniqueRefs([...egressBlockers, ...ingressBlockers]);

  const dnsTargets = input.dnsPods.map((endpoint) => `${endpointKey(endpoint)} ${endpoint.ip}`).join(', ');
  const selects = (refs: readonly PolicyRef[]): string => (refs.length === 1 ? 'selects' : 'select');
  const blockerClauses: string[] = [];
  if (egressBlockers.length > 0) blockerClauses.push(`${formatPolicyRefs(egressBlockers)} ${selects(egressBlockers)} it for egress`);
  if (ingressBlockers.length > 0) blockerClauses.push(`${formatPolicyRefs(ingressBlockers)} ${selects(ingressBlockers)} the DNS pods for ingress`);
  const blockers = blockerClauses.join(' and ');
  const dnsNamespace = input.dnsPods[0].pod ? podNamespaceOf(input.dnsPods[0]) : undefined;
  const dnsAppLabel = input.dnsPods[0].pod?.metadata?.labels?.['k8s-app'];
  const dnsPeerText = dnsNamespace ? `pods${dnsAppLabel ? ` k8s-app=${dnsAppLabel}` : ''} in namespace ${dnsNamespace}` : 'the DNS servers';
  const fixes: string[] = [];
  if (egressBlockers.length > 0) fixes.push(`add an egress rule to ${dnsPeerText} on ${port}/UDP and ${port}/TCP`);
  if (ingressBlockers.length > 0) fixes.push(`add an ingress rule on the DNS pods admitting ${sourceText}`);
  const fix = fixes.join(' and ');

  if (denied.length === 0) {
    const egressRule = flows.find((verdict) => verdict.egress.allowedBy)?.egress.allowedBy;
    const how = egressRule ? `egress allowed by policy ${egressRule.description} (namespace ${egressRule.policy.namespace})` : `egress from ${sourceText} is not restricted`;
    return {
      status: 'Allowed',
      allowed: true,
      udp,
      tcp,
      blockingPolicies,
      blockedAt,
      flows,
      message: `DNS from ${sourceText} to ${input.dnsPods.length} DNS pod(s) on ${port}/UDP and ${port}/TCP is allowed: ${how}.`,
    };
  }
  if (udp.allowedTo.length === 0 && tcp.allowedTo.length === 0) {
    return {
      status: 'Blocked',
      allowed: false,
      udp,
      tcp,
      blockingPolicies,
      blockedAt,
      flows,
      message: `DNS from ${sourceText} is blocked: ${blockers}, and no rule allows ${port}/UDP or ${port}/TCP to the DNS pods (${dnsTargets}); to fix, ${fix}.`,
    };
  }
  const parts: string[] = [];
  for (const summary of [udp, tcp]) {
    if (summary.blockedTo.length === 0) continue;
    parts.push(
      summary.allowedTo.length === 0
        ? `${port}/${summary.protocol} is blocked to every DNS pod`
        : `${port}/${summary.protocol} is blocked to ${summary.blockedTo.join(', ')} but allowed to ${summary.allowedTo.join(', ')}`,
    );
  }
  const consequence =
    udp.blockedTo.length > 0 && udp.allowedTo.length > 0
      ? 'lookups fail intermittently, depending on which DNS pod answers'
      : udp.allowedTo.length === 0
        ? 'UDP lookups fail and only TCP works'
        : 'large answers that fall back to TCP fail';
  return {
    status: 'Partial',
    allowed: false,
    udp,
    tcp,
    blockingPolicies,
    blockedAt,
    flows,
    message: `DNS from ${sourceText} is only partly allowed: ${parts.join('; ')} (${blockers}), so ${consequence}; to fix, ${fix}.`,
  };
}
