// The ladder's scenario table: one row per entry of the failure catalogue (../shared/failure-modes.md,
// rows 1-19), each with the expected result, failedLayer and reason, plus healthy variants that must
// NOT raise a false alarm. Every row is built from the API evidence the collector would read and probe
// documents shaped exactly like netcheck-probe.sh writes them (probeDoc() runs each through the strict
// parser). Rows marked `recorded` need more than one node (or a capture) and run here on recorded-style
// evidence only; the others also have an end-to-end counterpart on the local cluster.
import { expect } from 'chai';
import type { V1NetworkPolicy, V1Pod } from '@kubernetes/client-node';
import type { NetworkCheckSpec } from '../../operator/api/types.generated.ts';
import type { Evidence } from '../../operator/diagnosis/evidence.ts';
import { CHAIN } from '../../operator/diagnosis/causes/chain.ts';
import { diagnoseFromEvidence } from '../../operator/diagnosis/index.ts';
import { Cause, HealthyReason, LayerReason, PROBE_LAYER } from '../../operator/diagnosis/reasons.ts';
import { LADDER, Layer, LayerCondition } from '../../operator/diagnosis/layers/index.ts';
import type { Verdict } from '../../operator/diagnosis/verdict.ts';
import type { ConnectResult, ConnectStatus, DnsResult, HttpResult, MtuResult, ProbeResult, SkippedProbe } from '../../operator/probe/result.ts';
import type { ProbeOutput } from '../../operator/probe/stage.ts';
import {
  WORLD,
  buildEndpointSlice,
  buildIngress,
  buildNetworkCheck,
  buildNetworkPolicy,
  buildNode,
  buildPod,
  buildService,
  clusterResolv,
  clusterWorld,
  connectResult,
  diagnosisInput,
  egressRule,
  endpointsSection,
  fetchedError,
  fetchedOk,
  httpResult,
  icmpResult,
  ingressRule,
  mtuResult,
  nodeInspection,
  peer,
  policyPort,
  probeDoc,
  probeOutput,
  servicePort,
  simulateLookup,
  skippedProbe,
  worldEvidence,
  type ClusterWorld,
} from '../support/builders.ts';

const NS = WORLD.namespace;
const RESOLV = clusterResolv(NS);
const SERVICE_FQDN = `backend.${NS}.svc.cluster.local.`;

const dnsBackendOk = (): DnsResult => simulateLookup('backend', RESOLV, { [SERVICE_FQDN]: { result: 'NOERROR', answers: [WORLD.clusterIP], ms: 1 } });
const dnsBackendFails = (result: 'timeout' | 'unreachable'): DnsResult => simulateLookup('backend', RESOLV, { [SERVICE_FQDN]: { result } });

interface ServiceDocInput {
  proto?: 'TCP' | 'HTTP' | 'UDP';
  dns?: DnsResult | null;
  connect: ConnectStatus | ConnectResult | SkippedProbe;
  /** Status per backend in WORLD.backendIPs order; null: no endpoints section. */
  endpoints?: (ConnectStatus | undefined)[] | null;
  endpointPort?: number;
  http?: HttpResult;
  mtu?: MtuResult | null;
}

/** The document a probe for svc backend:8080 (env.ts: HOST=backend, TARGET_IP=ClusterIP, ENDPOINTS, MTU to a backend) writes. */
function serviceDoc(input: ServiceDocInput): ProbeResult {
  const proto = input.proto ?? 'TCP';
  const endpointStatuses = input.endpoints === undefined ? ['ok', 'ok'] : input.endpoints;
  const endpointPort = input.endpointPort ?? WORLD.port;
  const endpointItems: { ip: string; port: number; status: ConnectStatus }[] = [];
  (endpointStatuses ?? []).forEach((status, index) => {
    if (status) endpointItems.push({ ip: WORLD.backendIPs[index], port: endpointPort, status: status as ConnectStatus });
  });
  const connect = typeof input.connect === 'string' ? connectResult(WORLD.clusterIP, WORLD.port, input.connect, undefined, proto === 'UDP' ? 'UDP' : 'TCP') : input.connect;
  return probeDoc({
    proto,
    target: { host: 'backend', ip: WORLD.clusterIP, port: WORLD.port },
    resolv: RESOLV,
    ...(input.dns === null ? {} : { dns: input.dns ?? dnsBackendOk() }),
    connect,
    ...(input.http ? { http: input.http } : {}),
    ...(endpointItems.length > 0 ? { endpoints: endpointsSection(endpointItems) } : {}),
    ...(input.mtu === null ? {} : { mtu: input.mtu ?? mtuResult(endpointItems[0]?.ip ?? WORLD.backendIPs[0], 'ok') }),
  });
}

function nodeDoc(node: Parameters<typeof nodeInspection>[0]): ProbeResult {
  return probeDoc({ mode: 'node', proto: null, target: {}, resolv: { ns: ['172.18.0.1'], search: [], ndots: 1, timeout: 5, attempts: 2 }, node: nodeInspection(node) });
}

const serviceSpec = (overrides: Partial<NetworkCheckSpec> = {}): NetworkCheckSpec => ({ source: { pod: 'web' }, destination: { service: 'backend', port: WORLD.port }, ...overrides });

interface RunOptions {
  spec?: NetworkCheckSpec;
  evidence?: Partial<Evidence>;
  extraOutputs?: ProbeOutput[];
  sourcePods?: V1Pod[];
  outputs?: ProbeOutput[];
  destinationPods?: V1Pod[];
  noService?: boolean;
}

function run(world: ClusterWorld, doc: ProbeResult | undefined, options: RunOptions = {}): Verdict {
  const check = buildNetworkCheck('web-to-backend', NS, options.spec ?? serviceSpec());
  const outputs = options.outputs ?? [probeOutput(WORLD.probePod, 'node-1', doc!), ...(options.extraOutputs ?? [])];
  const input = diagnosisInput(
    check,
    {
      sourcePods: options.sourcePods ?? [world.web],
      ...(options.noService ? {} : { destinationService: world.service }),
      destinationPods: options.destinationPods ?? world.backends,
    },
    outputs,
  );
  return diagnoseFromEvidence(worldEvidence(world, options.evidence), input);
}

function layer(verdict: Verdict, name: keyof typeof LayerCondition) {
  const found = verdict.layers.find((c) => c.type === LayerCondition[name]);
  if (!found) throw new Error(`no condition ${LayerCondition[name]}`);
  return found;
}

/** A policy in shop admitting only app=frontend to the backends on 8080. */
function backendIngressPolicy(): V1NetworkPolicy {
  return buildNetworkPolicy('backend-allow-frontend', NS, {
    podSelector: { matchLabels: { app: 'backend' } },
    policyTypes: ['Ingress'],
    ingress: [ingressRule({ from: [peer.pods({ app: 'frontend' })], ports: [policyPort.tcp(8080)] })],
  });
}

/** A host destination whose lookup gets the given answers (connect and MTU skipped: no address). */
function externalLookup(zone: Parameters<typeof simulateLookup>[2]): Verdict {
  const dns = simulateLookup('api.example.com', RESOLV, zone);
  const doc = probeDoc({ proto: 'TCP', target: { host: 'api.example.com', port: 443 }, resolv: RESOLV, dns, connect: skippedProbe(), mtu: skippedProbe() });
  return run(clusterWorld(), doc, { spec: { source: { pod: 'web' }, destination: { host: 'api.example.com', port: 443 } }, noService: true, destinationPods: [] });
}

/** Options for a check to one of the world's backend pods (no Service in the evidence). */
function podDestination(world: ClusterWorld, spec: Pick<NetworkCheckSpec, 'destination'> & Partial<NetworkCheckSpec>): RunOptions {
  const pod = world.backends.find((backend) => backend.metadata?.name === spec.destination.pod)!;
  return {
    spec: { source: { pod: 'web' }, ...spec },
    noService: true,
    destinationPods: [pod],
    evidence: { service: undefined, endpointSlices: undefined, backendPods: fetchedOk([pod]) },
  };
}

interface Row {
  /** Catalogue row in failure-modes.md; absent for healthy variants and extra rows. */
  catalogue?: number;
  name: string;
  /** Needs several nodes or a capture: a unit-level scenario on recorded evidence only. */
  recorded?: boolean;
  verdict: () => Verdict;
  result: Verdict['result'];
  reason: string;
  failedLayer?: string;
  /** Evidence the summary must carry. */
  summary?: (string | RegExp)[];
  /** Text the summary must not carry (bad advice). */
  notInSummary?: string[];
  /** Layer conditions to check: [layer, status, reason?]. */
  conditions?: [keyof typeof LayerCondition, 'True' | 'False' | 'Unknown', string?][];
}

