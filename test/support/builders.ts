// Small builders for Kubernetes objects in table-driven tests. They return plain objects typed as the
// @kubernetes/client-node models (the shape the API client deserialises into: note `_from` on ingress
// rules). Every builder takes only what a test cares about and fills the rest with sane defaults.
import type {
  V1Container,
  V1ContainerPort,
  V1EndpointSlice,
  V1Namespace,
  V1NetworkPolicy,
  V1NetworkPolicyEgressRule,
  V1NetworkPolicyIngressRule,
  V1NetworkPolicyPeer,
  V1NetworkPolicyPort,
  V1Node,
  V1Pod,
  V1Service,
  V1ServicePort,
  V1LabelSelector,
  V1LabelSelectorRequirement,
} from '@kubernetes/client-node';

export type LabelMap = Record<string, string>;

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

// --- Namespaces -------------------------------------------------------------------------------------

/** A Namespace with the kubernetes.io/metadata.name label the API server always adds. */
export function buildNamespace(name: string, labels: LabelMap = {}): V1Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { [NAMESPACE_NAME_LABEL]: name, ...labels } },
    status: { phase: 'Active' },
  };
}

// --- Pods -------------------------------------------------------------------------------------------

export interface ContainerPortSpec {
  readonly containerPort: number;
  readonly name?: string;
  readonly protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface PodOptions {
  readonly namespace?: string;
  readonly labels?: LabelMap;
  /** Primary pod IP; podIPs holds it plus `extraIPs` (dual-stack). */
  readonly ip?: string;
  readonly extraIPs?: readonly string[];
  readonly nodeName?: string;
  readonly hostIP?: string;
  readonly phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  /** Ready condition and container readiness (default true when Running). */
  readonly ready?: boolean;
  /** Ports of the first container. */
  readonly ports?: readonly ContainerPortSpec[];
  /** Full control over containers, overrides `ports`. */
  readonly containers?: readonly V1Container[];
  readonly initContainers?: readonly V1Container[];
  readonly hostNetwork?: boolean;
  readonly dnsPolicy?: string;
  readonly image?: string;
}

export function containerPort(containerPortNumber: number, name?: string, protocol: 'TCP' | 'UDP' | 'SCTP' = 'TCP'): V1ContainerPort {
  return { containerPort: containerPortNumber, protocol, ...(name ? { name } : {}) };
}

export function buildPod(name: string, options: PodOptions = {}): V1Pod {
  const phase = options.phase ?? 'Running';
  const ready = options.ready ?? phase === 'Running';
  const containers: V1Container[] = options.containers
    ? [...options.containers]
    : [
        {
          name: 'main',
          image: options.image ?? 'registry.k8s.io/e2e-test-images/agnhost:2.47',
          ports: (options.ports ?? []).map((port) => containerPort(port.containerPort, port.name, port.protocol ?? 'TCP')),
        },
      ];
  const ips = options.ip ? [options.ip, ...(options.extraIPs ?? [])] : [];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: options.namespace ?? 'default', labels: { ...(options.labels ?? {}) } },
    spec: {
      containers,
      ...(options.initContainers ? { initContainers: [...options.initContainers] } : {}),
      ...(options.nodeName ? { nodeName: options.nodeName } : {}),
      ...(options.hostNetwork ? { hostNetwork: true } : {}),
      dnsPolicy: options.dnsPolicy ?? 'ClusterFirst',
    },
    status: {
      phase,
      ...(options.hostIP ? { hostIP: options.hostIP } : {}),
      ...(ips.length > 0 ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}),
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: containers.map((container) => ({
        name: container.name,
        image: container.image ?? '',
        imageID: '',
        ready,
        restartCount: 0,
        started: phase === 'Running',
      })),
    },
  };
}

// --- Label selectors --------------------------------------------------------------------------------

export function matchLabels(labels: LabelMap): V1LabelSelector {
  return { matchLabels: { ...labels } };
}

