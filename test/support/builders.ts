// Small builders for Kubernetes objects in table-driven tests. They return plain objects typed as the
// @kubernetes/client-node models (the shape the API client deserialises into: note `_from` on ingress
// rules). Every builder takes only what a test cares about and fills the rest with sane defaults.
import type {
  V1Ingress,
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
import { withDefaults } from '../../operator/api/defaults.ts';
import type { NetworkCheck, NetworkCheckSpec } from '../../operator/api/types.generated.ts';
import type { Evidence, Fetched, LabeledPods } from '../../operator/diagnosis/evidence.ts';
import type { DiagnosisInput } from '../../operator/diagnosis/verdict.ts';
import {
  parseProbeResult,
  type ConnectResult,
  type ConnectStatus,
  type DnsResult,
  type DnsTry,
  type EndpointsResult,
  type HttpResult,
  type IcmpResult,
  type MtuResult,
  type NodeResult,
  type ProbeError,
  type ProbeResult,
  type ProbeTarget,
  type ResolvConf,
  type SkippedProbe,
} from '../../operator/probe/result.ts';
import type { ProbeOutput, ResolvedTargets } from '../../operator/probe/stage.ts';

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
  /** Container state waiting reason (e.g. CrashLoopBackOff) and restart count. */
  readonly waitingReason?: string;
  readonly restartCount?: number;
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
        restartCount: options.restartCount ?? 0,
        started: phase === 'Running',
        ...(options.waitingReason ? { state: { waiting: { reason: options.waitingReason } } } : {}),
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
  readonly annotations?: LabelMap;
}

export function buildNode(name: string, options: NodeOptions = {}): V1Node {
  const conditions = [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }];
  if (options.networkUnavailable !== undefined) conditions.push({ type: 'NetworkUnavailable', status: options.networkUnavailable ? 'True' : 'False' });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(options.labels ?? {}) }, ...(options.annotations ? { annotations: { ...options.annotations } } : {}) },
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

// --- Ingresses --------------------------------------------------------------------------------------

export function buildIngress(name: string, namespace: string, options: { host?: string; service: string; port?: number; path?: string; className?: string }): V1Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace },
    spec: {
      ...(options.className ? { ingressClassName: options.className } : {}),
      rules: [
        {
          ...(options.host ? { host: options.host } : {}),
          http: { paths: [{ path: options.path ?? '/', pathType: 'Prefix', backend: { service: { name: options.service, port: { number: options.port ?? 80 } } } }] },
        },
      ],
    },
  };
}

// --- NetworkChecks and diagnosis inputs -------------------------------------------------------------

export function buildNetworkCheck(name: string, namespace: string, spec: NetworkCheckSpec, generation = 1): NetworkCheck {
  return {
    apiVersion: 'netcheck.dev/v1alpha1',
    kind: 'NetworkCheck',
    metadata: { name, namespace, generation, uid: `uid-${name}` },
    spec,
  };
}

export function diagnosisInput(check: NetworkCheck, targets: Partial<ResolvedTargets>, outputs: ProbeOutput[]): DiagnosisInput {
  return { check, spec: withDefaults(check), targets: { sourcePods: [], destinationPods: [], ...targets }, outputs };
}

// --- Probe result documents (operator/probe/result.ts, as netcheck-probe.sh writes them) -----------
// Every document is checked with the strict parser, so a builder can never produce a shape the probe
// program would not (or that the operator would refuse).

export const PROBE_STARTED_AT = '2026-11-21T08:09:39Z';

/** resolv.conf of a ClusterFirst pod: kube-dns nameserver, three search domains, ndots:5. */
export function clusterResolv(namespace: string, options: { nameserver?: string; ndots?: number; search?: string[] } = {}): ResolvConf {
  return {
    ns: [options.nameserver ?? '10.96.0.10'],
    search: options.search ?? [`${namespace}.svc.cluster.local`, 'svc.cluster.local', 'cluster.local'],
    ndots: options.ndots ?? 5,
    timeout: 5,
    attempts: 2,
  };
}

export interface ZoneAnswer {
  /** An rcode (NOERROR, NXDOMAIN, SERVFAIL, REFUSED) or timeout / unreachable. */
  readonly result: string;
  readonly answers?: readonly string[];
  readonly cnames?: readonly string[];
  readonly ms?: number;
}

