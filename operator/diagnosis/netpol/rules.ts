// Peers and ports of a policy rule: whether they match one end of a flow, and how they read in a
// message ("pods app=web in namespace shop", "8080/TCP").
import type {
  V1NetworkPolicy,
  V1NetworkPolicyEgressRule,
  V1NetworkPolicyIngressRule,
  V1NetworkPolicyPeer,
  V1NetworkPolicyPort,
  V1Pod,
} from '@kubernetes/client-node';
import { formatLabelSelector, isEmptySelector, matchesLabelSelector, type Labels } from '../labels.ts';
import { ipBlockContains } from './ip.ts';
import {
  NAMESPACE_NAME_LABEL,
  describePodShort,
  ingressPeers,
  isHostNetwork,
  normaliseProtocol,
  podNamespaceOf,
  type FlowEndpoint,
  type L4Protocol,
  type PolicyContext,
  type PolicyDirection,
  type PolicyRef,
} from './model.ts';

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

export function formatPeers(peers: readonly V1NetworkPolicyPeer[] | undefined, policyNamespace: string): string {
  if (!peers || peers.length === 0) return 'any peer';
  return peers.map((peer) => formatPeer(peer, policyNamespace)).join(' or ');
}

export function formatPorts(ports: readonly V1NetworkPolicyPort[] | undefined): string {
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

export function ruleDescription(policy: PolicyRef, direction: PolicyDirection, ruleIndex: number): string {
  return `${policy.name} ${direction.toLowerCase()} rule #${ruleIndex}`;
}

export function formatTarget(endpoint: FlowEndpoint, port: number, protocol: L4Protocol): string {
  const where = endpoint.ip ? `${endpoint.ip}:${port}/${protocol}` : `port ${port}/${protocol}`;
  return endpoint.pod ? `${describePodShort(endpoint)} at ${where}` : endpoint.displayName ? `${endpoint.displayName} at ${where}` : where;
}

export interface RuleView {
  readonly peers: readonly V1NetworkPolicyPeer[] | undefined;
  readonly ports: readonly V1NetworkPolicyPort[] | undefined;
}

export function rulesOf(policy: V1NetworkPolicy, direction: PolicyDirection): RuleView[] {
  if (direction === 'Ingress') {
    return (policy.spec?.ingress ?? []).map((rule: V1NetworkPolicyIngressRule) => ({ peers: ingressPeers(rule), ports: rule.ports }));
  }
  return (policy.spec?.egress ?? []).map((rule: V1NetworkPolicyEgressRule) => ({ peers: rule.to, ports: rule.ports }));
}