export function matchExpression(key: string, operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist', values?: string[]): V1LabelSelectorRequirement {
  return { key, operator, ...(values ? { values } : {}) };
}

export function matchExpressions(...requirements: V1LabelSelectorRequirement[]): V1LabelSelector {
  return { matchExpressions: requirements };
}

/** The empty selector: everything. */
export const everything = (): V1LabelSelector => ({});

// --- NetworkPolicies --------------------------------------------------------------------------------

export interface NetworkPolicySpecInput {
  /** Default: {} (every pod in the namespace). */
  readonly podSelector?: V1LabelSelector;
  readonly policyTypes?: ReadonlyArray<'Ingress' | 'Egress'>;
  /** undefined = field absent; [] = present and empty (deny all for that type). */
  readonly ingress?: readonly V1NetworkPolicyIngressRule[];
  readonly egress?: readonly V1NetworkPolicyEgressRule[];
}

export function buildNetworkPolicy(name: string, namespace: string, spec: NetworkPolicySpecInput = {}): V1NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace },
    spec: {
      podSelector: spec.podSelector ?? {},
      ...(spec.policyTypes ? { policyTypes: [...spec.policyTypes] } : {}),
      ...(spec.ingress ? { ingress: [...spec.ingress] } : {}),
      ...(spec.egress ? { egress: [...spec.egress] } : {}),
    },
  };
}

/** Ingress rule; omitted `from`/`ports` mean all peers / all ports. */
export function ingressRule(rule: { from?: V1NetworkPolicyPeer[]; ports?: V1NetworkPolicyPort[] } = {}): V1NetworkPolicyIngressRule {
  return { ...(rule.from ? { _from: rule.from } : {}), ...(rule.ports ? { ports: rule.ports } : {}) };
}

export function egressRule(rule: { to?: V1NetworkPolicyPeer[]; ports?: V1NetworkPolicyPort[] } = {}): V1NetworkPolicyEgressRule {
  return { ...(rule.to ? { to: rule.to } : {}), ...(rule.ports ? { ports: rule.ports } : {}) };
}

/** Peer constructors. Pass V1LabelSelector for expressions, or a plain map for matchLabels. */
export const peer = {
  pods(selector: V1LabelSelector | LabelMap): V1NetworkPolicyPeer {
    return { podSelector: toSelector(selector) };
  },
  namespaces(selector: V1LabelSelector | LabelMap): V1NetworkPolicyPeer {
    return { namespaceSelector: toSelector(selector) };
  },
  /** Both selectors in ONE peer: pods matching podSelector in namespaces matching namespaceSelector. */
  podsInNamespaces(podSelector: V1LabelSelector | LabelMap, namespaceSelector: V1LabelSelector | LabelMap): V1NetworkPolicyPeer {
    return { podSelector: toSelector(podSelector), namespaceSelector: toSelector(namespaceSelector) };
  },
  ipBlock(cidr: string, except?: string[]): V1NetworkPolicyPeer {
    return { ipBlock: { cidr, ...(except ? { except } : {}) } };
  },
};

function toSelector(selector: V1LabelSelector | LabelMap): V1LabelSelector {
  if ('matchLabels' in selector || 'matchExpressions' in selector) return selector as V1LabelSelector;
  return { matchLabels: { ...(selector as LabelMap) } };
}

/** Policy port entries. `protocol` omitted on purpose in `port()` to exercise the TCP default. */
export const policyPort = {
  port(port: number | string, endPort?: number): V1NetworkPolicyPort {
    return { port, ...(endPort !== undefined ? { endPort } : {}) };
  },
  tcp(port?: number | string, endPort?: number): V1NetworkPolicyPort {
    return { protocol: 'TCP', ...(port !== undefined ? { port } : {}), ...(endPort !== undefined ? { endPort } : {}) };
  },
  udp(port?: number | string, endPort?: number): V1NetworkPolicyPort {
    return { protocol: 'UDP', ...(port !== undefined ? { port } : {}), ...(endPort !== undefined ? { endPort } : {}) };
  },
  sctp(port?: number | string, endPort?: number): V1NetworkPolicyPort {
    return { protocol: 'SCTP', ...(port !== undefined ? { port } : {}), ...(endPort !== undefined ? { endPort } : {}) };
  },
};