/**
 * The dns section probe_dns() writes for `name`, given what each fully qualified name returns (absent
 * names answer NXDOMAIN in 1 ms). Follows the probe's algorithm: search expansion by ndots, every
 * nameserver in turn on timeout/SERVFAIL, stop at an answer, a timeout or an error.
 */
export function simulateLookup(name: string, resolv: ResolvConf, zone: Readonly<Record<string, ZoneAnswer>>, type: 'A' | 'AAAA' = 'A'): DnsResult {
  const base = name.replace(/\.$/, '');
  const dots = (base.match(/\./g) ?? []).length;
  const candidates = name.endsWith('.') ? [name] : dots >= resolv.ndots ? [`${base}.`, ...resolv.search.map((d) => `${base}.${d}.`)] : [...resolv.search.map((d) => `${base}.${d}.`), `${base}.`];
  const servers = resolv.ns.length > 0 ? resolv.ns : ['127.0.0.1'];
  const tries: DnsTry[] = [];
  let queries = 0;
  let total = 0;
  let status: DnsResult['status'] | undefined;
  let rcode: string | null = null;
  let qname: string | null = null;
  let server: string | null = null;
  let err: string | undefined;
  let answers: string[] = [];
  let cnames: string[] = [];
  let nodata = false;
  let servfail = false;
  for (const candidate of candidates) {
    let reply: ZoneAnswer = { result: 'NXDOMAIN' };
    let replyServer = servers[0];
    for (const candidateServer of servers) {
      reply = zone[candidate] ?? { result: 'NXDOMAIN', ms: 1 };
      replyServer = candidateServer;
      queries += 1;
      total += reply.ms ?? (reply.result === 'timeout' ? 5003 : 1);
      if (reply.result === 'NOERROR' || reply.result === 'NXDOMAIN') break;
    }
    const silent = reply.result === 'timeout' || reply.result === 'unreachable';
    tries.push({ qname: candidate, result: reply.result, ms: reply.ms ?? (reply.result === 'timeout' ? 5003 : 1), server: replyServer });
    qname = candidate;
    server = silent ? null : replyServer;
    err = reply.result === 'timeout' ? 'no reply' : reply.result === 'unreachable' ? 'port unreachable (ICMP)' : undefined;
    if (reply.result === 'NOERROR') {
      if ((reply.answers ?? []).length > 0) {
        answers = [...(reply.answers ?? [])];
        cnames = [...(reply.cnames ?? [])];
        status = 'ok';
        rcode = 'NOERROR';
        break;
      }
      nodata = true;
      rcode = 'NOERROR';
    } else if (reply.result === 'NXDOMAIN') rcode = 'NXDOMAIN';
    else if (reply.result === 'SERVFAIL') {
      servfail = true;
      rcode = 'SERVFAIL';
    } else if (silent) {
      status = reply.result as 'timeout' | 'unreachable';
      rcode = null;
      break;
    } else {
      status = reply.result === 'REFUSED' ? 'refused' : 'error';
      rcode = reply.result;
      break;
    }
  }
  if (!status) {
    if (nodata) [status, rcode] = ['nodata', 'NOERROR'];
    else if (servfail) [status, rcode] = ['servfail', 'SERVFAIL'];
    else [status, rcode] = ['nxdomain', 'NXDOMAIN'];
  }
  return {
    status,
    name,
    type,
    qname,
    rcode,
    answers,
    cnames,
    ms: total,
    server,
    queries,
    tries,
    ...(err && status !== 'ok' ? { err } : {}),
  };
}

const CONNECT_ERRORS: Partial<Record<ConnectStatus, string>> = {
  refused: 'ECONNREFUSED',
  timeout: 'no answer to SYN',
  unreachable: 'EHOSTUNREACH',
  noReply: 'no reply and no ICMP error',
};

/** A connect section; a timeout takes the full probe timeout (5 s) like the probe's `timeout 5`. */
export function connectResult(ip: string, port: number, status: ConnectStatus, ms?: number, proto: 'TCP' | 'UDP' = 'TCP'): ConnectResult {
  const err = CONNECT_ERRORS[status];
  return { proto, ip, port, status, ms: ms ?? (status === 'timeout' ? 5001 : status === 'noReply' ? 4998 : 1), ...(err ? { err } : {}) };
}

export function skippedProbe(): SkippedProbe {
  return { status: 'skipped', err: 'no destination address (DNS lookup failed)' };
}