const rows: Row[] = [
  // ---------------------------------------------------------------- 1. selector matches no pods
  {
    catalogue: 1,
    name: 'Service selector matches no pods (pods carry app=backend-v2)',
    verdict: () => {
      const world = clusterWorld();
      world.otherPods = world.backends.map((_, index) => buildPod(`backend-v2-6c8d-${index}`, { namespace: NS, labels: { app: 'backend-v2' }, ip: WORLD.backendIPs[index], nodeName: `node-${index + 1}`, ports: [{ containerPort: 8080, name: 'http' }] }));
      world.backends = [];
      world.slices = [buildEndpointSlice('backend', NS, [], [{ port: 8080, name: 'http' }])];
      // No ready backend: env.ts passes no NETCHECK_ENDPOINTS and no MTU target; kube-proxy REJECTs.
      return run(world, serviceDoc({ connect: 'refused', endpoints: null, mtu: null }), { destinationPods: [] });
    },
    result: 'Unhealthy',
    reason: Cause.SelectorMismatch,
    failedLayer: Layer.Endpoints,
    summary: ['app=backend', 'backend-v2-6c8d-0', 'app=backend-v2', 'refused'],
    conditions: [['Endpoints', 'False', Cause.SelectorMismatch], ['Service', 'False', LayerReason.ConnectionRefused], ['PodIP', 'Unknown']],
  },
  {
    catalogue: 1,
    name: 'Service selector matches no pods and the namespace has none to select',
    verdict: () => {
      const world = clusterWorld();
      world.backends = [];
      world.slices = [];
      return run(world, serviceDoc({ connect: 'refused', endpoints: null, mtu: null }), { destinationPods: [], evidence: { namespacePods: fetchedOk([]) } });
    },
    result: 'Unhealthy',
    reason: Cause.NoEndpoints,
    failedLayer: Layer.Endpoints,
    summary: ['matches no pods'],
  },
  // ---------------------------------------------------------------- 2. backends not ready
  {
    catalogue: 2,
    name: 'Backends exist but none is ready',
    verdict: () => {
      const world = clusterWorld();
      world.backends = world.backends.map((pod, index) => buildPod(pod.metadata!.name!, { namespace: NS, labels: { app: 'backend' }, ip: WORLD.backendIPs[index], nodeName: `node-${index + 1}`, ready: false, waitingReason: 'CrashLoopBackOff', restartCount: 7, ports: [{ containerPort: 8080, name: 'http' }] }));
      world.slices = [buildEndpointSlice('backend', NS, WORLD.backendIPs.map((ip, index) => ({ ip, ready: false, nodeName: `node-${index + 1}`, podName: world.backends[index].metadata!.name })), [{ port: 8080, name: 'http' }])];
      return run(world, serviceDoc({ connect: 'refused', endpoints: null, mtu: null }));
    },
    result: 'Unhealthy',
    reason: Cause.EndpointsNotReady,
    failedLayer: Layer.Endpoints,
    summary: ['CrashLoopBackOff', '2 not-ready addresses'],
  },
  // ---------------------------------------------------------------- 3. targetPort wrong / not listening
  {
    catalogue: 3,
    name: 'targetPort points at a port the container does not declare (9090 vs http=8080)',
    verdict: () => {
      const world = clusterWorld();
      world.service = buildService('backend', NS, { selector: { app: 'backend' }, clusterIP: WORLD.clusterIP, ports: [servicePort(8080, 9090)] });
      world.slices = [buildEndpointSlice('backend', NS, WORLD.backendIPs.map((ip, i) => ({ ip, nodeName: `node-${i + 1}` })), [{ port: 9090 }])];
      return run(world, serviceDoc({ connect: 'refused', endpoints: ['refused', 'refused'], endpointPort: 9090 }));
    },
    result: 'Unhealthy',
    reason: Cause.TargetPortMismatch,
    failedLayer: Layer.PodIP,
    summary: ['targetPort 9090', 'http=8080/TCP', '10.244.1.21:9090'],
  },
  {
    catalogue: 3,
    name: 'The application does not listen on the declared targetPort',
    verdict: () => run(clusterWorld(), serviceDoc({ connect: 'refused', endpoints: ['refused', 'refused'] })),
    result: 'Unhealthy',
    reason: Cause.PortNotListening,
    failedLayer: Layer.PodIP,
    summary: ['nothing listens on port 8080', 'refused'],
    conditions: [['PodIP', 'False', Cause.PortNotListening], ['NetworkPolicy', 'True']],
  },
  {
    catalogue: 3,
    name: 'Not listening, and the pods declare no container ports at all: the port cannot be called wrong',
    verdict: () => {
      const world = clusterWorld();
      world.backends = world.backends.map((pod, index) => buildPod(pod.metadata!.name!, { namespace: NS, labels: { app: 'backend' }, ip: WORLD.backendIPs[index], nodeName: `node-${index + 1}` }));
      world.service = buildService('backend', NS, { selector: { app: 'backend' }, clusterIP: WORLD.clusterIP, ports: [servicePort(8080, 8080)] });
      world.slices = [buildEndpointSlice('backend', NS, WORLD.backendIPs.map((ip, i) => ({ ip, nodeName: `node-${i + 1}` })), [{ port: 8080 }])];
      return run(world, serviceDoc({ connect: 'refused', endpoints: ['refused', 'refused'] }));
    },
    result: 'Unhealthy',
    reason: Cause.PortNotListening,
    failedLayer: Layer.PodIP,
  },
  {
    catalogue: 3,
    name: 'A named targetPort no backend declares',
    verdict: () => {
      const world = clusterWorld();
      world.service = buildService('backend', NS, { selector: { app: 'backend' }, clusterIP: WORLD.clusterIP, ports: [servicePort(8080, 'grpc')] });
      // The EndpointSlice controller publishes the pods, but without a port: the name resolves on none.
      world.slices = [buildEndpointSlice('backend', NS, WORLD.backendIPs.map((ip, i) => ({ ip, nodeName: `node-${i + 1}` })), [])];
      // env.ts cannot resolve the name: no NETCHECK_ENDPOINTS and no MTU target; kube-proxy has no endpoint port.
      return run(world, serviceDoc({ connect: 'refused', endpoints: null, mtu: null }));
    },
    result: 'Unhealthy',
    reason: Cause.NoEndpoints,
    failedLayer: Layer.Endpoints,
    summary: ['no endpoints for port 8080', '2 addresses without that port', 'targetPort grpc names no container port', 'http=8080/TCP'],
  },
  // ---------------------------------------------------------------- 4. CoreDNS down
  {
    catalogue: 4,
    name: 'CoreDNS scaled to 0: kube-dns has no endpoints, lookups fail, the ClusterIP works',
    verdict: () => {
      const world = clusterWorld();
      world.dnsPods = [];
      world.dnsSlices = [buildEndpointSlice('kube-dns', 'kube-system', [])];
      // kube-proxy REJECTs UDP to a Service without endpoints: dig sees ICMP port unreachable.
      return run(world, serviceDoc({ dns: dnsBackendFails('unreachable'), connect: 'ok' }));
    },
    result: 'Unhealthy',
    reason: Cause.DNSServerUnavailable,
    failedLayer: Layer.DNS,
    summary: ['no DNS pods', 'kube-dns', 'UNREACHABLE'],
    conditions: [['DNS', 'False', Cause.DNSServerUnavailable], ['Service', 'True']],
  },
  {
    catalogue: 4,
    name: 'CoreDNS pods not ready: lookups time out',
    verdict: () => {
      const world = clusterWorld();
      world.dnsPods = world.dnsPods.map((pod) => buildPod(pod.metadata!.name!, { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, ip: pod.status!.podIP, nodeName: pod.spec!.nodeName, ready: false }));
      world.dnsSlices = [buildEndpointSlice('kube-dns', 'kube-system', world.dnsPods.map((pod) => ({ ip: pod.status!.podIP!, ready: false, nodeName: pod.spec!.nodeName })))];
      return run(world, serviceDoc({ dns: dnsBackendFails('timeout'), connect: 'ok' }));
    },
    result: 'Unhealthy',
    reason: Cause.DNSServerUnavailable,
    failedLayer: Layer.DNS,
    summary: ['none of the 2 DNS pods is ready', 'TIMEOUT'],
  },
  // ---------------------------------------------------------------- 5. egress policy blocks DNS
  {
    catalogue: 5,
    name: 'A default-deny egress policy without a DNS allowance',
    verdict: () => {
      const world = clusterWorld();
      world.policies = [
        buildNetworkPolicy('web-egress', NS, {
          podSelector: { matchLabels: { app: 'web' } },
          policyTypes: ['Egress'],
          egress: [egressRule({ to: [peer.pods({ app: 'backend' })], ports: [policyPort.tcp(8080)] })],
        }),
      ];
      return run(world, serviceDoc({ dns: dnsBackendFails('timeout'), connect: 'ok' }));
    },
    result: 'Unhealthy',
    reason: Cause.DNSEgressBlockedByPolicy,
    failedLayer: Layer.NetworkPolicy,
    summary: ['web-egress', 'TIMEOUT', /port 53 UDP and TCP/],
    conditions: [['DNS', 'False', Cause.DNSEgressBlockedByPolicy], ['NetworkPolicy', 'False', Cause.DNSEgressBlockedByPolicy]],
  },
  // ---------------------------------------------------------------- 6. ndots:5 amplification (warning)
  {
    catalogue: 6,
    name: 'ndots:5 and three search domains: an external name costs 4 queries, the connection works',
    verdict: () => {
      const resolv = RESOLV;
      const dns = simulateLookup('api.example.com', resolv, { 'api.example.com.': { result: 'NOERROR', answers: ['198.51.100.20'], ms: 24 } });
      const doc = probeDoc({ proto: 'TCP', target: { host: 'api.example.com', port: 443 }, resolv, dns, connect: connectResult('198.51.100.20', 443, 'ok', 31), mtu: mtuResult('198.51.100.20', 'ok') });
      return run(clusterWorld(), doc, { spec: { source: { pod: 'web' }, destination: { host: 'api.example.com', port: 443 } }, noService: true, destinationPods: [] });
    },
    result: 'Healthy',
    reason: Cause.DNSSearchPathAmplification,
    summary: ['3 wasted queries', '4 queries', 'ndots:5', 'api.example.com.'],
    conditions: [['DNS', 'True', Cause.DNSSearchPathAmplification], ['NorthSouth', 'True']],
  },
  // ---------------------------------------------------------------- 7. name does not exist
  {
    catalogue: 7,
    name: 'NXDOMAIN for a misspelt name',
    verdict: () => {
      const dns = simulateLookup('billing-api', RESOLV, {});
      const doc = probeDoc({ proto: 'TCP', target: { host: 'billing-api', port: 8080 }, resolv: RESOLV, dns, connect: skippedProbe(), mtu: skippedProbe() });
      return run(clusterWorld(), doc, { spec: { source: { pod: 'web' }, destination: { host: 'billing-api', port: 8080 } }, noService: true, destinationPods: [] });
    },
    result: 'Unhealthy',
    reason: Cause.NameNotFound,
    failedLayer: Layer.DNS,
    summary: ['billing-api', 'NXDOMAIN', 'billing-api.shop.svc.cluster.local.'],
  },
  // ---------------------------------------------------------------- 8. a policy denies the traffic
  {
    catalogue: 8,
    name: 'An ingress policy on the backends admits only app=frontend',
    verdict: () => {
      const world = clusterWorld();
      world.policies = [backendIngressPolicy()];
      return run(world, serviceDoc({ connect: 'timeout', endpoints: ['timeout', 'timeout'], mtu: mtuResult(WORLD.backendIPs[0], 'unreachable') }));
    },
    result: 'Unhealthy',
    reason: Cause.BlockedByNetworkPolicy,
    failedLayer: Layer.NetworkPolicy,
    summary: ['backend-allow-frontend', 'timed out', 'shop/web'],
    conditions: [['NetworkPolicy', 'False', Cause.BlockedByNetworkPolicy], ['PodIP', 'False', LayerReason.ConnectionTimedOut], ['MTU', 'Unknown', LayerReason.NotMeasurable]],
  },
  {
    catalogue: 8,
    name: 'The same policy enforced by kube-router, which REJECTs: the denied connection is refused, not dropped',
    verdict: () => {
      const world = clusterWorld();
      world.policies = [backendIngressPolicy()];
      world.agentPods = [...world.agentPods.filter((pod) => pod.metadata?.labels?.['k8s-app'] === 'kube-proxy'), ...['node-1', 'node-2'].map((node, i) => buildPod(`kube-router-${i}`, { namespace: 'kube-system', labels: { 'k8s-app': 'kube-router' }, nodeName: node, hostNetwork: true }))];
      return run(world, serviceDoc({ connect: 'refused', endpoints: ['refused', 'refused'], mtu: mtuResult(WORLD.backendIPs[0], 'unreachable') }));
    },
    result: 'Unhealthy',
    reason: Cause.BlockedByNetworkPolicy,
    failedLayer: Layer.NetworkPolicy,
    summary: ['backend-allow-frontend', 'refused rather than dropped', 'kube-router', 'admitting pods app=web in namespace shop on 8080/TCP'],
    notInSummary: ['pod-template-hash'],
    conditions: [['PodIP', 'False', LayerReason.ConnectionRefused]],
  },
  {
    name: 'expect: Blocked on kube-router: refused by the policy counts as blocked',
    verdict: () => {
      const world = clusterWorld();
      world.policies = [backendIngressPolicy()];
      return run(world, serviceDoc({ connect: 'refused', endpoints: ['refused', 'refused'], mtu: mtuResult(WORLD.backendIPs[0], 'unreachable') }), { spec: serviceSpec({ expect: 'Blocked' }) });
    },
    result: 'Healthy',
    reason: HealthyReason.BlockedAsExpected,
    summary: ['backend-allow-frontend'],
  },
  // ---------------------------------------------------------------- 9. expected blocked, but reachable
  {
    catalogue: 9,
    name: 'expect: Blocked, the policy denies it, but flannel does not enforce policies',
    verdict: () => {
      const world = clusterWorld();
      world.policies = [backendIngressPolicy()];
      world.agentPods = [
        ...world.agentPods.filter((pod) => pod.metadata?.labels?.['k8s-app'] === 'kube-proxy'),
        buildPod('kube-flannel-ds-8xq2w', { namespace: 'kube-flannel', labels: { app: 'flannel' }, nodeName: 'node-1', hostNetwork: true, ip: '172.18.0.2' }),
        buildPod('kube-flannel-ds-m3k7p', { namespace: 'kube-flannel', labels: { app: 'flannel' }, nodeName: 'node-2', hostNetwork: true, ip: '172.18.0.3' }),
      ];
      return run(world, serviceDoc({ connect: 'ok' }), { spec: serviceSpec({ expect: 'Blocked' }) });
    },
    result: 'Unhealthy',
    reason: Cause.PolicyNotEnforced,
    failedLayer: Layer.NetworkPolicy,
    summary: ['backend-allow-frontend', 'flannel', 'expects it to be blocked'],
  },
  // ---------------------------------------------------------------- 10. ip_forward disabled
  {
    catalogue: 10,
    name: 'net.ipv4.ip_forward=0 on the source node: same-node works, cross-node SYNs vanish',
    verdict: () =>
      run(clusterWorld(), serviceDoc({ connect: 'timeout', endpoints: ['ok', 'timeout'] }), {
        extraOutputs: [probeOutput('web-to-backend-g1-t5kq2a-node', 'node-1', nodeDoc({ ipForward: 0, svc: { ip: WORLD.clusterIP, rules: 1, chains: ['KUBE-SVC-ERIFXISQEP7F7OF4'], endpoints: 2, rejectRules: 0 } }))],
      }),
    result: 'Unhealthy',
    reason: Cause.IPForwardingDisabled,
    failedLayer: Layer.Node,
    summary: ['net.ipv4.ip_forward=0 on node node-1', '10.244.2.22:8080'],
    conditions: [['Node', 'False', Cause.IPForwardingDisabled], ['CNI', 'False', LayerReason.CrossNodeFailing]],
  },
  // ---------------------------------------------------------------- 11. kube-proxy missing
  {
    catalogue: 11,
    name: 'kube-proxy evicted from the source node: DNS (a ClusterIP) and the ClusterIP fail, pod IPs work',
    verdict: () => {
      const world = clusterWorld();
      world.agentPods = world.agentPods.filter((pod) => pod.metadata?.name !== 'kube-proxy-x8s2m');
      return run(world, serviceDoc({ dns: dnsBackendFails('timeout'), connect: 'timeout', endpoints: ['ok', 'ok'] }), {
        extraOutputs: [probeOutput('web-to-backend-g1-t5kq2a-node', 'node-1', nodeDoc({ proxyMode: 'none', svc: { ip: WORLD.clusterIP, rules: 0, chains: [], endpoints: 0, rejectRules: 0 } }))],
      });
    },
    result: 'Unhealthy',
    reason: Cause.ServiceProxyMissing,
    failedLayer: Layer.Service,
    summary: ['no kube-proxy pod on node node-1', 'kube-dns ClusterIP', 'no KUBE-SERVICES rule for 10.96.12.7'],
  },
  {
    catalogue: 11,
    name: 'The ClusterIP times out while both pod IPs answer (no node inspection)',
    verdict: () => run(clusterWorld(), serviceDoc({ connect: 'timeout', endpoints: ['ok', 'ok'] })),
    result: 'Unhealthy',
    reason: Cause.ServiceProxyMissing,
    failedLayer: Layer.Service,
    summary: ['10.96.12.7:8080 timed out', '2 backend pods answered directly', 'kube-proxy pod kube-proxy-x8s2m is Running'],
    conditions: [['Service', 'False', Cause.ServiceProxyMissing], ['PodIP', 'True']],
  },
  // ---------------------------------------------------------------- 12. overlay broken
  {
    catalogue: 12,
    recorded: true,
    name: 'Same-node backend answers, the cross-node backend times out',
    verdict: () => run(clusterWorld(), serviceDoc({ connect: 'timeout', endpoints: ['ok', 'timeout'] })),
    result: 'Unhealthy',
    reason: Cause.OverlayBroken,
    failedLayer: Layer.CNI,
    summary: ['Same-node pods answer', 'cross-node pods time out', 'node-2', 'calico'],
    conditions: [['CNI', 'False', Cause.OverlayBroken]],
  },
  // ---------------------------------------------------------------- 13. MTU mismatch
  {
    catalogue: 13,
    name: 'Handshake works, the HTTP response never arrives: a PMTU black hole at 1400 bytes',
    verdict: () =>
      run(
        clusterWorld(),
        serviceDoc({ proto: 'HTTP', connect: 'ok', http: httpResult('http://backend:8080/', 'timeout', null, { connectMs: 1 }), mtu: mtuResult(WORLD.backendIPs[0], 'blackhole', { local: 1500, path: 1400 }) }),
        { spec: serviceSpec({ protocol: 'HTTP' }) },
      ),
    result: 'Unhealthy',
    reason: Cause.MTUMismatch,
    failedLayer: Layer.MTU,
    summary: ['1400 bytes', 'MTU 1500', 'vanish without an ICMP error'],
    conditions: [['MTU', 'False', Cause.MTUMismatch], ['Service', 'False', Cause.HTTPRequestFailed]],
  },
  {
    catalogue: 13,
    name: 'TCP connects, but full-size DF packets to the backend vanish (MTU lowered on the destination pod)',
    verdict: () => run(clusterWorld(), serviceDoc({ connect: 'ok', mtu: mtuResult(WORLD.backendIPs[0], 'blackhole', { local: 1500, path: 1450 }) })),
    result: 'Unhealthy',
    reason: Cause.MTUMismatch,
    failedLayer: Layer.MTU,
    summary: ['1450 bytes'],
  },
  // ---------------------------------------------------------------- 14. wrong VXLAN source address
  {
    catalogue: 14,
    recorded: true,
    name: 'Only the new node fails: flannel encapsulates from a second address, not its InternalIP',
    verdict: () => {
      const world = clusterWorld();
      world.nodes.push(buildNode('node-3', { internalIP: '10.153.204.15', podCIDR: '10.244.3.0/24', annotations: { 'flannel.alpha.coreos.com/public-ip': '10.153.204.228' } }));
      world.agentPods = [
        ...world.agentPods.filter((pod) => pod.metadata?.labels?.['k8s-app'] === 'kube-proxy'),
        ...['node-1', 'node-2', 'node-3'].map((node, index) => buildPod(`kube-flannel-ds-${index}`, { namespace: 'kube-flannel', labels: { app: 'flannel' }, nodeName: node, hostNetwork: true })),
      ];
      const web3 = buildPod('web-7f9c-node3', { namespace: NS, labels: { app: 'web' }, ip: '10.244.3.14', nodeName: 'node-3' });
      const good = probeOutput('web-to-backend-g1-t5kq2a-0', 'node-1', serviceDoc({ connect: 'ok' }));
      const bad = probeOutput('web-to-backend-g1-t5kq2a-1', 'node-3', serviceDoc({ connect: 'timeout', endpoints: ['timeout', 'timeout'] }));
      return run(world, undefined, {
        spec: serviceSpec({ source: { podSelector: { matchLabels: { app: 'web' } }, spread: 'EveryNode' } }),
        sourcePods: [world.web, web3],
        outputs: [good, bad],
        evidence: { sourcePods: fetchedOk([world.web, web3]) },
      });
    },
    result: 'Unhealthy',
    reason: Cause.OverlaySourceAddressMismatch,
    failedLayer: Layer.CNI,
    summary: ['10.153.204.228', '10.153.204.15', 'node-3'],
  },
  // ---------------------------------------------------------------- 15. LoadBalancer pending (warning)
  {
    catalogue: 15,
    name: 'LoadBalancer Service without an external address; the in-cluster path works',
    verdict: () => {
      const world = clusterWorld();
      world.service = buildService('backend', NS, { type: 'LoadBalancer', selector: { app: 'backend' }, clusterIP: WORLD.clusterIP, ports: [servicePort(8080, 'http', { name: 'http', nodePort: 31080 })] });
      return run(world, serviceDoc({ connect: 'ok' }));
    },
    result: 'Healthy',
    reason: Cause.LoadBalancerPending,
    summary: ['no external address'],
    conditions: [['NorthSouth', 'False', Cause.LoadBalancerPending], ['Service', 'True']],
  },
  // ---------------------------------------------------------------- 16. ingress controller down
  {
    catalogue: 16,
    recorded: true,
    name: 'An Ingress serves shop.example.com, its controller crash-loops, the LB address times out',
    verdict: () => {
      const world = clusterWorld();
      world.ingresses = [buildIngress('shop', NS, { host: 'shop.example.com', service: 'backend', port: 8080, className: 'nginx' })];
      world.ingressControllers = [buildPod('ingress-nginx-controller-5b4d-xk2', { namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' }, ready: false, waitingReason: 'CrashLoopBackOff', restartCount: 12, nodeName: 'node-2', ip: '10.244.2.40' })];
      const dns = simulateLookup('shop.example.com', RESOLV, { 'shop.example.com.': { result: 'NOERROR', answers: ['203.0.113.10'], ms: 18 } });
      const doc = probeDoc({ proto: 'HTTP', target: { host: 'shop.example.com', port: 80 }, resolv: RESOLV, dns, connect: connectResult('203.0.113.10', 80, 'refused'), http: httpResult('http://shop.example.com:80/', 'refused', null, { curlExit: 7, err: 'Failed to connect to shop.example.com port 80: Connection refused' }), mtu: mtuResult('203.0.113.10', 'ok') });
      return run(world, doc, { spec: { source: { pod: 'web' }, destination: { host: 'shop.example.com' }, protocol: 'HTTP' }, noService: true, destinationPods: [] });
    },
    result: 'Unhealthy',
    reason: Cause.IngressControllerUnavailable,
    failedLayer: Layer.NorthSouth,
    summary: ['shop/shop', 'CrashLoopBackOff', 'ingress controller'],
  },
  // ---------------------------------------------------------------- 17. external egress blocked
  {
    catalogue: 17,
    name: 'Egress to an external API blocked by a policy that only allows DNS',
    verdict: () => {
      const world = dnsOnlyEgressWorld();
      const dns = simulateLookup('api.partner.example', RESOLV, { 'api.partner.example.': { result: 'NOERROR', answers: ['198.51.100.7'], ms: 20 } });
      const doc = probeDoc({ proto: 'TCP', target: { host: 'api.partner.example', port: 443 }, resolv: RESOLV, dns, connect: connectResult('198.51.100.7', 443, 'timeout'), mtu: mtuResult('198.51.100.7', 'unreachable') });
      return run(world, doc, { spec: { source: { pod: 'web' }, destination: { host: 'api.partner.example', port: 443 } }, noService: true, destinationPods: [] });
    },
    result: 'Unhealthy',
    reason: Cause.EgressBlocked,
    failedLayer: Layer.NetworkPolicy,
    summary: ['egress-dns-only', '198.51.100.7:443', 'timed out'],
  },
  {
    catalogue: 17,
    name: 'Egress to an external host REJECTed by the enforcer of an egress policy (kube-router): refused, still the policy',
    verdict: () => {
      const world = dnsOnlyEgressWorld();
      const doc = probeDoc({ proto: 'TCP', target: { host: '198.51.100.7', port: 443 }, resolv: RESOLV, connect: connectResult('198.51.100.7', 443, 'refused') });
      return run(world, doc, { spec: { source: { pod: 'web' }, destination: { host: '198.51.100.7', port: 443 } }, noService: true, destinationPods: [] });
    },
    result: 'Unhealthy',
    reason: Cause.EgressBlocked,
    failedLayer: Layer.NetworkPolicy,
    summary: ['egress-dns-only', '198.51.100.7:443', 'refused'],
  },
  {
    catalogue: 17,
    name: 'Egress to an external host times out with no policy in the way (route / NAT)',
    verdict: () => {
      const dns = simulateLookup('api.partner.example', RESOLV, { 'api.partner.example.': { result: 'NOERROR', answers: ['198.51.100.7'], ms: 20 } });
      const doc = probeDoc({ proto: 'TCP', target: { host: 'api.partner.example', port: 443 }, resolv: RESOLV, dns, connect: connectResult('198.51.100.7', 443, 'timeout') });
      return run(clusterWorld(), doc, { spec: { source: { pod: 'web' }, destination: { host: 'api.partner.example', port: 443 } }, noService: true, destinationPods: [] });
    },
    result: 'Unhealthy',
    reason: Cause.EgressBlocked,
    failedLayer: Layer.NorthSouth,
    summary: ['NAT', 'api.partner.example'],
  },
  // ---------------------------------------------------------------- 18. source pod not running
  {
    catalogue: 18,
    name: 'The source pod stopped during the run',
    verdict: () => {
      const world = clusterWorld();
      const stopped = buildPod('web', { namespace: NS, labels: { app: 'web' }, ip: WORLD.sourceIP, nodeName: 'node-1', phase: 'Failed' });
      return run(world, serviceDoc({ connect: 'ok' }), { evidence: { sourcePods: fetchedOk([stopped]) } });
    },
    result: 'Error',
    reason: Cause.SourceNotReady,
    failedLayer: Layer.Source,
    summary: ['shop/web is Failed'],
  },
  // ---------------------------------------------------------------- 19. probe could not run
  {
    catalogue: 19,
    name: 'The probe refused its parameters',
    verdict: () => {
      const doc = probeDoc({ status: 'invalidInput', proto: 'TCP', target: {}, errors: [{ code: 'MissingParameter', param: 'NETCHECK_PORT', msg: 'protocol TCP needs NETCHECK_PORT' }] });
      return run(clusterWorld(), doc);
    },
    result: 'Error',
    reason: Cause.ProbeFailed,
    failedLayer: PROBE_LAYER,
    summary: ['NETCHECK_PORT', 'refused its parameters'],
    conditions: [['DNS', 'Unknown', LayerReason.ProbeFailed]],
  },
  {
    catalogue: 19,
    name: 'The connect probe was stopped by the watchdog and left no section',
    verdict: () => {
      const doc = probeDoc({ proto: 'TCP', target: { host: 'backend', ip: WORLD.clusterIP, port: 8080 }, resolv: RESOLV, dns: dnsBackendOk(), errors: [{ code: 'ProbeTimeout', probe: 'connect', msg: 'probe stopped at the run deadline' }] });
      return run(clusterWorld(), doc);
    },
    result: 'Error',
    reason: Cause.ProbeFailed,
    failedLayer: PROBE_LAYER,
    summary: ['connect probe did not finish'],
  },

  // ================================================================ healthy variants: no false alarm
  {
    name: 'healthy TCP through the Service',
    verdict: () => run(clusterWorld(), serviceDoc({ connect: 'ok' })),
    result: 'Healthy',
    reason: HealthyReason.Reachable,
    summary: ['10.96.12.7:8080 connected', '2/2 pod IPs answered'],
    conditions: [['Source', 'True'], ['DNS', 'True', LayerReason.NameResolved], ['Endpoints', 'True', LayerReason.EndpointsAvailable], ['Service', 'True'], ['PodIP', 'True'], ['NetworkPolicy', 'True', LayerReason.NotIsolated], ['Node', 'True'], ['CNI', 'True'], ['MTU', 'True'], ['NorthSouth', 'Unknown', LayerReason.NotApplicable]],
  },
  {
    name: 'healthy HTTP 200 through the Service',
    verdict: () => run(clusterWorld(), serviceDoc({ proto: 'HTTP', connect: 'ok', http: httpResult('http://backend:8080/', 'ok', 200) }), { spec: serviceSpec({ protocol: 'HTTP' }) }),
    result: 'Healthy',
    reason: HealthyReason.Reachable,
    summary: ['HTTP 200'],
  },
  {
    name: 'healthy DNS check',
    verdict: () => run(clusterWorld(), probeDoc({ proto: 'DNS', target: { host: 'backend' }, resolv: RESOLV, dns: dnsBackendOk() }), { spec: serviceSpec({ protocol: 'DNS', destination: { service: 'backend' } }) }),
    result: 'Healthy',
    reason: HealthyReason.Reachable,
    summary: ['backend resolved to 10.96.12.7'],
    conditions: [['DNS', 'True'], ['Service', 'Unknown', LayerReason.NotApplicable]],
  },
  {
    name: 'healthy ICMP to a pod',
    verdict: () => {
      const world = clusterWorld();
      const doc = probeDoc({ proto: 'ICMP', target: { ip: WORLD.backendIPs[1] }, resolv: RESOLV, icmp: icmpResult(WORLD.backendIPs[1]) });
      return run(world, doc, { spec: { source: { pod: 'web' }, destination: { pod: 'backend-7d9f-fghij' }, protocol: 'ICMP' }, noService: true, destinationPods: [world.backends[1]], evidence: { service: undefined, endpointSlices: undefined, backendPods: fetchedOk([world.backends[1]]) } });
    },
    result: 'Healthy',
    reason: HealthyReason.Reachable,
    summary: ['ping 10.244.2.22: 3/3 replies'],
  },
  {
    name: 'expect: Blocked, and the denying policy is named',
    verdict: () => {
      const world = clusterWorld();
      world.policies = [backendIngressPolicy()];
      return run(world, serviceDoc({ connect: 'timeout', endpoints: ['timeout', 'timeout'], mtu: mtuResult(WORLD.backendIPs[0], 'unreachable') }), { spec: serviceSpec({ expect: 'Blocked' }) });
    },
    result: 'Healthy',
    reason: HealthyReason.BlockedAsExpected,
    summary: ['backend-allow-frontend', 'as expected'],
    conditions: [['NetworkPolicy', 'False', Cause.BlockedByNetworkPolicy]],
  },
  {
    name: 'kube-proxy runs as a host process (no kube-proxy pods anywhere) and the ClusterIP works',
    verdict: () => {
      const world = clusterWorld();
      world.agentPods = world.agentPods.filter((pod) => pod.metadata?.labels?.['k8s-app'] !== 'kube-proxy');
      return run(world, serviceDoc({ connect: 'ok' }));
    },
    result: 'Healthy',
    reason: HealthyReason.Reachable,
    conditions: [['Node', 'True']],
  },
  {
    name: 'ndots warning does not fail a working connection (service name, 1 query: no warning at all)',
    verdict: () => run(clusterWorld(), serviceDoc({ connect: 'ok' })),
    result: 'Healthy',
    reason: HealthyReason.Reachable,
  },
  {
    name: 'a not-ready endpoint among ready ones, the ready ones work',
    verdict: () => {
      const world = clusterWorld();
      const spare = buildPod('backend-7d9f-klmno', { namespace: NS, labels: { app: 'backend' }, ip: '10.244.2.23', nodeName: 'node-2', ready: false, ports: [{ containerPort: 8080, name: 'http' }] });
      world.backends.push(spare);
      world.slices = [buildEndpointSlice('backend', NS, [{ ip: WORLD.backendIPs[0], nodeName: 'node-1' }, { ip: WORLD.backendIPs[1], nodeName: 'node-2' }, { ip: '10.244.2.23', nodeName: 'node-2', ready: false }], [{ port: 8080, name: 'http' }])];
      return run(world, serviceDoc({ connect: 'ok' }));
    },
    result: 'Healthy',
    reason: HealthyReason.Reachable,
    summary: ['1 not-ready endpoint left out of rotation'],
    conditions: [['Endpoints', 'True', LayerReason.EndpointsPartiallyReady]],
  },
  {
    name: 'a policy allowing only TCP 8080 filters the DF pings: MTU not measurable, no alarm',
    verdict: () => {
      const world = clusterWorld();
      world.policies = [buildNetworkPolicy('backend-allow-web', NS, { podSelector: { matchLabels: { app: 'backend' } }, policyTypes: ['Ingress'], ingress: [ingressRule({ from: [peer.pods({ app: 'web' })], ports: [policyPort.tcp(8080)] })] })];
      return run(world, serviceDoc({ connect: 'ok', mtu: mtuResult(WORLD.backendIPs[0], 'unreachable') }));
    },
    result: 'Healthy',
    reason: HealthyReason.Reachable,
    conditions: [['MTU', 'Unknown', LayerReason.NotMeasurable], ['NetworkPolicy', 'True', LayerReason.PolicyAllows]],
  },
  {
    name: 'an eBPF service proxy (no kube-proxy rules on the node) with a working ClusterIP',
    verdict: () =>
      run(clusterWorld(), serviceDoc({ connect: 'ok' }), {
        extraOutputs: [probeOutput('web-to-backend-g1-t5kq2a-node', 'node-1', nodeDoc({ proxyMode: 'none', svc: { ip: WORLD.clusterIP, rules: 0, chains: [], endpoints: 0, rejectRules: 0 } }))],
      }),
    result: 'Healthy',
    reason: HealthyReason.Reachable,
    conditions: [['Node', 'True', LayerReason.NodeHealthy]],
  },
  {
    name: 'every API read forbidden, the probe passed: Healthy, evidence layers Unknown',
    verdict: () =>
      run(clusterWorld(), serviceDoc({ connect: 'ok' }), {
        evidence: {
          sourcePods: fetchedError('get pods'),
          service: fetchedError('get services'),
          endpointSlices: fetchedError('list endpointslices'),
          backendPods: fetchedError('list pods'),
          dns: { pods: fetchedError('list pods'), service: fetchedError('get services'), endpointSlices: fetchedError('list endpointslices') },
          agentPods: [{ selector: 'k8s-app in (kube-proxy)', pods: fetchedError('list pods') }],
          nodes: fetchedError('get nodes'),
          namespaces: fetchedError('get namespaces'),
          networkPolicies: fetchedError('list networkpolicies'),
          ingresses: fetchedError('list ingresses'),
        },
      }),
    result: 'Healthy',
    reason: HealthyReason.Reachable,
    conditions: [['Endpoints', 'Unknown', LayerReason.EvidenceUnavailable], ['NetworkPolicy', 'Unknown', LayerReason.EvidenceUnavailable], ['Service', 'True']],
  },
  {
    name: 'healthy UDP service that answers',
    verdict: () => run(clusterWorld(), serviceDoc({ proto: 'UDP', connect: connectResult(WORLD.clusterIP, WORLD.port, 'ok', 2, 'UDP'), endpoints: ['ok', 'ok'] }), { spec: serviceSpec({ protocol: 'UDP' }) }),
    result: 'Healthy',
    reason: HealthyReason.Reachable,
  },

  // ================================================================ further rows (sharper causes)
  {
    name: 'expect: Blocked but a rule allows it: the allowing rule is named',
    verdict: () => {
      const world = clusterWorld();
      world.policies = [buildNetworkPolicy('backend-allow-web', NS, { podSelector: { matchLabels: { app: 'backend' } }, policyTypes: ['Ingress'], ingress: [ingressRule({ from: [peer.pods({ app: 'web' })], ports: [policyPort.tcp(8080)] })] })];
      return run(world, serviceDoc({ connect: 'ok' }), { spec: serviceSpec({ expect: 'Blocked' }) });
    },
    result: 'Unhealthy',
    reason: Cause.AllowedByNetworkPolicy,
    failedLayer: Layer.NetworkPolicy,
    summary: ['backend-allow-web ingress rule #0'],
  },
  {
    name: 'expect: Blocked but no policy isolates either side',
    verdict: () => run(clusterWorld(), serviceDoc({ connect: 'ok' }), { spec: serviceSpec({ expect: 'Blocked' }) }),
    result: 'Unhealthy',
    reason: Cause.NoPolicyIsolates,
    failedLayer: Layer.NetworkPolicy,
    summary: ['no NetworkPolicy selects pod shop/backend-7d9f-abcde'],
  },
  {
    name: 'expect: Blocked, blocked, but by a missing endpoint rather than a policy (warning)',
    verdict: () => {
      const world = clusterWorld();
      world.backends = world.backends.map((pod, index) => buildPod(pod.metadata!.name!, { namespace: NS, labels: { app: 'backend' }, ip: WORLD.backendIPs[index], nodeName: `node-${index + 1}`, ready: false, ports: [{ containerPort: 8080, name: 'http' }] }));
      world.slices = [buildEndpointSlice('backend', NS, WORLD.backendIPs.map((ip) => ({ ip, ready: false })), [{ port: 8080, name: 'http' }])];
      return run(world, serviceDoc({ connect: 'refused', endpoints: null, mtu: null }), { spec: serviceSpec({ expect: 'Blocked' }) });
    },
    result: 'Healthy',
    reason: HealthyReason.BlockedNotByPolicy,
    summary: ['EndpointsNotReady', 'no NetworkPolicy denies it'],
    conditions: [['Endpoints', 'False', Cause.EndpointsNotReady]],
  },
  {
    name: 'DNS times out although CoreDNS is healthy and no policy blocks it',
    verdict: () => run(clusterWorld(), serviceDoc({ dns: dnsBackendFails('timeout'), connect: 'ok' })),
    result: 'Unhealthy',
    reason: Cause.DNSTimeout,
    failedLayer: Layer.DNS,
    summary: ['2/2 DNS pods are ready', 'kube-dns ClusterIP'],
  },
  {
    name: 'HTTP 503 from the application: the network works',
    verdict: () => run(clusterWorld(), serviceDoc({ proto: 'HTTP', connect: 'ok', http: httpResult('http://backend:8080/healthz', 'unexpectedStatus', 503) }), { spec: serviceSpec({ protocol: 'HTTP', http: { path: '/healthz' } }) }),
    result: 'Unhealthy',
    reason: Cause.UnexpectedHTTPStatus,
    failedLayer: Layer.Service,
    summary: ['HTTP 503'],
  },
  {
    name: 'a node source: ip_forward=0 seen by the node probe explains the timeout to a pod',
    verdict: () => {
      const world = clusterWorld();
      const doc = probeDoc({ mode: 'node', proto: 'TCP', target: { ip: WORLD.backendIPs[1], port: 8080 }, resolv: { ns: ['172.18.0.1'], search: [], ndots: 1, timeout: 5, attempts: 2 }, connect: connectResult(WORLD.backendIPs[1], 8080, 'timeout'), mtu: mtuResult(WORLD.backendIPs[1], 'unreachable'), node: nodeInspection({ ipForward: 0 }) });
      return run(world, undefined, {
        spec: { source: { node: 'node-1' }, destination: { pod: 'backend-7d9f-fghij', port: 8080 } },
        sourcePods: [],
        noService: true,
        destinationPods: [world.backends[1]],
        outputs: [probeOutput('web-to-backend-g1-t5kq2a-0', 'node-1', doc)],
        evidence: { sourcePods: fetchedOk([]), service: undefined, endpointSlices: undefined, backendPods: fetchedOk([world.backends[1]]) },
      });
    },
    result: 'Unhealthy',
    reason: Cause.IPForwardingDisabled,
    failedLayer: Layer.Node,
  },
  {
    name: 'a CNI agent crash-loops on the backend node: the pod there times out, the same-node one answers',
    verdict: () => {
      const world = clusterWorld();
      world.agentPods = world.agentPods.map((pod) => (pod.metadata?.name === 'calico-node-2mnbv' ? buildPod('calico-node-2mnbv', { namespace: 'kube-system', labels: { 'k8s-app': 'calico-node' }, nodeName: 'node-2', ready: false, waitingReason: 'CrashLoopBackOff', hostNetwork: true }) : pod));
      // Same pattern as a broken overlay, but the agent on the far node explains it more sharply.
      return run(world, serviceDoc({ connect: 'timeout', endpoints: ['ok', 'timeout'] }));
    },
    result: 'Unhealthy',
    reason: Cause.CNIAgentNotReady,
    failedLayer: Layer.CNI,
    summary: ['calico agent calico-node-2mnbv on node node-2'],
  },
  {
    name: 'headless Service, healthy: DNS returns the pod IPs and the probe connects to one',
    verdict: () => {
      const world = clusterWorld();
      world.service = buildService('backend', NS, { selector: { app: 'backend' }, clusterIP: 'None', ports: [servicePort(8080, 'http', { name: 'http' })] });
      const dns = simulateLookup('backend', RESOLV, { [SERVICE_FQDN]: { result: 'NOERROR', answers: [...WORLD.backendIPs] } });
      const doc = probeDoc({ proto: 'TCP', target: { host: 'backend', port: 8080 }, resolv: RESOLV, dns, connect: connectResult(WORLD.backendIPs[0], 8080, 'ok'), endpoints: endpointsSection(WORLD.backendIPs.map((ip) => ({ ip, port: 8080, status: 'ok' as const }))), mtu: mtuResult(WORLD.backendIPs[0], 'ok') });
      return run(world, doc);
    },
    result: 'Healthy',
    reason: HealthyReason.Reachable,
    conditions: [['Service', 'Unknown', LayerReason.NotApplicable], ['PodIP', 'True']],
  },
  {
    name: 'headless Service whose pods are not ready: the name does not resolve, the endpoints explain why',
    verdict: () => {
      const world = clusterWorld();
      world.service = buildService('backend', NS, { selector: { app: 'backend' }, clusterIP: 'None', ports: [servicePort(8080, 'http', { name: 'http' })] });
      world.backends = world.backends.map((pod, index) => buildPod(pod.metadata!.name!, { namespace: NS, labels: { app: 'backend' }, ip: WORLD.backendIPs[index], nodeName: `node-${index + 1}`, ready: false, ports: [{ containerPort: 8080, name: 'http' }] }));
      world.slices = [buildEndpointSlice('backend', NS, WORLD.backendIPs.map((ip) => ({ ip, ready: false })), [{ port: 8080, name: 'http' }])];
      const doc = probeDoc({ proto: 'TCP', target: { host: 'backend', port: 8080 }, resolv: RESOLV, dns: simulateLookup('backend', RESOLV, {}), connect: skippedProbe() });
      return run(world, doc);
    },
    result: 'Unhealthy',
    reason: Cause.EndpointsNotReady,
    failedLayer: Layer.Endpoints,
    summary: ['headless Service resolves only to ready pods'],
  },
  {
    name: 'ExternalName Service: the CNAME target answers',
    verdict: () => {
      const world = clusterWorld();
      world.service = buildService('backend', NS, { type: 'ExternalName', externalName: 'db.example.net' });
      const dns = simulateLookup('backend', RESOLV, { [SERVICE_FQDN]: { result: 'NOERROR', answers: ['192.0.2.50'], cnames: ['db.example.net'] } });
      const doc = probeDoc({ proto: 'TCP', target: { host: 'backend', port: 5432 }, resolv: RESOLV, dns, connect: connectResult('192.0.2.50', 5432, 'ok', 12), mtu: mtuResult('192.0.2.50', 'ok') });
      return run(world, doc, { spec: serviceSpec({ destination: { service: 'backend', port: 5432 } }), destinationPods: [] });
    },
    result: 'Healthy',
    reason: HealthyReason.Reachable,
    conditions: [['Endpoints', 'Unknown', LayerReason.NotApplicable], ['Service', 'Unknown', LayerReason.NotApplicable]],
  },
  {
    name: 'ExternalName Service: the CNAME target times out',
    verdict: () => {
      const world = clusterWorld();
      world.service = buildService('backend', NS, { type: 'ExternalName', externalName: 'db.example.net' });
      const dns = simulateLookup('backend', RESOLV, { [SERVICE_FQDN]: { result: 'NOERROR', answers: ['192.0.2.50'], cnames: ['db.example.net'] } });
      const doc = probeDoc({ proto: 'TCP', target: { host: 'backend', port: 5432 }, resolv: RESOLV, dns, connect: connectResult('192.0.2.50', 5432, 'timeout'), mtu: mtuResult('192.0.2.50', 'unreachable') });
      return run(world, doc, { spec: serviceSpec({ destination: { service: 'backend', port: 5432 } }), destinationPods: [] });
    },
    result: 'Unhealthy',
    reason: Cause.EgressBlocked,
    failedLayer: Layer.NorthSouth,
    summary: ['db.example.net', '192.0.2.50:5432'],
  },
  {
    name: 'a new pod with labels app=web under an egress policy that only allows DNS',
    verdict: () => {
      const world = clusterWorld();
      world.policies = [
        buildNetworkPolicy('egress-dns-only', NS, {
          podSelector: { matchLabels: { app: 'web' } },
          policyTypes: ['Egress'],
          egress: [egressRule({ to: [peer.namespaces({ 'kubernetes.io/metadata.name': 'kube-system' })], ports: [policyPort.udp(53), policyPort.tcp(53)] })],
        }),
      ];
      return run(world, undefined, {
        spec: serviceSpec({ source: { newPod: { labels: { app: 'web' } } } }),
        sourcePods: [],
        outputs: [probeOutput(WORLD.probePod, 'node-2', serviceDoc({ connect: 'timeout', endpoints: ['timeout', 'timeout'], mtu: mtuResult(WORLD.backendIPs[0], 'unreachable') }))],
        evidence: { sourcePods: fetchedOk([]) },
      });
    },
    result: 'Unhealthy',
    reason: Cause.BlockedByNetworkPolicy,
    failedLayer: Layer.NetworkPolicy,
    summary: ['egress-dns-only', 'add an egress rule to policy egress-dns-only (namespace shop) allowing pods app=backend in namespace shop on 8080/TCP'],
    notInSummary: ['pod-template-hash'],
  },
  {
    name: 'UDP without any reply and no policy in the way: a warning, not a failure',
    verdict: () => run(clusterWorld(), serviceDoc({ proto: 'UDP', connect: connectResult(WORLD.clusterIP, WORLD.port, 'noReply', undefined, 'UDP'), endpoints: ['noReply', 'noReply'] }), { spec: serviceSpec({ protocol: 'UDP' }) }),
    result: 'Healthy',
    reason: HealthyReason.UDPNoReply,
  },
  {
    name: 'UDP without any reply where a policy denies it',
    verdict: () => {
      const world = clusterWorld();
      world.service = buildService('backend', NS, { selector: { app: 'backend' }, clusterIP: WORLD.clusterIP, ports: [servicePort(8080, 8080, { protocol: 'UDP' })] });
      world.slices = [buildEndpointSlice('backend', NS, WORLD.backendIPs.map((ip, i) => ({ ip, nodeName: `node-${i + 1}` })), [{ port: 8080, protocol: 'UDP' }])];
      world.policies = [backendIngressPolicy()];
      return run(world, serviceDoc({ proto: 'UDP', connect: connectResult(WORLD.clusterIP, WORLD.port, 'noReply', undefined, 'UDP'), endpoints: ['noReply', 'noReply'] }), { spec: serviceSpec({ protocol: 'UDP' }) });
    },
    result: 'Unhealthy',
    reason: Cause.BlockedByNetworkPolicy,
    failedLayer: Layer.NetworkPolicy,
  },
  {
    name: 'a cluster name given as a host destination is not blamed on egress out of the cluster',
    verdict: () => {
      const dns = simulateLookup('backend.shop.svc.cluster.local', RESOLV, { 'backend.shop.svc.cluster.local.': { result: 'NOERROR', answers: [WORLD.clusterIP] } });
      const doc = probeDoc({ proto: 'TCP', target: { host: 'backend.shop.svc.cluster.local', port: 8080 }, resolv: RESOLV, dns, connect: connectResult(WORLD.clusterIP, 8080, 'timeout') });
      return run(clusterWorld(), doc, { spec: { source: { pod: 'web' }, destination: { host: 'backend.shop.svc.cluster.local', port: 8080 } }, noService: true, destinationPods: [] });
    },
    result: 'Unhealthy',
    reason: Cause.ServiceUnreachable,
    failedLayer: Layer.Service,
    summary: ['is a cluster name', 'spec.destination.service'],
    notInSummary: ['NAT'],
  },
  {
    name: 'ICMP to a ClusterIP (iptables mode never answers): an Error, not a network finding',
    verdict: () => {
      const doc = probeDoc({ proto: 'ICMP', target: { host: 'backend', ip: WORLD.clusterIP }, resolv: RESOLV, dns: dnsBackendOk(), icmp: icmpResult(WORLD.clusterIP, 0) });
      return run(clusterWorld(), doc, { spec: serviceSpec({ protocol: 'ICMP', destination: { service: 'backend' } }) });
    },
    result: 'Error',
    reason: Cause.ICMPToClusterIP,
    failedLayer: Layer.Service,
  },
  // ================================================================ every reason of the cause chain has a row
  {
    name: 'SERVFAIL for an external name: the DNS server answered but failed the query',
    verdict: () => externalLookup({ 'api.example.com.': { result: 'SERVFAIL' } }),
    result: 'Unhealthy',
    reason: Cause.DNSServerFailure,
    failedLayer: Layer.DNS,
    summary: ['SERVFAIL', 'upstream forwarders'],
  },
  {
    name: 'REFUSED for an external name: a refusal is not explained as an upstream SERVFAIL',
    verdict: () => externalLookup({ 'api.example.com.': { result: 'REFUSED' } }),
    result: 'Unhealthy',
    reason: Cause.DNSServerFailure,
    failedLayer: Layer.DNS,
    summary: ['REFUSED', 'refused the query'],
    notInSummary: ['SERVFAIL usually'],
  },
  {
    name: 'NODATA: the name exists without an A record',
    verdict: () => externalLookup({ 'api.example.com.': { result: 'NOERROR', answers: [] } }),
    result: 'Unhealthy',
    reason: Cause.DNSNoAddress,
    failedLayer: Layer.DNS,
    summary: ['NODATA', 'no A record'],
  },
  {
    name: 'expect: Blocked, it connected, and the NetworkPolicies could not be read',
    verdict: () => run(clusterWorld(), serviceDoc({ connect: 'ok' }), { spec: serviceSpec({ expect: 'Blocked' }), evidence: { networkPolicies: fetchedError('list networkpolicies') } }),
    result: 'Unhealthy',
    reason: Cause.UnexpectedlyReachable,
    failedLayer: Layer.NetworkPolicy,
    summary: ['could not be read', 'expects it to be blocked'],
  },
  {
    name: 'The ClusterIP times out, the pods answer, and the node has bridge-nf-call-iptables=0',
    verdict: () =>
      run(clusterWorld(), serviceDoc({ connect: 'timeout', endpoints: ['ok', 'ok'] }), {
        extraOutputs: [probeOutput('web-to-backend-g1-t5kq2a-node', 'node-1', nodeDoc({ bridgeNfCallIptables: 0 }))],
      }),
    result: 'Unhealthy',
    reason: Cause.BridgeNetfilterDisabled,
    failedLayer: Layer.Node,
    summary: ['net.bridge.bridge-nf-call-iptables=0 on node node-1', '2 backend pods answered directly', 'br_netfilter'],
  },
  {
    name: 'The ClusterIP times out, the pods answer, and the node\'s conntrack table is full',
    verdict: () =>
      run(clusterWorld(), serviceDoc({ connect: 'timeout', endpoints: ['ok', 'ok'] }), {
        extraOutputs: [probeOutput('web-to-backend-g1-t5kq2a-node', 'node-1', nodeDoc({ conntrackCount: 262000, conntrackMax: 262144 }))],
      }),
    result: 'Unhealthy',
    reason: Cause.ConntrackTableFull,
    failedLayer: Layer.Node,
    summary: ['holds 262000 of 262144 entries', 'nf_conntrack_max'],
  },
  {
    name: 'The node\'s conntrack table is full: the lookup gets no answer first (a new flow too), and the node says why',
    verdict: () =>
      run(clusterWorld(), serviceDoc({ dns: dnsBackendFails('timeout'), connect: 'timeout', endpoints: ['timeout', 'timeout'] }), {
        extraOutputs: [probeOutput('web-to-backend-g1-t5kq2a-node', 'node-1', nodeDoc({ conntrackCount: 4200, conntrackMax: 4000 }))],
      }),
    result: 'Unhealthy',
    reason: Cause.ConntrackTableFull,
    failedLayer: Layer.Node,
    summary: ['backend did not resolve', 'conntrack table on node node-1 holds 4200 of 4000 entries', 'DNS queries first'],
  },
  {
    name: 'The backend on a NotReady node times out, the same-node one answers',
    verdict: () => {
      const world = clusterWorld();
      world.nodes[1] = buildNode('node-2', { internalIP: '172.18.0.3', podCIDR: '10.244.2.0/24', ready: false });
      return run(world, serviceDoc({ connect: 'timeout', endpoints: ['ok', 'timeout'] }));
    },
    result: 'Unhealthy',
    reason: Cause.NodeNotReady,
    failedLayer: Layer.Node,
    summary: ['node node-2 is not Ready', '10.244.2.22:8080'],
    conditions: [['CNI', 'False', LayerReason.CrossNodeFailing]],
  },
  {
    name: 'The backend on a node whose pod network is not set up (NetworkUnavailable=True) times out',
    verdict: () => {
      const world = clusterWorld();
      world.nodes[1] = buildNode('node-2', { internalIP: '172.18.0.3', podCIDR: '10.244.2.0/24', networkUnavailable: true });
      return run(world, serviceDoc({ connect: 'timeout', endpoints: ['ok', 'timeout'] }));
    },
    result: 'Unhealthy',
    reason: Cause.NodeNetworkUnavailable,
    failedLayer: Layer.CNI,
    summary: ['node node-2 has NetworkUnavailable=True', 'the CNI has not set up its network'],
  },
  {
    name: 'An Ingress serves the host, its controller is ready, and it answers 404 for the path',
    verdict: () => {
      const world = clusterWorld();
      world.ingresses = [buildIngress('shop', NS, { host: 'shop.example.com', service: 'backend', port: 8080, className: 'nginx' })];
      world.ingressControllers = [buildPod('ingress-nginx-controller-5b4d-xk2', { namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' }, nodeName: 'node-2', ip: '10.244.2.40' })];
      const dns = simulateLookup('shop.example.com', RESOLV, { 'shop.example.com.': { result: 'NOERROR', answers: ['203.0.113.10'], ms: 18 } });
      const http = httpResult('http://shop.example.com:80/shop', 'unexpectedStatus', 404);
      const doc = probeDoc({ proto: 'HTTP', target: { host: 'shop.example.com', port: 80 }, resolv: RESOLV, dns, connect: connectResult('203.0.113.10', 80, 'ok'), http, mtu: mtuResult('203.0.113.10', 'ok') });
      return run(world, doc, { spec: { source: { pod: 'web' }, destination: { host: 'shop.example.com' }, protocol: 'HTTP', http: { path: '/shop' } }, noService: true, destinationPods: [] });
    },
    result: 'Unhealthy',
    reason: Cause.IngressMisrouted,
    failedLayer: Layer.NorthSouth,
    summary: ['HTTP 404', 'no rule for this host and path', 'shop/shop'],
  },
  {
    name: 'HTTPS to the Service: the TLS handshake fails over a working connection',
    verdict: () =>
      run(clusterWorld(), serviceDoc({ proto: 'HTTP', connect: 'ok', http: httpResult('https://backend:8080/', 'tlsError', null, { err: 'SSL certificate problem: self-signed certificate' }) }), {
        spec: serviceSpec({ protocol: 'HTTPS' }),
      }),
    result: 'Unhealthy',
    reason: Cause.TLSError,
    failedLayer: Layer.Service,
    summary: ['self-signed certificate', 'the TLS handshake failed'],
  },
  {
    name: 'HTTP over a working connection gets no response, and the path MTU is fine',
    verdict: () => run(clusterWorld(), serviceDoc({ proto: 'HTTP', connect: 'ok', http: httpResult('http://backend:8080/', 'timeout', null, { connectMs: 1 }) }), { spec: serviceSpec({ protocol: 'HTTP' }) }),
    result: 'Unhealthy',
    reason: Cause.HTTPRequestFailed,
    failedLayer: Layer.Service,
    summary: ['no HTTP response', 'no response came within 5 s'],
    notInSummary: ['path MTU'],
  },
  {
    name: 'A pod on the other node times out, and no policy, node or CNI evidence explains it',
    verdict: () => {
      const world = clusterWorld();
      const doc = probeDoc({ proto: 'TCP', target: { ip: WORLD.backendIPs[1], port: 8080 }, resolv: RESOLV, connect: connectResult(WORLD.backendIPs[1], 8080, 'timeout'), mtu: mtuResult(WORLD.backendIPs[1], 'unreachable') });
      return run(world, doc, { ...podDestination(world, { destination: { pod: 'backend-7d9f-fghij', port: 8080 } }) });
    },
    result: 'Unhealthy',
    reason: Cause.PodUnreachable,
    failedLayer: Layer.PodIP,
    summary: ['from node node-1 to node node-2', 'follow the packets'],
  },
  {
    name: 'Pings to a pod: one of three replies',
    verdict: () => {
      const world = clusterWorld();
      const doc = probeDoc({ proto: 'ICMP', target: { ip: WORLD.backendIPs[1] }, resolv: RESOLV, icmp: icmpResult(WORLD.backendIPs[1], 1) });
      return run(world, doc, { ...podDestination(world, { destination: { pod: 'backend-7d9f-fghij' }, protocol: 'ICMP' }) });
    },
    result: 'Unhealthy',
    reason: Cause.PacketLoss,
    failedLayer: Layer.PodIP,
    summary: ['1/3 replies'],
  },

  // ================================================================ fixes derived from the evidence beside them
  {
    name: 'A named targetPort no backend declares: the fix is about the port name, not about deploying pods',
    verdict: () => {
      const world = clusterWorld();
      world.service = buildService('backend', NS, { selector: { app: 'backend' }, clusterIP: WORLD.clusterIP, ports: [servicePort(8080, 'grpc')] });
      world.slices = [buildEndpointSlice('backend', NS, WORLD.backendIPs.map((ip, i) => ({ ip, nodeName: `node-${i + 1}` })), [])];
      return run(world, serviceDoc({ connect: 'refused', endpoints: null, mtu: null }));
    },
    result: 'Unhealthy',
    reason: Cause.NoEndpoints,
    failedLayer: Layer.Endpoints,
    summary: ['name a container port grpc', 'targetPort'],
    notInSummary: ['deploy pods'],
  },
  {
    name: 'The DNS pods are ready but kube-dns lists none of them: the fix is the Service\'s selector, not CoreDNS',
    verdict: () => {
      const world = clusterWorld();
      world.dnsSlices = [buildEndpointSlice('kube-dns', 'kube-system', [])];
      return run(world, serviceDoc({ dns: dnsBackendFails('unreachable'), connect: 'ok' }));
    },
    result: 'Unhealthy',
    reason: Cause.DNSServerUnavailable,
    failedLayer: Layer.DNS,
    summary: ['the kube-dns Service has no ready endpoints', 'make its selector match their labels'],
    notInSummary: ['bring CoreDNS back'],
  },
  {
    name: 'The ClusterIP fails while kube-proxy runs on the node: the fix is its logs, not "make sure it runs"',
    verdict: () => run(clusterWorld(), serviceDoc({ connect: 'timeout', endpoints: ['ok', 'ok'] })),
    result: 'Unhealthy',
    reason: Cause.ServiceProxyMissing,
    failedLayer: Layer.Service,
    summary: ['kube-proxy pod kube-proxy-x8s2m runs on node node-1', 'does not sync'],
    notInSummary: ['make sure kube-proxy'],
  },
  {
    name: 'The Service was deleted: NXDOMAIN says it no longer exists',
    verdict: () => {
      const world = clusterWorld();
      return run(world, serviceDoc({ dns: simulateLookup('backend', RESOLV, {}), connect: skippedProbe(), endpoints: null, mtu: null }), { evidence: { service: fetchedOk(null) } });
    },
    result: 'Unhealthy',
    reason: Cause.NameNotFound,
    failedLayer: Layer.DNS,
    summary: ['NXDOMAIN', 'no longer exists'],
    notInSummary: ['exists, so the name'],
  },
  {
    name: 'The source pod was deleted during the run: the fix does not ask to describe a pod that is gone',
    verdict: () => run(clusterWorld(), serviceDoc({ connect: 'ok' }), { evidence: { sourcePods: fetchedOk([]) } }),
    result: 'Error',
    reason: Cause.SourceNotReady,
    failedLayer: Layer.Source,
    summary: ['was deleted', 'recreate the source pod'],
    notInSummary: ['kubectl describe'],
  },
];

/** The cluster world with a policy that lets every pod of NS send only DNS to kube-system. */
function dnsOnlyEgressWorld() {
  const world = clusterWorld();
  world.policies = [
    buildNetworkPolicy('egress-dns-only', NS, {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [egressRule({ to: [peer.podsInNamespaces({ 'k8s-app': 'kube-dns' }, { 'kubernetes.io/metadata.name': 'kube-system' })], ports: [policyPort.udp(53), policyPort.tcp(53)] })],
    }),
  ];
  return world;
}

describe('diagnosis scenarios (catalogue of failure-modes.md)', () => {
  it('covers all 19 catalogue entries', () => {
    const covered = new Set(rows.map((row) => row.catalogue).filter((n): n is number => n !== undefined));
    expect([...covered].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 19 }, (_, i) => i + 1));
  });

  it('has a row for every reason the cause chain writes', () => {
    const covered = new Set(rows.map((row) => row.reason));
    const reasons = CHAIN.flatMap((rule) => rule.owns);
    expect(reasons.filter((reason) => !covered.has(reason))).to.deep.equal([]);
  });

  for (const row of rows) {
    const title = `${row.catalogue ? `#${row.catalogue} ` : ''}${row.name}${row.recorded ? ' [recorded evidence]' : ''} -> ${row.result}/${row.failedLayer ?? '-'}/${row.reason}`;
    it(title, () => {
      const verdict = row.verdict();
      // DIAGNOSIS_DUMP=1 prints each verdict as the status would show it (handy for reviewing wording).
      if (process.env.DIAGNOSIS_DUMP) console.log(JSON.stringify({ row: row.name, ...verdict }, null, 2));
      const context = `\nsummary: ${verdict.summary}\nlayers: ${verdict.layers.map((c) => `${c.type}=${c.status}/${c.reason}`).join(' ')}`;
      expect(verdict.result, `result${context}`).to.equal(row.result);
      expect(verdict.reason, `reason${context}`).to.equal(row.reason);
      expect(verdict.failedLayer, `failedLayer${context}`).to.equal(row.failedLayer);
      for (const needle of row.summary ?? []) {
        if (typeof needle === 'string') expect(verdict.summary, `summary${context}`).to.include(needle);
        else expect(verdict.summary, `summary${context}`).to.match(needle);
      }
      for (const text of row.notInSummary ?? []) expect(verdict.summary, `summary${context}`).to.not.include(text);
      for (const [name, status, reason] of row.conditions ?? []) {
        const found = layer(verdict, name);
        expect(found.status, `${found.type} status${context}`).to.equal(status);
        if (reason) expect(found.reason, `${found.type} reason${context}`).to.equal(reason);
      }

      // Shape every verdict must have.
      expect(verdict.layers.map((c) => c.type)).to.deep.equal(LADDER.map((name) => LayerCondition[name]));
      for (const condition of verdict.layers) {
        expect(condition.message, condition.type).to.be.a('string').and.not.equal('');
        expect(condition.reason, condition.type).to.match(/^[A-Z][A-Za-z0-9]*$/);
        expect(condition.observedGeneration).to.equal(1);
        expect(condition.message.length).to.be.at.most(2000);
      }
      expect(verdict.summary.length).to.be.at.most(4096);
      expect(verdict.reproduce.length).to.be.at.most(10);
      if (verdict.result === 'Unhealthy') {
        // The failing layer's condition carries the root cause, and the summary says how to fix it.
        const failing = verdict.layers.find((c) => c.type === LayerCondition[verdict.failedLayer as keyof typeof LayerCondition]);
        expect(failing?.status, `failing layer condition${context}`).to.equal('False');
        expect(failing?.reason).to.equal(verdict.reason);
        expect(verdict.summary).to.include('Fix:');
        expect(verdict.reproduce.length, 'reproduce commands').to.be.greaterThan(0);
        for (const line of verdict.reproduce) expect(line).to.match(/^kubectl /);
      }
      if (verdict.result === 'Healthy' && verdict.reason === HealthyReason.Reachable) expect(verdict.failedLayer).to.equal(undefined);
    });
  }
});