// --- Services and endpoints -------------------------------------------------------------------------

export interface ServiceOptions {
  readonly selector?: LabelMap;
  readonly ports?: readonly V1ServicePort[];
  readonly type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** 'None' for a headless Service. */
  readonly clusterIP?: string;
  readonly externalName?: string;
  readonly loadBalancerIngress?: ReadonlyArray<{ ip?: string; hostname?: string }>;
}

export function servicePort(port: number, targetPort?: number | string, options: { name?: string; protocol?: 'TCP' | 'UDP' | 'SCTP'; nodePort?: number } = {}): V1ServicePort {
  return {
    port,
    targetPort: targetPort ?? port,
    protocol: options.protocol ?? 'TCP',
    ...(options.name ? { name: options.name } : {}),
    ...(options.nodePort ? { nodePort: options.nodePort } : {}),
  };
}

export function buildService(name: string, namespace: string, options: ServiceOptions = {}): V1Service {
  const type = options.type ?? 'ClusterIP';
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: {
      type,
      ...(options.selector ? { selector: { ...options.selector } } : {}),
      ...(type === 'ExternalName' ? { externalName: options.externalName ?? 'example.com' } : { clusterIP: options.clusterIP ?? '10.96.0.10', ports: [...(options.ports ?? [])] }),
    },
    status: { loadBalancer: options.loadBalancerIngress ? { ingress: [...options.loadBalancerIngress] } : {} },
  };
}

export interface EndpointInput {
  readonly ip: string;
  readonly ready?: boolean;
  readonly nodeName?: string;
  /** The pod behind the address (targetRef). */
  readonly podName?: string;
}

export function buildEndpointSlice(
  serviceName: string,
  namespace: string,
  endpoints: readonly EndpointInput[],
  ports: ReadonlyArray<{ port: number; name?: string; protocol?: 'TCP' | 'UDP' | 'SCTP' }> = [],
): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${serviceName}-abcde`, namespace, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: endpoints.some((endpoint) => endpoint.ip.includes(':')) ? 'IPv6' : 'IPv4',
    endpoints: endpoints.map((endpoint) => ({
      addresses: [endpoint.ip],
      conditions: { ready: endpoint.ready ?? true, serving: endpoint.ready ?? true, terminating: false },
      ...(endpoint.nodeName ? { nodeName: endpoint.nodeName } : {}),
      ...(endpoint.podName ? { targetRef: { kind: 'Pod', name: endpoint.podName, namespace } } : {}),
    })),
    ports: ports.map((port) => ({ port: port.port, protocol: port.protocol ?? 'TCP', ...(port.name ? { name: port.name } : {}) })),
  };
}

// --- Nodes ------------------------------------------------------------------------------------------

export interface NodeOptions {
  readonly internalIP?: string;
  readonly ready?: boolean;
  /** NetworkUnavailable condition status; omitted when undefined. */
  readonly networkUnavailable?: boolean;
  readonly labels?: LabelMap;
  readonly podCIDR?: string;
}

export function buildNode(name: string, options: NodeOptions = {}): V1Node {
  const conditions = [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }];
  if (options.networkUnavailable !== undefined) conditions.push({ type: 'NetworkUnavailable', status: options.networkUnavailable ? 'True' : 'False' });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(options.labels ?? {}) } },
    spec: options.podCIDR ? { podCIDR: options.podCIDR, podCIDRs: [options.podCIDR] } : {},
    status: {
      conditions,
      addresses: [
        { type: 'InternalIP', address: options.internalIP ?? '172.18.0.2' },
        { type: 'Hostname', address: name },
      ],
    },
  };
}