export function endpointsSection(items: ReadonlyArray<{ ip: string; port: number; status: ConnectStatus; ms?: number }>): EndpointsResult {
  const results = items.map((item) => {
    const { proto: _proto, ...rest } = connectResult(item.ip, item.port, item.status, item.ms);
    return rest;
  });
  return { total: results.length, ok: results.filter((r) => r.status === 'ok').length, items: results };
}

export function httpResult(url: string, status: HttpResult['status'], code: number | null, options: { curlExit?: number; connectMs?: number; totalMs?: number; err?: string } = {}): HttpResult {
  const curlExit = options.curlExit ?? (status === 'ok' || status === 'unexpectedStatus' ? 0 : status === 'timeout' ? 28 : status === 'refused' ? 7 : 1);
  const connect = options.connectMs ?? 1;
  const total = options.totalMs ?? (status === 'timeout' ? 5002 : 7);
  return {
    url,
    method: 'GET',
    status,
    code,
    curlExit,
    ms: { dns: 0, connect, tls: 0, ttfb: status === 'timeout' ? 0 : total, total },
    ...(options.err ? { err: options.err } : status === 'timeout' ? { err: 'Operation timed out after 5002 milliseconds with 0 bytes received' } : {}),
  };
}

export function icmpResult(ip: string, received = 3, sent = 3): IcmpResult {
  const status: IcmpResult['status'] = received === sent ? 'ok' : received > 0 ? 'partialLoss' : 'loss';
  return {
    ip,
    status,
    sent,
    received,
    lossPct: Math.round(((sent - received) / sent) * 100),
    rtt: received > 0 ? { min: 0.061, avg: 0.083, max: 0.104 } : null,
  };
}

export function mtuResult(ip: string, status: MtuResult['status'], options: { local?: number; path?: number; iface?: string } = {}): MtuResult {
  const local = options.local ?? 1500;
  const iface = options.iface ?? 'eth0';
  switch (status) {
    case 'ok':
      return { ip, status, iface, local, path: local, fragNeeded: false, largestOk: local, smallestLost: null, pings: 2 };
    case 'fragNeeded': {
      const path = options.path ?? 1450;
      return { ip, status, iface, local, path, fragNeeded: true, largestOk: path, smallestLost: null, pings: 3 };
    }
    case 'blackhole': {
      const path = options.path ?? 1400;
      return { ip, status, iface, local, path, fragNeeded: false, largestOk: path, smallestLost: path + 1, pings: 13 };
    }
    case 'unreachable':
      return { ip, status, iface, local, path: null, fragNeeded: false, largestOk: null, smallestLost: null, pings: 1, err: 'no reply to a small DF ping: the path MTU cannot be measured' };
    case 'error':
      return { ip, status, iface: null, local: null, path: null, fragNeeded: false, largestOk: null, smallestLost: null, pings: 0, err: 'no route to the target: RTNETLINK answers: Network is unreachable' };
  }
}

export function nodeInspection(options: Partial<NodeResult> = {}): NodeResult {
  return { ipForward: 1, bridgeNfCallIptables: 1, conntrackCount: 479, conntrackMax: 262144, proxyMode: 'iptables', ...options };
}

export interface ProbeDocInput {
  readonly proto: ProbeResult['proto'];
  readonly target: ProbeTarget;
  readonly mode?: ProbeResult['mode'];
  readonly status?: ProbeResult['status'];
  readonly ms?: number;
  readonly errors?: ProbeError[];
  readonly resolv?: ResolvConf;
  readonly dns?: DnsResult;
  readonly connect?: ConnectResult | SkippedProbe;
  readonly http?: HttpResult;
  readonly icmp?: IcmpResult | SkippedProbe;
  readonly endpoints?: EndpointsResult;
  readonly mtu?: MtuResult | SkippedProbe;
  readonly node?: NodeResult;
}

/** A probe document in the probe's key order; throws when the strict parser would refuse it. */
export function probeDoc(input: ProbeDocInput): ProbeResult {
  const doc: Record<string, unknown> = {
    v: 1,
    status: input.status ?? 'done',
    mode: input.mode === undefined ? 'pod' : input.mode,
    proto: input.proto,
    target: input.target,
    startedAt: PROBE_STARTED_AT,
    ms: input.ms ?? 312,
    truncated: false,
  };
  for (const section of ['resolv', 'dns', 'connect', 'http', 'icmp', 'endpoints', 'mtu', 'node'] as const) {
    if (input[section] !== undefined) doc[section] = input[section];
  }
  doc.errors = input.errors ?? [];
  const parsed = parseProbeResult(JSON.stringify(doc));
  if (!parsed.ok) throw new Error(`probeDoc built an invalid document: ${parsed.error}`);
  return parsed.result;
}

