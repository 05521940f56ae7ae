// One finished check per root cause of the catalogue (operator/diagnosis/reasons.ts, the first block
// of Cause), for tests of what reads status. Each starts from probe documents the real probe program
// recorded (test/fixtures/evidence/probe/, with the fault's own section swapped in where the recording
// lacks it, re-checked by the strict parser) and API evidence of a ClusterWorld, and goes through the
// real reconciler and diagnosis (check-status.ts): the status is what the operator would write.
import { readFileSync } from 'node:fs';
import type { NetworkCheck, NetworkCheckSpec } from '../../operator/api/types.generated.ts';
import { Cause } from '../../operator/diagnosis/index.ts';
import type { Evidence } from '../../operator/diagnosis/evidence.ts';
import { parseProbeResult, type ProbeResult } from '../../operator/probe/result.ts';
import {
  WORLD, buildEndpointSlice, buildIngress, buildNetworkPolicy, buildNode, buildPod, buildService, clusterWorld, connectResult,
  egressRule, endpointsSection, fetchedOk, httpResult, ingressRule, peer, policyPort, probeDoc, probeOutput, servicePort, simulateLookup,
  type ClusterWorld,
} from './builders.ts';
import { finishedCheck } from './check-status.ts';

const FIXTURES = new URL('../fixtures/evidence/probe/', import.meta.url);
const NS = WORLD.namespace;
const [NEAR, FAR] = WORLD.backendIPs;