export function probeOutput(pod: string, node: string | undefined, result: ProbeResult): ProbeOutput {
  return { pod, ...(node ? { node } : {}), result };
}

// --- Evidence (operator/diagnosis/evidence.ts) ------------------------------------------------------

export function fetchedOk<T>(value: T): Fetched<T> {
  return { ok: true, value };
}

export function fetchedError(what: string, code = 403): Fetched<never> {
  return { ok: false, error: `${what}: HTTP ${code}${code === 403 ? ' (forbidden)' : ''}: ${what.split(' ')[1] ?? 'resource'} is forbidden: User "system:serviceaccount:netcheck-system:netcheck-operator" cannot ${what}` };
}

/** kube-proxy and CNI agent pods grouped the way the collector lists them (one list per label key). */
export function agentPodLists(pods: readonly V1Pod[]): LabeledPods[] {
  const byKey: Array<[string, string, string[]]> = [
    ['k8s-app in (kube-proxy,calico-node,cilium,kube-router,canal)', 'k8s-app', ['kube-proxy', 'calico-node', 'cilium', 'kube-router', 'canal']],
    ['app=flannel', 'app', ['flannel']],
    ['name=weave-net', 'name', ['weave-net']],
    ['component=antrea-agent', 'component', ['antrea-agent']],
  ];
  return byKey.map(([selector, key, values]) => ({ selector, pods: fetchedOk(pods.filter((pod) => values.includes(pod.metadata?.labels?.[key] ?? ''))) }));
}

export function buildEvidence(partial: Partial<Evidence> = {}): Evidence {
  return {
    sourcePods: fetchedOk([]),
    backendPods: fetchedOk([]),
    agentPods: agentPodLists([]),
    nodes: fetchedOk([]),
    namespaces: fetchedOk([]),
    networkPolicies: fetchedOk([]),
    ...partial,
  };
}

// --- A small two-node cluster for diagnosis scenarios ----------------------------------------------
// node-1 (172.18.0.2, pods 10.244.1.0/24) and node-2 (172.18.0.3, pods 10.244.2.0/24); namespace shop
// with the source pod web (node-1) and two backends of Service backend (10.96.12.7:8080 -> http/8080),
// one per node; CoreDNS on both nodes behind kube-dns 10.96.0.10; kube-proxy and calico-node on both.

export interface ClusterWorld {
  namespaces: V1Namespace[];
  nodes: V1Node[];
  web: V1Pod;
  backends: V1Pod[];
  /** Pods in the destination namespace that the selector does not match. */
  otherPods: V1Pod[];
  service: V1Service;
  slices: V1EndpointSlice[];
  dnsPods: V1Pod[];
  dnsService: V1Service;
  dnsSlices: V1EndpointSlice[];
  agentPods: V1Pod[];
  policies: V1NetworkPolicy[];
  ingresses: V1Ingress[];
  ingressControllers: V1Pod[];
}

export const WORLD = {
  namespace: 'shop',
  sourceIP: '10.244.1.10',
  clusterIP: '10.96.12.7',
  dnsIP: '10.96.0.10',
  backendIPs: ['10.244.1.21', '10.244.2.22'],
  port: 8080,
  probePod: 'web-to-backend-g1-t5kq2a-0',
} as const;

export function clusterWorld(): ClusterWorld {
  const ns = WORLD.namespace;
  const backend = (name: string, ip: string, node: string) =>
    buildPod(name, { namespace: ns, labels: { app: 'backend', 'pod-template-hash': '7d9f' }, ip, nodeName: node, ports: [{ containerPort: 8080, name: 'http' }] });
  const dns = (name: string, ip: string, node: string) =>
    buildPod(name, { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, ip, nodeName: node, ports: [{ containerPort: 53, name: 'dns', protocol: 'UDP' }, { containerPort: 53, name: 'dns-tcp' }] });
  const agent = (name: string, labels: LabelMap, node: string, namespace = 'kube-system') => buildPod(name, { namespace, labels, nodeName: node, hostNetwork: true, ip: node === 'node-1' ? '172.18.0.2' : '172.18.0.3' });
  return {
    namespaces: [buildNamespace(ns), buildNamespace('kube-system')],
    nodes: [buildNode('node-1', { internalIP: '172.18.0.2', podCIDR: '10.244.1.0/24' }), buildNode('node-2', { internalIP: '172.18.0.3', podCIDR: '10.244.2.0/24' })],
    web: buildPod('web', { namespace: ns, labels: { app: 'web' }, ip: WORLD.sourceIP, nodeName: 'node-1', ports: [{ containerPort: 80 }] }),
    backends: [backend('backend-7d9f-abcde', WORLD.backendIPs[0], 'node-1'), backend('backend-7d9f-fghij', WORLD.backendIPs[1], 'node-2')],
    otherPods: [],
    service: buildService('backend', ns, { selector: { app: 'backend' }, clusterIP: WORLD.clusterIP, ports: [servicePort(8080, 'http', { name: 'http' })] }),
    slices: [
      buildEndpointSlice(
        'backend',
        ns,
        [
          { ip: WORLD.backendIPs[0], nodeName: 'node-1', podName: 'backend-7d9f-abcde' },
          { ip: WORLD.backendIPs[1], nodeName: 'node-2', podName: 'backend-7d9f-fghij' },
        ],
        [{ port: 8080, name: 'http' }],
      ),
    ],
    dnsPods: [dns('coredns-5d78c9869d-4xk2p', '10.244.1.2', 'node-1'), dns('coredns-5d78c9869d-9qwzt', '10.244.2.3', 'node-2')],
    dnsService: buildService('kube-dns', 'kube-system', {
      selector: { 'k8s-app': 'kube-dns' },
      clusterIP: WORLD.dnsIP,
      ports: [servicePort(53, 53, { name: 'dns', protocol: 'UDP' }), servicePort(53, 53, { name: 'dns-tcp', protocol: 'TCP' })],
    }),
    dnsSlices: [
      buildEndpointSlice('kube-dns', 'kube-system', [
        { ip: '10.244.1.2', nodeName: 'node-1', podName: 'coredns-5d78c9869d-4xk2p' },
        { ip: '10.244.2.3', nodeName: 'node-2', podName: 'coredns-5d78c9869d-9qwzt' },
      ], [{ port: 53, name: 'dns', protocol: 'UDP' }, { port: 53, name: 'dns-tcp' }]),
    ],
    agentPods: [
      agent('kube-proxy-x8s2m', { 'k8s-app': 'kube-proxy' }, 'node-1'),
      agent('kube-proxy-q4l9v', { 'k8s-app': 'kube-proxy' }, 'node-2'),
      agent('calico-node-7hjkl', { 'k8s-app': 'calico-node' }, 'node-1'),
      agent('calico-node-2mnbv', { 'k8s-app': 'calico-node' }, 'node-2'),
    ],
    policies: [],
    ingresses: [],
    ingressControllers: [],
  };
}

/** The evidence the collector would read from this world for a check in namespace shop. */
export function worldEvidence(world: ClusterWorld, overrides: Partial<Evidence> = {}): Evidence {
  const selector = world.service.spec?.selector ?? {};
  const matched = [...world.backends, ...world.otherPods].filter((pod) => Object.entries(selector).length > 0 && Object.entries(selector).every(([k, v]) => pod.metadata?.labels?.[k] === v));
  return buildEvidence({
    sourcePods: fetchedOk([world.web]),
    service: fetchedOk(world.service),
    endpointSlices: fetchedOk(world.slices),
    backendPods: fetchedOk(matched),
    ...(matched.length === 0 ? { namespacePods: fetchedOk([world.web, ...world.backends, ...world.otherPods]) } : {}),
    dns: { pods: fetchedOk(world.dnsPods), service: fetchedOk(world.dnsService), endpointSlices: fetchedOk(world.dnsSlices) },
    agentPods: agentPodLists(world.agentPods),
    nodes: fetchedOk(world.nodes),
    namespaces: fetchedOk(world.namespaces),
    networkPolicies: fetchedOk(world.policies),
    ingresses: fetchedOk(world.ingresses),
    ...(world.ingresses.length > 0 ? { ingressControllerPods: { selector: 'app.kubernetes.io/name in (ingress-nginx)', pods: fetchedOk(world.ingressControllers) } } : {}),
    ...overrides,
  });
}