/** A recorded probe document, optionally with sections replaced (and validated again). */
export function recordedDoc(name: string, changes: Partial<ProbeResult> = {}): ProbeResult {
  const parsed = parseProbeResult(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8'));
  if (!parsed.ok) throw new Error(`${name}: ${parsed.error}`);
  const { v: _v, startedAt: _s, truncated: _t, status, ...rest } = { ...parsed.result, ...changes };
  return probeDoc({ ...rest, status } as Parameters<typeof probeDoc>[0]);
}

/** The world of the recordings: one backend 10.244.1.21 (on `node`) behind ClusterIP 10.96.12.7. */
function recordedWorld(node = 'node-1'): ClusterWorld {
  const world = clusterWorld();
  world.backends = [buildPod('backend-7d9f-abcde', { namespace: NS, labels: { app: 'backend' }, ip: NEAR, nodeName: node, ports: [{ containerPort: 8080, name: 'http' }] })];
  world.slices = [buildEndpointSlice('backend', NS, [{ ip: NEAR, nodeName: node, podName: 'backend-7d9f-abcde' }], [{ port: 8080, name: 'http' }])];
  return world;
}

const toService: NetworkCheckSpec = { source: { pod: 'web' }, destination: { service: 'backend', port: 8080 } };
const probe = (doc: ProbeResult, node = 'node-1', index = 0) => probeOutput(`web-to-backend-g1-t5kq2a-${index}`, node, doc);
/** kube-proxy REJECTs a ClusterIP without endpoints; the probe has no pod IP to try. */
const refusedNoEndpoints = () => recordedDoc('svc-refused', { connect: connectResult(WORLD.clusterIP, 8080, 'refused', 1), endpoints: undefined, mtu: undefined });
const frontendOnly = () => buildNetworkPolicy('backend-allow-frontend', NS, { podSelector: { matchLabels: { app: 'backend' } }, policyTypes: ['Ingress'], ingress: [ingressRule({ from: [peer.pods({ app: 'frontend' })], ports: [policyPort.tcp(8080)] })] });
const proxiesOnly = (world: ClusterWorld) => world.agentPods.filter((pod) => pod.metadata?.labels?.['k8s-app'] === 'kube-proxy');
const flannelOn = (nodes: string[]) => nodes.map((node, index) => buildPod(`kube-flannel-ds-${index}`, { namespace: 'kube-flannel', labels: { app: 'flannel' }, nodeName: node, hostNetwork: true }));

interface Scenario { world: ClusterWorld; spec?: NetworkCheckSpec; outputs: ReturnType<typeof probe>[]; evidence?: Partial<Evidence> }

function notReadyBackends(world: ClusterWorld): ClusterWorld {
  world.backends = world.backends.map((pod, i) => buildPod(pod.metadata!.name!, { namespace: NS, labels: { app: 'backend' }, ip: WORLD.backendIPs[i], nodeName: `node-${i + 1}`, ready: false, waitingReason: 'CrashLoopBackOff', restartCount: 4, ports: [{ containerPort: 8080, name: 'http' }] }));
  world.slices = [buildEndpointSlice('backend', NS, WORLD.backendIPs.map((ip, i) => ({ ip, ready: false, nodeName: `node-${i + 1}`, podName: world.backends[i].metadata!.name })), [{ port: 8080, name: 'http' }])];
  return world;
}

function endpointsScenarios(): Record<string, () => Scenario> {
  return {
    [Cause.NoEndpoints]: () => { const world = clusterWorld(); world.backends = []; world.slices = []; return { world, outputs: [probe(refusedNoEndpoints())], evidence: { namespacePods: fetchedOk([]) } }; },
    [Cause.SelectorMismatch]: () => {
      const world = clusterWorld();
      world.otherPods = world.backends.map((_, i) => buildPod(`backend-v2-6c8d-${i}`, { namespace: NS, labels: { app: 'backend-v2' }, ip: WORLD.backendIPs[i], nodeName: `node-${i + 1}`, ports: [{ containerPort: 8080, name: 'http' }] }));
      world.backends = [];
      world.slices = [buildEndpointSlice('backend', NS, [], [{ port: 8080, name: 'http' }])];
      return { world, outputs: [probe(refusedNoEndpoints())] };
    },
    [Cause.EndpointsNotReady]: () => ({ world: notReadyBackends(clusterWorld()), outputs: [probe(refusedNoEndpoints())] }),
    [Cause.PortNotListening]: () => ({ world: recordedWorld(), outputs: [probe(recordedDoc('svc-refused'))] }),
    [Cause.TargetPortMismatch]: () => {
      const world = recordedWorld();
      world.backends = [buildPod('backend-7d9f-abcde', { namespace: NS, labels: { app: 'backend' }, ip: NEAR, nodeName: 'node-1', ports: [{ containerPort: 9090, name: 'http' }] })];
      world.service = buildService('backend', NS, { selector: { app: 'backend' }, clusterIP: WORLD.clusterIP, ports: [servicePort(8080, 8080)] });
      world.slices = [buildEndpointSlice('backend', NS, [{ ip: NEAR, nodeName: 'node-1', podName: 'backend-7d9f-abcde' }], [{ port: 8080 }])];
      return { world, outputs: [probe(recordedDoc('svc-refused'))] };
    },
  };
}

function dnsScenarios(): Record<string, () => Scenario> {
  return {
    [Cause.DNSServerUnavailable]: () => { const world = recordedWorld(); world.dnsPods = []; world.dnsSlices = [buildEndpointSlice('kube-dns', 'kube-system', [])]; return { world, outputs: [probe(recordedDoc('svc-dns-unreachable'))] }; },
    [Cause.DNSEgressBlockedByPolicy]: () => {
      const world = recordedWorld();
      world.policies = [buildNetworkPolicy('web-egress', NS, { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Egress'], egress: [egressRule({ to: [peer.pods({ app: 'backend' })], ports: [policyPort.tcp(8080)] })] })];
      return { world, outputs: [probe(recordedDoc('svc-dns-timeout'))] };
    },
    [Cause.DNSSearchPathAmplification]: () => ({ world: recordedWorld(), spec: { source: { pod: 'web' }, destination: { host: 'api.example.com' }, protocol: 'DNS' }, outputs: [probe(recordedDoc('dns-external-amplified'))] }),
    [Cause.NameNotFound]: () => ({ world: recordedWorld(), spec: { source: { pod: 'web' }, destination: { host: 'billing-api', port: 8080 } }, outputs: [probe(recordedDoc('dns-nxdomain'))] }),
  };
}

function policyScenarios(): Record<string, () => Scenario> {
  return {
    [Cause.BlockedByNetworkPolicy]: () => { const world = clusterWorld(); world.policies = [frontendOnly()]; return { world, outputs: [probe(recordedDoc('svc-dropped', { endpoints: endpointsSection([{ ip: NEAR, port: 8080, status: 'timeout' }, { ip: FAR, port: 8080, status: 'timeout' }]) }))] }; },
    [Cause.PolicyNotEnforced]: () => {
      const world = recordedWorld();
      world.policies = [frontendOnly()];
      world.agentPods = [...proxiesOnly(world), ...flannelOn(['node-1', 'node-2'])];
      return { world, spec: { ...toService, expect: 'Blocked' }, outputs: [probe(recordedDoc('svc-healthy'))] };
    },
    [Cause.EgressBlocked]: () => {
      const world = recordedWorld();
      world.policies = [buildNetworkPolicy('egress-dns-only', NS, { podSelector: {}, policyTypes: ['Egress'], egress: [egressRule({ to: [peer.podsInNamespaces({ 'k8s-app': 'kube-dns' }, { 'kubernetes.io/metadata.name': 'kube-system' })], ports: [policyPort.udp(53), policyPort.tcp(53)] })] })];
      const resolv = recordedDoc('svc-healthy').resolv!;
      const dns = simulateLookup('api.partner.example', resolv, { 'api.partner.example.': { result: 'NOERROR', answers: ['198.51.100.7'], ms: 20 } });
      const doc = recordedDoc('svc-dropped', { target: { host: 'api.partner.example', port: 443 }, dns, connect: connectResult('198.51.100.7', 443, 'timeout'), endpoints: undefined, mtu: undefined });
      return { world, spec: { source: { pod: 'web' }, destination: { host: 'api.partner.example', port: 443 } }, outputs: [probe(doc)] };
    },
  };
}

function nodeScenarios(): Record<string, () => Scenario> {
  return {
    [Cause.IPForwardingDisabled]: () => ({ world: recordedWorld('node-2'), outputs: [probe(recordedDoc('svc-dropped')), probe(recordedDoc('node-ipforward-off'), 'node-1', 1)] }),
    [Cause.ServiceProxyMissing]: () => ({ world: recordedWorld(), outputs: [probe(recordedDoc('svc-clusterip-dropped'))] }),
    [Cause.OverlayBroken]: () => ({ world: clusterWorld(), outputs: [probe(recordedDoc('svc-dropped', { endpoints: endpointsSection([{ ip: NEAR, port: 8080, status: 'ok', ms: 1 }, { ip: FAR, port: 8080, status: 'timeout' }]) }))] }),
    [Cause.MTUMismatch]: () => ({ world: recordedWorld(), spec: { source: { pod: 'web' }, destination: { pod: 'backend-7d9f-abcde', port: 8080 }, protocol: 'HTTP' }, outputs: [probe(recordedDoc('pod-mtu-blackhole'))], evidence: { service: undefined, endpointSlices: undefined } }),
    [Cause.OverlaySourceAddressMismatch]: () => {
      const world = clusterWorld();
      world.nodes.push(buildNode('node-3', { internalIP: '10.153.204.15', podCIDR: '10.244.3.0/24', annotations: { 'flannel.alpha.coreos.com/public-ip': '10.153.204.228' } }));
      world.agentPods = [...proxiesOnly(world), ...flannelOn(['node-1', 'node-2', 'node-3'])];
      const web3 = buildPod('web-7f9c-node3', { namespace: NS, labels: { app: 'web' }, ip: '10.244.3.14', nodeName: 'node-3' });
      const ok = recordedDoc('svc-healthy', { endpoints: endpointsSection([{ ip: NEAR, port: 8080, status: 'ok', ms: 1 }, { ip: FAR, port: 8080, status: 'ok', ms: 1 }]) });
      const lost = recordedDoc('svc-dropped', { endpoints: endpointsSection([{ ip: NEAR, port: 8080, status: 'timeout' }, { ip: FAR, port: 8080, status: 'timeout' }]) });
      world.otherPods = [web3];
      return { world, spec: { ...toService, source: { podSelector: { matchLabels: { app: 'web' } }, spread: 'EveryNode' } }, outputs: [probe(ok), probe(lost, 'node-3', 1)], evidence: { sourcePods: fetchedOk([world.web, web3]) } };
    },
  };
}

function edgeScenarios(): Record<string, () => Scenario> {
  return {
    [Cause.LoadBalancerPending]: () => {
      const world = recordedWorld();
      world.service = buildService('backend', NS, { type: 'LoadBalancer', selector: { app: 'backend' }, clusterIP: WORLD.clusterIP, ports: [servicePort(8080, 'http', { name: 'http', nodePort: 31080 })] });
      return { world, outputs: [probe(recordedDoc('svc-healthy'))] };
    },
    [Cause.IngressControllerUnavailable]: () => {
      const world = recordedWorld();
      world.ingresses = [buildIngress('shop', NS, { host: 'shop.example.com', service: 'backend', port: 8080, className: 'nginx' })];
      world.ingressControllers = [buildPod('ingress-nginx-controller-5b4d-xk2', { namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' }, ready: false, waitingReason: 'CrashLoopBackOff', restartCount: 12, nodeName: 'node-2', ip: '10.244.2.40' })];
      const resolv = recordedDoc('svc-healthy').resolv!;
      const dns = simulateLookup('shop.example.com', resolv, { 'shop.example.com.': { result: 'NOERROR', answers: ['203.0.113.10'], ms: 18 } });
      const doc = recordedDoc('svc-refused', { proto: 'HTTP', target: { host: 'shop.example.com', port: 80 }, dns, connect: connectResult('203.0.113.10', 80, 'refused'), http: httpResult('http://shop.example.com:80/', 'refused', null, { curlExit: 7, err: 'Failed to connect to shop.example.com port 80: Connection refused' }), endpoints: undefined, mtu: undefined });
      return { world, spec: { source: { pod: 'web' }, destination: { host: 'shop.example.com' }, protocol: 'HTTP' }, outputs: [probe(doc)] };
    },
    [Cause.SourceNotReady]: () => {
      const world = recordedWorld();
      const stopped = buildPod('web', { namespace: NS, labels: { app: 'web' }, ip: WORLD.sourceIP, nodeName: 'node-1', phase: 'Failed' });
      return { world, outputs: [probe(recordedDoc('svc-healthy'))], evidence: { sourcePods: fetchedOk([stopped]) } };
    },
    [Cause.ProbeFailed]: () => ({ world: recordedWorld(), outputs: [probe(probeDoc({ status: 'invalidInput', proto: 'TCP', target: {}, errors: [{ code: 'MissingParameter', param: 'NETCHECK_PORT', msg: 'protocol TCP needs NETCHECK_PORT' }] }))] }),
  };
}

/** The scenarios by cause: every catalogue cause has one. */
export const CAUSE_SCENARIOS: Record<string, () => Scenario> = { ...endpointsScenarios(), ...dnsScenarios(), ...policyScenarios(), ...nodeScenarios(), ...edgeScenarios() };

/** The finished check of a cause's scenario, with the status the real reconciler wrote. */
export async function checkForCause(cause: string): Promise<NetworkCheck> {
  const scenario = CAUSE_SCENARIOS[cause];
  if (!scenario) throw new Error(`no scenario for ${cause}`);
  const { world, spec, outputs, evidence } = scenario();
  return finishedCheck({ world, spec: spec ?? toService, outputs, ...(evidence ? { evidence } : {}) });
}
