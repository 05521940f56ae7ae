// Table tests for the NetworkPolicy evaluator. The checklist is the Kubernetes NetworkPolicy documentation
// and the upstream e2e suite (kubernetes/test/e2e/network/netpol/network_policy.go); rows carry the
// upstream test name. The e2e model is rebuilt here: namespaces x, y, z with pods a, b, c each, every pod
// serving ports 80 and 81 over TCP, UDP and SCTP with container ports named serve-<port>-<protocol>.
// Every row asserts allowed/denied AND, for each direction, who decided: 'open' (no policy selects the
// pod), 'n/a' (that side is not a pod), 'allow <policy> <direction> rule #<n>', or 'deny <policies>'.
import { expect } from 'chai';
import type { V1Container, V1Namespace, V1NetworkPolicy, V1Pod } from '@kubernetes/client-node';
import { evaluateDnsEgress } from '../../operator/diagnosis/netpol/dns.ts';
import { evaluateFlow } from '../../operator/diagnosis/netpol/evaluate.ts';
import { cidrContains, ipBlockContains, parseCIDR, parseIP } from '../../operator/diagnosis/netpol/ip.ts';
import {
  effectivePolicyTypes,
  externalEndpoint,
  podEndpoint,
  policiesSelectingPod,
  policySelectsPod,
  type DirectionVerdict,
  type EvaluationOptions,
  type FlowEndpoint,
  type L4Protocol,
} from '../../operator/diagnosis/netpol/model.ts';
import { formatPeer, formatPortSpec, portMatches } from '../../operator/diagnosis/netpol/rules.ts';
import {
  buildNamespace,
  buildNetworkPolicy,
  buildPod,
  containerPort,
  egressRule,
  ingressRule,
  matchExpression,
  matchExpressions,
  matchLabels,
  peer,
  policyPort,
  type LabelMap,
} from '../support/builders.ts';

const NS_NAME = 'kubernetes.io/metadata.name';
const E2E_PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

/** One container per port/protocol, as the e2e agnhost pods have. */
function e2eContainers(): V1Container[] {
  return [80, 81].flatMap((port) =>
    E2E_PROTOCOLS.map((protocol) => ({
      name: `cont-${port}-${protocol.toLowerCase()}`,
      image: 'registry.k8s.io/e2e-test-images/agnhost:2.47',
      ports: [containerPort(port, `serve-${port}-${protocol.toLowerCase()}`, protocol)],
    })),
  );
}

interface WorldOverrides {
  readonly podLabels?: Record<string, LabelMap>;
  readonly namespaceLabels?: Record<string, LabelMap>;
}

/** The e2e model plus the documentation's namespaces (default, myproject, alice, bob). */
function buildWorld(overrides: WorldOverrides = {}): { pods: Map<string, V1Pod>; namespaces: V1Namespace[] } {
  const pods = new Map<string, V1Pod>();
  const namespaces: V1Namespace[] = [];
  const addNamespace = (name: string, labels: LabelMap = {}): void => {
    namespaces.push(buildNamespace(name, { ...labels, ...(overrides.namespaceLabels?.[name] ?? {}) }));
  };
  const addPod = (key: string, ip: string, labels: LabelMap, containers: V1Container[] = e2eContainers(), hostNetwork = false): void => {
    const [namespace, name] = key.split('/');
    pods.set(key, buildPod(name, { namespace, ip, labels: overrides.podLabels?.[key] ?? labels, containers, hostNetwork }));
  };
  ['x', 'y', 'z'].forEach((ns, nsIndex) => {
    addNamespace(ns, { ns });
    ['a', 'b', 'c'].forEach((pod, podIndex) => addPod(`${ns}/${pod}`, `10.244.${nsIndex + 1}.${podIndex + 10}`, { pod }));
  });
  // Documentation examples.
  addNamespace('default');
  addNamespace('myproject', { project: 'myproject' });
  addNamespace('alice', { user: 'alice' });
  addNamespace('bob', { user: 'bob' });
  addNamespace('kube-system');
  const web = [{ name: 'web', ports: [containerPort(8080, 'http'), containerPort(6379, 'redis'), containerPort(5432, 'postgres')] }];
  addPod('default/db', '10.244.4.10', { role: 'db' }, web);
  addPod('default/frontend', '10.244.4.11', { role: 'frontend' }, web);
  addPod('default/client', '10.244.4.12', { role: 'client' }, web);
  addPod('myproject/client', '10.244.5.10', { role: 'client' }, web);
  addPod('alice/client', '10.244.6.10', { role: 'client' }, web);
  addPod('alice/other', '10.244.6.11', { role: 'other' }, web);
  addPod('bob/client', '10.244.7.10', { role: 'client' }, web);
  addPod('default/web-9090', '10.244.4.20', { app: 'web' }, [{ name: 'web', ports: [containerPort(9090, 'http')] }]);
  addPod('default/v6', 'fd00:10:244::10', { app: 'v6' }, web);
  addPod('kube-system/agent', '172.18.0.2', { app: 'agent' }, web, true);
  return { pods, namespaces };
}

const P = buildNetworkPolicy;
/** Upstream's SetSpecEgressRules also sets policyTypes: [Egress]; without it the policy would isolate ingress too. */
const egressOnly = (name: string, namespace: string, spec: Parameters<typeof buildNetworkPolicy>[2] = {}): V1NetworkPolicy =>
  buildNetworkPolicy(name, namespace, { ...spec, policyTypes: ['Egress'] });
const ir = ingressRule;
const er = egressRule;
const port = policyPort;
const nsName = (name: string): LabelMap => ({ [NS_NAME]: name });

type Expectation = 'open' | 'n/a' | `allow ${string}` | `deny ${string}`;

interface Row {
  readonly name: string;
  readonly policies: readonly V1NetworkPolicy[];
  /** "ns/pod" or an IP address (external). */
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol?: L4Protocol;
  readonly allowed: boolean;
  readonly egress: Expectation;
  readonly ingress: Expectation;
  readonly world?: WorldOverrides;
  readonly options?: EvaluationOptions;
}

function endpointFor(key: string, pods: Map<string, V1Pod>, namespaces: V1Namespace[]): FlowEndpoint {
  const pod = pods.get(key);
  if (!pod) {
    if (parseIP(key) === undefined) throw new Error(`test bug: ${key} is neither a pod nor an IP`);
    return externalEndpoint(key);
  }
  return podEndpoint(pod, namespaces.find((namespace) => namespace.metadata?.name === pod.metadata?.namespace));
}

function assertDirection(verdict: DirectionVerdict, expected: Expectation): void {
  const label = `${verdict.direction}: ${verdict.message}`;
  if (expected === 'n/a') {
    expect(verdict.applies, label).to.equal(false);
    expect(verdict.allowed, label).to.equal(true);
  } else if (expected === 'open') {
    expect(verdict.applies, label).to.equal(true);
    expect(verdict.isolated, label).to.equal(false);
    expect(verdict.allowed, label).to.equal(true);
    expect(verdict.selectingPolicies, label).to.deep.equal([]);
  } else if (expected.startsWith('allow ')) {
    expect(verdict.isolated, label).to.equal(true);
    expect(verdict.allowed, label).to.equal(true);
    expect(verdict.allowedBy?.description, label).to.equal(expected.slice('allow '.length));
    expect(verdict.message, label).to.include(expected.slice('allow '.length));
    expect(verdict.defaultDenyPolicies, label).to.deep.equal([]);
  } else {
    const names = expected.slice('deny '.length).split(',');
    expect(verdict.isolated, label).to.equal(true);
    expect(verdict.allowed, label).to.equal(false);
    expect(verdict.allowedBy, label).to.equal(undefined);
    expect(verdict.defaultDenyPolicies.map((ref) => ref.name), label).to.deep.equal(names);
    for (const name of names) expect(verdict.message, label).to.include(name);
  }
}

// Policies reused by several rows ------------------------------------------------------------------

const denyIngressX = P('deny-ingress', 'x', { policyTypes: ['Ingress'] });
const denyAllX = P('deny-all', 'x', { policyTypes: ['Ingress', 'Egress'] });
const xaAllowsXb = P('x-a-allows-x-b', 'x', { podSelector: matchLabels({ pod: 'a' }), policyTypes: ['Ingress'], ingress: [ir({ from: [peer.pods({ pod: 'b' })] })] });
const allowAllToA = P('allow-all-to-a', 'x', {
  podSelector: matchLabels({ pod: 'a' }),
  policyTypes: ['Ingress'],
  ingress: [ir({ from: [peer.podsInNamespaces({}, {})] })],
});
const allowFromAllNamespaces = P('allow-from-another-ns', 'x', { podSelector: matchLabels({ pod: 'a' }), ingress: [ir({ from: [peer.namespaces({})] })] });
const allowNsY = P('allow-client-a-via-ns-selector', 'x', { podSelector: matchLabels({ pod: 'a' }), ingress: [ir({ from: [peer.namespaces(nsName('y'))] })] });
const podInB = P('x-a-allows-x-b', 'x', { podSelector: matchLabels({ pod: 'a' }), ingress: [ir({ from: [peer.pods(matchExpressions(matchExpression('pod', 'In', ['b'])))] })] });
const nsInY = P('allow-ns-y-match-selector', 'x', {
  podSelector: matchLabels({ pod: 'a' }),
  ingress: [ir({ from: [peer.namespaces(matchExpressions(matchExpression(NS_NAME, 'In', ['y'])))] })],
});
const notX = matchExpressions(matchExpression(NS_NAME, 'NotIn', ['x']));
const podOrNamespace = P('allow-ns-y-match-selector', 'x', {
  podSelector: matchLabels({ pod: 'a' }),
  ingress: [ir({ from: [peer.namespaces(notX), peer.pods({ pod: 'b' })] })],
});
const podAndNamespace = P('allow-ns-y-podselector-and-nsselector', 'x', {
  podSelector: matchLabels({ pod: 'a' }),
  ingress: [ir({ from: [peer.podsInNamespaces({ pod: 'b' }, notX)] })],
});
const multiplePodAndNamespace = P('allow-ns-y-z-pod-b-c', 'x', {
  podSelector: matchLabels({ pod: 'a' }),
  ingress: [ir({ from: [peer.podsInNamespaces(matchExpressions(matchExpression('pod', 'In', ['b', 'c'])), notX)] })],
});
const anyPodSelectors = P('allow-ns-x-pod-b-c', 'x', { podSelector: matchLabels({ pod: 'a' }), ingress: [ir({ from: [peer.pods({ pod: 'b' }), peer.pods({ pod: 'c' })] })] });
const onlyYa = P('allow-ns-y-pod-a-via-namespace-pod-selector', 'x', {
  podSelector: matchLabels({ pod: 'a' }),
  ingress: [ir({ from: [peer.podsInNamespaces({ pod: 'a' }, nsName('y'))] })],
});
const port81FromY = (protocol: L4Protocol = 'TCP', name = 'allow-client-a-via-ns-selector'): V1NetworkPolicy =>
  P(name, 'x', { podSelector: matchLabels({ pod: 'a' }), ingress: [ir({ from: [peer.namespaces(nsName('y'))], ports: [{ port: 81, protocol }] })] });
const port80FromY = P('allow-client-a-via-ns-selector-80', 'x', {
  podSelector: matchLabels({ pod: 'a' }),
  ingress: [ir({ from: [peer.namespaces(nsName('y'))], ports: [port.tcp(80)] })],
});
const allowAllX = P('allow-all', 'x', { ingress: [ir()] });
const namedPort81 = P('allow-all', 'x', { ingress: [ir({ ports: [port.port('serve-81-tcp')] })] });
const namedPort80FromY = P('allow-client-a-via-ns-selector-80', 'x', {
  podSelector: matchLabels({ pod: 'a' }),
  ingress: [ir({ from: [peer.namespaces(nsName('y'))], ports: [port.tcp('serve-80-tcp')] })],
});
const egressNamedPort80 = egressOnly('allow-egress', 'x', { egress: [er({ ports: [port.port('serve-80-tcp')] })] });
const mutateBefore = P('allow-all-mutate-to-deny-all', 'x', { ingress: [ir()] });
const mutateAfter = P('allow-all-mutate-to-deny-all', 'x', { policyTypes: ['Ingress'], ingress: [] });
const fromUpdatedNamespace = P('allow-client-a-via-ns-selector', 'x', { podSelector: matchLabels({ pod: 'a' }), ingress: [ir({ from: [peer.namespaces({ ns2: 'updated' })] })] });
const fromUpdatedPod = P('allow-client-a-via-pod-selector', 'x', { podSelector: matchLabels({ pod: 'a' }), ingress: [ir({ from: [peer.pods({ pod: 'b', pod2: 'updated' })] })] });
const denyFromOtherNamespaces = P('deny-empty-policy', 'x', { ingress: [ir({ from: [peer.pods({})] })] });
const denyToUpdatedPod = P('deny-ingress-via-label-selector', 'x', { podSelector: matchLabels({ target: 'isolated' }), policyTypes: ['Ingress'] });
const denyEgressPodA = P('deny-egress-pod-a', 'x', { podSelector: matchLabels({ pod: 'a' }), policyTypes: ['Egress'] });
const denyEgressNsX = P('deny-egress-ns-x', 'x', { policyTypes: ['Egress'] });
const ingressAndEgress = P('allow-client-a-via-pod-selector', 'x', {
  podSelector: matchLabels({ pod: 'a' }),
  policyTypes: ['Egress', 'Ingress'],
  ingress: [ir({ from: [peer.pods({ pod: 'b' })] })],
  egress: [er({ ports: [port.port(80)] })],
});
const egressToYa = egressOnly('allow-to-ns-y-pod-a', 'x', { podSelector: matchLabels({ pod: 'a' }), egress: [er({ to: [peer.podsInNamespaces({ pod: 'a' }, nsName('y'))] })] });
const ingressFromXa = (name: string, target: string): V1NetworkPolicy =>
  P(name, 'y', { podSelector: matchLabels({ pod: target }), ingress: [ir({ from: [peer.podsInNamespaces({ pod: 'a' }, nsName('x'))] })] });
const byProtocol = P('allow-ingress-by-proto', 'x', { podSelector: matchLabels({ pod: 'a' }), ingress: [ir({ ports: [{ protocol: 'TCP' }] })] });
const ingressPort80 = P('allow-ingress-port-80', 'x', { ingress: [ir({ ports: [port.port(80)] })] });
const ingressAllowAll = P('allow-ingress', 'x', { ingress: [ir()] });
const egressPort80 = egressOnly('allow-egress-port-80', 'x', { egress: [er({ ports: [port.port(80)] })] });
const egressAllowAll = egressOnly('allow-egress', 'x', { egress: [er()] });
const cidrToYb = egressOnly('allow-client-a-via-cidr-egress-rule', 'x', { podSelector: matchLabels({ pod: 'a' }), egress: [er({ to: [peer.ipBlock('10.244.2.11/32')] })] });
const cidrExceptXb = egressOnly('allow-client-a-via-cidr-egress-rule', 'x', {
  podSelector: matchLabels({ pod: 'a' }),
  egress: [er({ to: [peer.ipBlock('0.0.0.0/4', ['10.244.1.11/32'])] })],
});
const cidrOnlyXb = (name: string): V1NetworkPolicy =>
  egressOnly(name, 'x', { podSelector: matchLabels({ pod: 'a' }), egress: [er({ to: [peer.ipBlock('10.244.1.11/32')] })] });
const allowEgressForTarget = egressOnly('allow-egress-for-target', 'x', { podSelector: matchLabels({ pod: 'a' }), egress: [er()] });
const denyIngressForTarget = P('deny-ingress-via-label-selector', 'x', { podSelector: matchLabels({ pod: 'a' }), policyTypes: ['Ingress'] });
const sctpOnly81 = P('allow-only-sctp-ingress-on-port-81', 'x', { podSelector: matchLabels({ pod: 'a' }), ingress: [ir({ ports: [port.sctp(81)] })] });
const sctpOnly80 = P('allow-only-sctp-ingress-on-port-80', 'x', { podSelector: matchLabels({ pod: 'a' }), ingress: [ir({ ports: [port.sctp(80)] })] });
const udpOnly81 = P('allow-only-udp-ingress-on-port-81', 'x', { podSelector: matchLabels({ pod: 'a' }), ingress: [ir({ ports: [port.udp(81)] })] });
const egressNotY = egressOnly('allow-ns-y-match-selector-for-immutable-ns-label', 'x', {
  podSelector: matchLabels({ pod: 'a' }),
  egress: [er({ to: [peer.namespaces(matchExpressions(matchExpression(NS_NAME, 'NotIn', ['y'])))] })],
});

// Documentation examples.
const docsTestPolicy = P('test-network-policy', 'default', {
  podSelector: matchLabels({ role: 'db' }),
  policyTypes: ['Ingress', 'Egress'],
  ingress: [
    ir({
      from: [peer.ipBlock('172.17.0.0/16', ['172.17.1.0/24']), peer.namespaces({ project: 'myproject' }), peer.pods({ role: 'frontend' })],
      ports: [port.tcp(6379)],
    }),
  ],
  egress: [er({ to: [peer.ipBlock('10.0.0.0/24')], ports: [port.tcp(5978)] })],
});
const docsAnd = P('alice-clients-and', 'default', { podSelector: matchLabels({ role: 'db' }), ingress: [ir({ from: [peer.podsInNamespaces({ role: 'client' }, { user: 'alice' })] })] });
const docsOr = P('alice-or-clients', 'default', { podSelector: matchLabels({ role: 'db' }), ingress: [ir({ from: [peer.namespaces({ user: 'alice' }), peer.pods({ role: 'client' })] })] });
const docsDefaultDenyIngress = P('default-deny-ingress', 'default', { policyTypes: ['Ingress'] });
const docsAllowAllIngress = P('allow-all-ingress', 'default', { policyTypes: ['Ingress'], ingress: [ir()] });
const docsDefaultDenyEgress = P('default-deny-egress', 'default', { policyTypes: ['Egress'] });
const docsAllowAllEgress = P('allow-all-egress', 'default', { policyTypes: ['Egress'], egress: [er()] });
const docsEndPort = P('multi-port-egress', 'default', {
  podSelector: matchLabels({ role: 'db' }),
  policyTypes: ['Egress'],
  egress: [er({ to: [peer.ipBlock('10.0.0.0/24')], ports: [port.tcp(32000, 32768)] })],
});

const rows: Row[] = [
  // --- e2e: should support a 'default-deny-ingress' policy (TCP, UDP, SCTP variants)
  { name: "default-deny-ingress: y/a -> x/a", policies: [denyIngressX], from: 'y/a', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny deny-ingress' },
  { name: "default-deny-ingress: x/b -> x/a within the namespace", policies: [denyIngressX], from: 'x/b', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny deny-ingress' },
  { name: "default-deny-ingress: x/a -> y/a is unaffected", policies: [denyIngressX], from: 'x/a', to: 'y/a', port: 80, allowed: true, egress: 'open', ingress: 'open' },
  { name: "default-deny-ingress (UDP): y/a -> x/b", policies: [denyIngressX], from: 'y/a', to: 'x/b', port: 80, protocol: 'UDP', allowed: false, egress: 'open', ingress: 'deny deny-ingress' },
  { name: "default-deny-ingress (SCTP): y/b -> x/c", policies: [denyIngressX], from: 'y/b', to: 'x/c', port: 80, protocol: 'SCTP', allowed: false, egress: 'open', ingress: 'deny deny-ingress' },
  // --- e2e: should support a 'default-deny-all' policy
  { name: 'default-deny-all: x/a -> x/b denied on both sides', policies: [denyAllX], from: 'x/a', to: 'x/b', port: 80, allowed: false, egress: 'deny deny-all', ingress: 'deny deny-all' },
  { name: 'default-deny-all: y/a -> x/a denied at ingress', policies: [denyAllX], from: 'y/a', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny deny-all' },
  { name: 'default-deny-all: x/a -> y/a denied at egress', policies: [denyAllX], from: 'x/a', to: 'y/a', port: 80, allowed: false, egress: 'deny deny-all', ingress: 'open' },
  // --- e2e: should enforce policy to allow traffic from pods within server namespace based on PodSelector
  { name: 'PodSelector within server namespace: x/b -> x/a allowed', policies: [xaAllowsXb], from: 'x/b', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow x-a-allows-x-b ingress rule #0' },
  { name: 'PodSelector within server namespace: x/c -> x/a denied', policies: [xaAllowsXb], from: 'x/c', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny x-a-allows-x-b' },
  { name: 'PodSelector within server namespace: y/b -> x/a denied (podSelector alone = same namespace)', policies: [xaAllowsXb], from: 'y/b', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny x-a-allows-x-b' },
  { name: 'PodSelector within server namespace: x/b -> x/c unaffected', policies: [xaAllowsXb], from: 'x/b', to: 'x/c', port: 80, allowed: true, egress: 'open', ingress: 'open' },
  // --- e2e: should enforce policy to allow ingress traffic for a target
  { name: 'ingress for a target: y/a -> x/a allowed despite deny-all', policies: [denyIngressX, allowAllToA], from: 'y/a', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow allow-all-to-a ingress rule #0' },
  { name: 'ingress for a target: y/a -> x/b denied', policies: [denyIngressX, allowAllToA], from: 'y/a', to: 'x/b', port: 80, allowed: false, egress: 'open', ingress: 'deny deny-ingress' },
  // --- e2e: should enforce policy to allow ingress traffic from pods in all namespaces
  { name: 'from pods in all namespaces: z/a -> x/a', policies: [allowFromAllNamespaces], from: 'z/a', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow allow-from-another-ns ingress rule #0' },
  { name: 'from pods in all namespaces: external IP is not a pod -> denied', policies: [allowFromAllNamespaces], from: '198.51.100.7', to: 'x/a', port: 80, allowed: false, egress: 'n/a', ingress: 'deny allow-from-another-ns' },
  // --- e2e: should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector
  { name: 'only from a different namespace: y/a -> x/a', policies: [allowNsY], from: 'y/a', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow allow-client-a-via-ns-selector ingress rule #0' },
  { name: 'only from a different namespace: x/b -> x/a denied', policies: [allowNsY], from: 'x/b', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-client-a-via-ns-selector' },
  { name: 'only from a different namespace: z/a -> x/a denied', policies: [allowNsY], from: 'z/a', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-client-a-via-ns-selector' },
  // --- e2e: should enforce policy based on PodSelector with MatchExpressions
  { name: 'PodSelector MatchExpressions: x/b -> x/a', policies: [podInB], from: 'x/b', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow x-a-allows-x-b ingress rule #0' },
  { name: 'PodSelector MatchExpressions: y/a -> x/a denied', policies: [podInB], from: 'y/a', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny x-a-allows-x-b' },
  // --- e2e: should enforce policy based on NamespaceSelector with MatchExpressions
  { name: 'NamespaceSelector MatchExpressions: y/b -> x/a', policies: [nsInY], from: 'y/b', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow allow-ns-y-match-selector ingress rule #0' },
  { name: 'NamespaceSelector MatchExpressions: z/a -> x/a denied', policies: [nsInY], from: 'z/a', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-ns-y-match-selector' },
  // --- e2e: should enforce policy based on PodSelector or NamespaceSelector (two peers = OR)
  { name: 'PodSelector OR NamespaceSelector: x/b -> x/a via the pod peer', policies: [podOrNamespace], from: 'x/b', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow allow-ns-y-match-selector ingress rule #0' },
  { name: 'PodSelector OR NamespaceSelector: y/c -> x/a via the namespace peer', policies: [podOrNamespace], from: 'y/c', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow allow-ns-y-match-selector ingress rule #0' },
  { name: 'PodSelector OR NamespaceSelector: x/c -> x/a denied', policies: [podOrNamespace], from: 'x/c', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-ns-y-match-selector' },
  // --- e2e: should enforce policy based on PodSelector and NamespaceSelector (one peer = AND)
  { name: 'PodSelector AND NamespaceSelector: y/b -> x/a', policies: [podAndNamespace], from: 'y/b', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow allow-ns-y-podselector-and-nsselector ingress rule #0' },
  { name: 'PodSelector AND NamespaceSelector: z/b -> x/a', policies: [podAndNamespace], from: 'z/b', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow allow-ns-y-podselector-and-nsselector ingress rule #0' },
  { name: 'PodSelector AND NamespaceSelector: x/b denied (pod matches, namespace does not)', policies: [podAndNamespace], from: 'x/b', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-ns-y-podselector-and-nsselector' },
  { name: 'PodSelector AND NamespaceSelector: y/a denied (namespace matches, pod does not)', policies: [podAndNamespace], from: 'y/a', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-ns-y-podselector-and-nsselector' },
  // --- e2e: should enforce policy based on Multiple PodSelectors and NamespaceSelectors
  { name: 'Multiple PodSelectors and NamespaceSelectors: y/c -> x/a', policies: [multiplePodAndNamespace], from: 'y/c', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow allow-ns-y-z-pod-b-c ingress rule #0' },
  { name: 'Multiple PodSelectors and NamespaceSelectors: y/a -> x/a denied', policies: [multiplePodAndNamespace], from: 'y/a', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-ns-y-z-pod-b-c' },
  { name: 'Multiple PodSelectors and NamespaceSelectors: x/b -> x/a denied', policies: [multiplePodAndNamespace], from: 'x/b', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-ns-y-z-pod-b-c' },
  // --- e2e: should enforce policy based on any PodSelectors
  { name: 'any PodSelectors: x/c -> x/a', policies: [anyPodSelectors], from: 'x/c', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow allow-ns-x-pod-b-c ingress rule #0' },
  { name: 'any PodSelectors: y/b -> x/a denied', policies: [anyPodSelectors], from: 'y/b', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-ns-x-pod-b-c' },
  // --- e2e: should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector
  { name: 'only y/a via pod+namespace selector: y/a -> x/a', policies: [onlyYa], from: 'y/a', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow allow-ns-y-pod-a-via-namespace-pod-selector ingress rule #0' },
  { name: 'only y/a via pod+namespace selector: y/b -> x/a denied', policies: [onlyYa], from: 'y/b', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-ns-y-pod-a-via-namespace-pod-selector' },
  { name: 'only y/a via pod+namespace selector: z/a -> x/a denied', policies: [onlyYa], from: 'z/a', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-ns-y-pod-a-via-namespace-pod-selector' },
  { name: 'only y/a via pod+namespace selector (UDP): y/a -> x/a', policies: [onlyYa], from: 'y/a', to: 'x/a', port: 80, protocol: 'UDP', allowed: true, egress: 'open', ingress: 'allow allow-ns-y-pod-a-via-namespace-pod-selector ingress rule #0' },
  // --- e2e: should enforce policy based on Ports (TCP, UDP, SCTP)
  { name: 'Ports: y/a -> x/a:81/TCP allowed', policies: [port81FromY()], from: 'y/a', to: 'x/a', port: 81, allowed: true, egress: 'open', ingress: 'allow allow-client-a-via-ns-selector ingress rule #0' },
  { name: 'Ports: y/a -> x/a:80/TCP denied', policies: [port81FromY()], from: 'y/a', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-client-a-via-ns-selector' },
  { name: 'Ports: x/b -> x/a:81/TCP denied', policies: [port81FromY()], from: 'x/b', to: 'x/a', port: 81, allowed: false, egress: 'open', ingress: 'deny allow-client-a-via-ns-selector' },
  { name: 'Ports (UDP): y/a -> x/a:81/UDP', policies: [port81FromY('UDP', 'allow-ingress-on-port-81-ns-x')], from: 'y/a', to: 'x/a', port: 81, protocol: 'UDP', allowed: true, egress: 'open', ingress: 'allow allow-ingress-on-port-81-ns-x ingress rule #0' },
  { name: 'Ports (SCTP): y/a -> x/a:81/SCTP', policies: [port81FromY('SCTP', 'allow-ingress-on-port-81-ns-x')], from: 'y/a', to: 'x/a', port: 81, protocol: 'SCTP', allowed: true, egress: 'open', ingress: 'allow allow-ingress-on-port-81-ns-x ingress rule #0' },
  { name: 'Ports (SCTP): z/a -> x/a:81/SCTP denied', policies: [port81FromY('SCTP', 'allow-ingress-on-port-81-ns-x')], from: 'z/a', to: 'x/a', port: 81, protocol: 'SCTP', allowed: false, egress: 'open', ingress: 'deny allow-ingress-on-port-81-ns-x' },
  // --- e2e: should enforce multiple, stacked policies with overlapping podSelectors
  { name: 'stacked policies, before port 80 policy: y/a -> x/a:80 denied', policies: [port81FromY()], from: 'y/a', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-client-a-via-ns-selector' },
  { name: 'stacked policies: y/a -> x/a:80 allowed by the added policy', policies: [port81FromY(), port80FromY], from: 'y/a', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow allow-client-a-via-ns-selector-80 ingress rule #0' },
  { name: 'stacked policies: y/a -> x/a:81 still allowed by the first', policies: [port81FromY(), port80FromY], from: 'y/a', to: 'x/a', port: 81, allowed: true, egress: 'open', ingress: 'allow allow-client-a-via-ns-selector ingress rule #0' },
  { name: 'stacked policies: z/a -> x/a:80 denied by both', policies: [port80FromY, port81FromY()], from: 'z/a', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-client-a-via-ns-selector,allow-client-a-via-ns-selector-80' },
  // --- e2e: should support allow-all policy
  { name: 'allow-all: y/a -> x/b:81', policies: [allowAllX], from: 'y/a', to: 'x/b', port: 81, allowed: true, egress: 'open', ingress: 'allow allow-all ingress rule #0' },
  // --- e2e: should allow ingress access on one named port
  { name: 'named port serve-81-tcp: y/a -> x/a:81', policies: [namedPort81], from: 'y/a', to: 'x/a', port: 81, allowed: true, egress: 'open', ingress: 'allow allow-all ingress rule #0' },
  { name: 'named port serve-81-tcp: y/a -> x/a:80 denied', policies: [namedPort81], from: 'y/a', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-all' },
  { name: 'named port serve-81-tcp is TCP: y/a -> x/a:81/UDP denied', policies: [namedPort81], from: 'y/a', to: 'x/a', port: 81, protocol: 'UDP', allowed: false, egress: 'open', ingress: 'deny allow-all' },
  // --- e2e: should allow ingress access from namespace on one named port
  { name: 'namespace on named port: y/a -> x/a:80', policies: [namedPort80FromY], from: 'y/a', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow allow-client-a-via-ns-selector-80 ingress rule #0' },
  { name: 'namespace on named port: y/a -> x/a:81 denied', policies: [namedPort80FromY], from: 'y/a', to: 'x/a', port: 81, allowed: false, egress: 'open', ingress: 'deny allow-client-a-via-ns-selector-80' },
  { name: 'namespace on named port: z/a -> x/a:80 denied', policies: [namedPort80FromY], from: 'z/a', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-client-a-via-ns-selector-80' },
  // --- e2e: should allow egress access on one named port
  { name: 'egress named port: x/a -> y/a:80', policies: [egressNamedPort80], from: 'x/a', to: 'y/a', port: 80, allowed: true, egress: 'allow allow-egress egress rule #0', ingress: 'open' },
  { name: 'egress named port: x/a -> y/a:81 denied', policies: [egressNamedPort80], from: 'x/a', to: 'y/a', port: 81, allowed: false, egress: 'deny allow-egress', ingress: 'open' },
  { name: 'egress named port cannot match an external address', policies: [egressNamedPort80], from: 'x/a', to: '203.0.113.10', port: 80, allowed: false, egress: 'deny allow-egress', ingress: 'n/a' },
  // --- e2e: should enforce updated policy
  { name: 'updated policy, before (allow all): y/a -> x/a:81', policies: [mutateBefore], from: 'y/a', to: 'x/a', port: 81, allowed: true, egress: 'open', ingress: 'allow allow-all-mutate-to-deny-all ingress rule #0' },
  { name: 'updated policy, after (deny all): y/a -> x/a:81', policies: [mutateAfter], from: 'y/a', to: 'x/a', port: 81, allowed: false, egress: 'open', ingress: 'deny allow-all-mutate-to-deny-all' },
  // --- e2e: should allow ingress access from updated namespace / pod
  { name: 'updated namespace, before the label: y/a -> x/a denied', policies: [fromUpdatedNamespace], from: 'y/a', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-client-a-via-ns-selector' },
  { name: 'updated namespace, after ns2=updated on y: y/a -> x/a', policies: [fromUpdatedNamespace], from: 'y/a', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow allow-client-a-via-ns-selector ingress rule #0', world: { namespaceLabels: { y: { ns2: 'updated' } } } },
  { name: 'updated pod, before the label: x/b -> x/a denied', policies: [fromUpdatedPod], from: 'x/b', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-client-a-via-pod-selector' },
  { name: 'updated pod, after pod2=updated on x/b: x/b -> x/a', policies: [fromUpdatedPod], from: 'x/b', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow allow-client-a-via-pod-selector ingress rule #0', world: { podLabels: { 'x/b': { pod: 'b', pod2: 'updated' } } } },
  // --- e2e: should deny ingress from pods on other namespaces
  { name: 'deny from other namespaces: x/b -> x/a allowed', policies: [denyFromOtherNamespaces], from: 'x/b', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow deny-empty-policy ingress rule #0' },
  { name: 'deny from other namespaces: y/a -> x/a denied', policies: [denyFromOtherNamespaces], from: 'y/a', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny deny-empty-policy' },
  // --- e2e: should deny ingress access to updated pod
  { name: 'updated pod isolation, before target=isolated: y/a -> x/a', policies: [denyToUpdatedPod], from: 'y/a', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'open' },
  { name: 'updated pod isolation, after target=isolated: y/a -> x/a', policies: [denyToUpdatedPod], from: 'y/a', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny deny-ingress-via-label-selector', world: { podLabels: { 'x/a': { pod: 'a', target: 'isolated' } } } },
  // --- e2e: should deny egress from pods based on PodSelector / from all pods in a namespace
  { name: 'deny egress pod a: x/a -> y/a', policies: [denyEgressPodA], from: 'x/a', to: 'y/a', port: 80, allowed: false, egress: 'deny deny-egress-pod-a', ingress: 'open' },
  { name: 'deny egress pod a: x/b -> y/a unaffected', policies: [denyEgressPodA], from: 'x/b', to: 'y/a', port: 80, allowed: true, egress: 'open', ingress: 'open' },
  { name: 'deny egress from all pods in a namespace: x/b -> x/a', policies: [denyEgressNsX], from: 'x/b', to: 'x/a', port: 80, allowed: false, egress: 'deny deny-egress-ns-x', ingress: 'open' },
  { name: 'deny egress from all pods in a namespace: y/a -> x/a unaffected', policies: [denyEgressNsX], from: 'y/a', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'open' },
  // --- e2e: should work with Ingress, Egress specified together
  { name: 'Ingress+Egress together: x/b -> x/a:81 (ingress rule, x/b egress open)', policies: [ingressAndEgress], from: 'x/b', to: 'x/a', port: 81, allowed: true, egress: 'open', ingress: 'allow allow-client-a-via-pod-selector ingress rule #0' },
  { name: 'Ingress+Egress together: x/a -> y/a:80', policies: [ingressAndEgress], from: 'x/a', to: 'y/a', port: 80, allowed: true, egress: 'allow allow-client-a-via-pod-selector egress rule #0', ingress: 'open' },
  { name: 'Ingress+Egress together: x/a -> y/a:81 denied', policies: [ingressAndEgress], from: 'x/a', to: 'y/a', port: 81, allowed: false, egress: 'deny allow-client-a-via-pod-selector', ingress: 'open' },
  { name: 'Ingress+Egress together: x/c -> x/a:80 denied', policies: [ingressAndEgress], from: 'x/c', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-client-a-via-pod-selector' },
  // --- e2e: should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)
  {
    name: 'client-side egress deny: x/a -> y/a allowed on both sides',
    policies: [egressToYa, ingressFromXa('allow-from-xa-on-ya-match-selector', 'a'), ingressFromXa('allow-from-xa-on-yb-match-selector', 'b')],
    from: 'x/a', to: 'y/a', port: 80, allowed: true,
    egress: 'allow allow-to-ns-y-pod-a egress rule #0', ingress: 'allow allow-from-xa-on-ya-match-selector ingress rule #0',
  },
  {
    name: 'client-side egress deny: x/a -> y/b denied by egress although the server allows it',
    policies: [egressToYa, ingressFromXa('allow-from-xa-on-ya-match-selector', 'a'), ingressFromXa('allow-from-xa-on-yb-match-selector', 'b')],
    from: 'x/a', to: 'y/b', port: 80, allowed: false,
    egress: 'deny allow-to-ns-y-pod-a', ingress: 'allow allow-from-xa-on-yb-match-selector ingress rule #0',
  },
  {
    name: 'client-side egress deny: y/c -> y/a denied by the server ingress policy',
    policies: [egressToYa, ingressFromXa('allow-from-xa-on-ya-match-selector', 'a')],
    from: 'y/c', to: 'y/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-from-xa-on-ya-match-selector',
  },
  // --- e2e: should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector
  { name: 'egress to another namespace by pod+ns selector: x/a -> y/a', policies: [egressToYa], from: 'x/a', to: 'y/a', port: 80, allowed: true, egress: 'allow allow-to-ns-y-pod-a egress rule #0', ingress: 'open' },
  { name: 'egress to another namespace by pod+ns selector: x/a -> z/a denied', policies: [egressToYa], from: 'x/a', to: 'z/a', port: 80, allowed: false, egress: 'deny allow-to-ns-y-pod-a', ingress: 'open' },
  // --- e2e: should enforce ingress policy allowing any port traffic to a server on a specific protocol
  { name: 'any port on a protocol: y/a -> x/a:80/TCP', policies: [byProtocol], from: 'y/a', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow allow-ingress-by-proto ingress rule #0' },
  { name: 'any port on a protocol: y/a -> x/a:80/UDP denied', policies: [byProtocol], from: 'y/a', to: 'x/a', port: 80, protocol: 'UDP', allowed: false, egress: 'open', ingress: 'deny allow-ingress-by-proto' },
  // --- e2e: multiple ingress / egress policies with allow-all taking precedence
  { name: 'ingress port 80 only: y/a -> x/a:81 denied', policies: [ingressPort80], from: 'y/a', to: 'x/a', port: 81, allowed: false, egress: 'open', ingress: 'deny allow-ingress-port-80' },
  { name: 'ingress allow-all takes precedence: y/a -> x/a:81', policies: [ingressPort80, ingressAllowAll], from: 'y/a', to: 'x/a', port: 81, allowed: true, egress: 'open', ingress: 'allow allow-ingress ingress rule #0' },
  { name: 'egress port 80 only: x/a -> y/a:81 denied', policies: [egressPort80], from: 'x/a', to: 'y/a', port: 81, allowed: false, egress: 'deny allow-egress-port-80', ingress: 'open' },
  { name: 'egress allow-all takes precedence: x/a -> y/a:81', policies: [egressPort80, egressAllowAll], from: 'x/a', to: 'y/a', port: 81, allowed: true, egress: 'allow allow-egress egress rule #0', ingress: 'open' },
  // --- e2e: should stop enforcing policies after they are deleted
  { name: 'before deletion: x/a -> y/a denied', policies: [denyAllX], from: 'x/a', to: 'y/a', port: 80, allowed: false, egress: 'deny deny-all', ingress: 'open' },
  { name: 'after deletion: x/a -> y/a allowed', policies: [], from: 'x/a', to: 'y/a', port: 80, allowed: true, egress: 'open', ingress: 'open' },
  // --- e2e: should allow egress access to server in CIDR block
  { name: 'egress CIDR block: x/a -> y/b (its /32)', policies: [cidrToYb], from: 'x/a', to: 'y/b', port: 80, allowed: true, egress: 'allow allow-client-a-via-cidr-egress-rule egress rule #0', ingress: 'open' },
  { name: 'egress CIDR block: x/a -> y/a denied', policies: [cidrToYb], from: 'x/a', to: 'y/a', port: 80, allowed: false, egress: 'deny allow-client-a-via-cidr-egress-rule', ingress: 'open' },
  // --- e2e: should enforce except clause while egress access to server in CIDR block
  { name: 'CIDR except: x/a -> x/b (excepted) denied', policies: [cidrExceptXb], from: 'x/a', to: 'x/b', port: 80, allowed: false, egress: 'deny allow-client-a-via-cidr-egress-rule', ingress: 'open' },
  { name: 'CIDR except: x/a -> x/c allowed', policies: [cidrExceptXb], from: 'x/a', to: 'x/c', port: 80, allowed: true, egress: 'allow allow-client-a-via-cidr-egress-rule egress rule #0', ingress: 'open' },
  // --- e2e: should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed
  { name: 'CIDR and except overlap: a second policy allows x/b', policies: [cidrExceptXb, cidrOnlyXb('allow-x-b-cidr')], from: 'x/a', to: 'x/b', port: 80, allowed: true, egress: 'allow allow-x-b-cidr egress rule #0', ingress: 'open' },
  { name: 'CIDR and except overlap (policy updated to the /32): x/a -> x/c denied', policies: [cidrOnlyXb('allow-client-a-via-cidr-egress-rule')], from: 'x/a', to: 'x/c', port: 80, allowed: false, egress: 'deny allow-client-a-via-cidr-egress-rule', ingress: 'open' },
  // --- e2e: should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector
  { name: 'independent ingress/egress: x/a -> x/b allowed', policies: [allowEgressForTarget, denyIngressForTarget], from: 'x/a', to: 'x/b', port: 80, allowed: true, egress: 'allow allow-egress-for-target egress rule #0', ingress: 'open' },
  { name: 'independent ingress/egress: x/b -> x/a denied', policies: [allowEgressForTarget, denyIngressForTarget], from: 'x/b', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny deny-ingress-via-label-selector' },
  // --- e2e: should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP'; should properly isolate pods selected by an SCTP policy
  { name: "SCTP is not TCP: y/a -> x/a:81/TCP denied", policies: [denyIngressX, sctpOnly81], from: 'y/a', to: 'x/a', port: 81, allowed: false, egress: 'open', ingress: 'deny allow-only-sctp-ingress-on-port-81,deny-ingress' },
  { name: "SCTP is not TCP: y/a -> x/a:81/SCTP allowed", policies: [denyIngressX, sctpOnly81], from: 'y/a', to: 'x/a', port: 81, protocol: 'SCTP', allowed: true, egress: 'open', ingress: 'allow allow-only-sctp-ingress-on-port-81 ingress rule #0' },
  { name: 'an SCTP-only policy isolates for TCP: y/a -> x/a:81/TCP denied', policies: [sctpOnly80], from: 'y/a', to: 'x/a', port: 81, allowed: false, egress: 'open', ingress: 'deny allow-only-sctp-ingress-on-port-80' },
  // --- e2e: should not allow access by TCP when a policy specifies only UDP
  { name: 'UDP-only policy: y/a -> x/a:81/TCP denied', policies: [udpOnly81], from: 'y/a', to: 'x/a', port: 81, allowed: false, egress: 'open', ingress: 'deny allow-only-udp-ingress-on-port-81' },
  { name: 'UDP-only policy: y/a -> x/a:81/UDP allowed', policies: [udpOnly81], from: 'y/a', to: 'x/a', port: 81, protocol: 'UDP', allowed: true, egress: 'open', ingress: 'allow allow-only-udp-ingress-on-port-81 ingress rule #0' },
  // --- e2e: NamespaceSelector with MatchExpressions using default ns label (egress NotIn y)
  { name: 'egress NotIn default ns label: x/a -> y/a denied', policies: [egressNotY], from: 'x/a', to: 'y/a', port: 80, allowed: false, egress: 'deny allow-ns-y-match-selector-for-immutable-ns-label', ingress: 'open' },
  { name: 'egress NotIn default ns label: x/a -> z/a allowed', policies: [egressNotY], from: 'x/a', to: 'z/a', port: 80, allowed: true, egress: 'allow allow-ns-y-match-selector-for-immutable-ns-label egress rule #0', ingress: 'open' },

  // --- docs: the test-network-policy example (ipBlock except, namespaceSelector, podSelector, ports, egress)
  { name: 'docs example: 172.17.0.5 -> db:6379 via ipBlock', policies: [docsTestPolicy], from: '172.17.0.5', to: 'default/db', port: 6379, allowed: true, egress: 'n/a', ingress: 'allow test-network-policy ingress rule #0' },
  { name: 'docs example: 172.17.1.5 -> db:6379 excepted', policies: [docsTestPolicy], from: '172.17.1.5', to: 'default/db', port: 6379, allowed: false, egress: 'n/a', ingress: 'deny test-network-policy' },
  { name: 'docs example: myproject/client -> db:6379 via namespaceSelector', policies: [docsTestPolicy], from: 'myproject/client', to: 'default/db', port: 6379, allowed: true, egress: 'open', ingress: 'allow test-network-policy ingress rule #0' },
  { name: 'docs example: default/frontend -> db:6379 via podSelector', policies: [docsTestPolicy], from: 'default/frontend', to: 'default/db', port: 6379, allowed: true, egress: 'open', ingress: 'allow test-network-policy ingress rule #0' },
  { name: 'docs example: default/frontend -> db:5432 wrong port', policies: [docsTestPolicy], from: 'default/frontend', to: 'default/db', port: 5432, allowed: false, egress: 'open', ingress: 'deny test-network-policy' },
  { name: 'docs example: db -> 10.0.0.9:5978 egress', policies: [docsTestPolicy], from: 'default/db', to: '10.0.0.9', port: 5978, allowed: true, egress: 'allow test-network-policy egress rule #0', ingress: 'n/a' },
  { name: 'docs example: db -> 10.0.1.9:5978 outside the block', policies: [docsTestPolicy], from: 'default/db', to: '10.0.1.9', port: 5978, allowed: false, egress: 'deny test-network-policy', ingress: 'n/a' },
  // --- docs: namespaceSelector and podSelector in one peer (AND) vs two peers (OR)
  { name: 'docs AND: alice/client -> db', policies: [docsAnd], from: 'alice/client', to: 'default/db', port: 6379, allowed: true, egress: 'open', ingress: 'allow alice-clients-and ingress rule #0' },
  { name: 'docs AND: alice/other -> db denied', policies: [docsAnd], from: 'alice/other', to: 'default/db', port: 6379, allowed: false, egress: 'open', ingress: 'deny alice-clients-and' },
  { name: 'docs AND: bob/client -> db denied', policies: [docsAnd], from: 'bob/client', to: 'default/db', port: 6379, allowed: false, egress: 'open', ingress: 'deny alice-clients-and' },
  { name: 'docs OR: alice/other -> db via the namespace peer', policies: [docsOr], from: 'alice/other', to: 'default/db', port: 6379, allowed: true, egress: 'open', ingress: 'allow alice-or-clients ingress rule #0' },
  { name: 'docs OR: default/client -> db via the pod peer', policies: [docsOr], from: 'default/client', to: 'default/db', port: 6379, allowed: true, egress: 'open', ingress: 'allow alice-or-clients ingress rule #0' },
  { name: 'docs OR: bob/client -> db denied (pod peer is namespace-local)', policies: [docsOr], from: 'bob/client', to: 'default/db', port: 6379, allowed: false, egress: 'open', ingress: 'deny alice-or-clients' },
  // --- docs: default policies
  { name: 'docs default-deny-ingress: frontend -> db', policies: [docsDefaultDenyIngress], from: 'default/frontend', to: 'default/db', port: 6379, allowed: false, egress: 'open', ingress: 'deny default-deny-ingress' },
  { name: 'docs allow-all-ingress beats default-deny-ingress', policies: [docsDefaultDenyIngress, docsAllowAllIngress], from: '203.0.113.9', to: 'default/db', port: 6379, allowed: true, egress: 'n/a', ingress: 'allow allow-all-ingress ingress rule #0' },
  { name: 'docs default-deny-egress: db -> external', policies: [docsDefaultDenyEgress], from: 'default/db', to: '203.0.113.9', port: 443, allowed: false, egress: 'deny default-deny-egress', ingress: 'n/a' },
  { name: 'docs allow-all-egress beats default-deny-egress', policies: [docsDefaultDenyEgress, docsAllowAllEgress], from: 'default/db', to: '203.0.113.9', port: 443, allowed: true, egress: 'allow allow-all-egress egress rule #0', ingress: 'n/a' },
  { name: 'docs default deny both: frontend -> db', policies: [docsDefaultDenyIngress, docsDefaultDenyEgress], from: 'default/frontend', to: 'default/db', port: 6379, allowed: false, egress: 'deny default-deny-egress', ingress: 'deny default-deny-ingress' },
  // --- docs: endPort
  { name: 'endPort: 32000 (range start)', policies: [docsEndPort], from: 'default/db', to: '10.0.0.5', port: 32000, allowed: true, egress: 'allow multi-port-egress egress rule #0', ingress: 'n/a' },
  { name: 'endPort: 32768 (range end, inclusive)', policies: [docsEndPort], from: 'default/db', to: '10.0.0.5', port: 32768, allowed: true, egress: 'allow multi-port-egress egress rule #0', ingress: 'n/a' },
  { name: 'endPort: 32769 denied', policies: [docsEndPort], from: 'default/db', to: '10.0.0.5', port: 32769, allowed: false, egress: 'deny multi-port-egress', ingress: 'n/a' },
  { name: 'endPort: 31999 denied', policies: [docsEndPort], from: 'default/db', to: '10.0.0.5', port: 31999, allowed: false, egress: 'deny multi-port-egress', ingress: 'n/a' },
  { name: 'endPort: 32100/UDP denied (range is TCP)', policies: [docsEndPort], from: 'default/db', to: '10.0.0.5', port: 32100, protocol: 'UDP', allowed: false, egress: 'deny multi-port-egress', ingress: 'n/a' },

  // --- policyTypes implied
  {
    name: 'implied policyTypes: ingress rules only -> egress not isolated',
    policies: [P('implied-ingress', 'x', { podSelector: matchLabels({ pod: 'a' }), ingress: [ir({ from: [peer.pods({ pod: 'b' })] })] })],
    from: 'x/a', to: 'y/a', port: 80, allowed: true, egress: 'open', ingress: 'open',
  },
  {
    name: 'implied policyTypes: no ingress field at all still isolates ingress',
    policies: [P('implied-empty', 'x', { podSelector: matchLabels({ pod: 'a' }) })],
    from: 'y/a', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny implied-empty',
  },
  {
    name: 'implied policyTypes: egress rules present -> egress isolated too',
    policies: [P('implied-egress', 'x', { podSelector: matchLabels({ pod: 'a' }), egress: [er({ ports: [port.port(53)] })] })],
    from: 'x/a', to: 'y/a', port: 80, allowed: false, egress: 'deny implied-egress', ingress: 'open',
  },
  {
    name: 'implied policyTypes: egress: [] is not an Egress policy',
    policies: [P('implied-empty-egress', 'x', { podSelector: matchLabels({ pod: 'a' }), egress: [] })],
    from: 'x/a', to: 'y/a', port: 80, allowed: true, egress: 'open', ingress: 'open',
  },
  {
    name: 'explicit policyTypes [Egress] ignores ingress rules',
    policies: [P('egress-only-type', 'x', { podSelector: matchLabels({ pod: 'a' }), policyTypes: ['Egress'], ingress: [ir({ from: [peer.pods({ pod: 'b' })] })], egress: [er()] })],
    from: 'y/a', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'open',
  },
  {
    name: 'pitfall: an "egress" policy without policyTypes also isolates ingress (implied Ingress)',
    policies: [P('allow-egress-no-types', 'x', { podSelector: matchLabels({ pod: 'a' }), egress: [er()] })],
    from: 'x/b', to: 'x/a', port: 80, allowed: false, egress: 'open', ingress: 'deny allow-egress-no-types',
  },
  {
    name: 'pitfall, other way round: the same policy allows x/a egress',
    policies: [P('allow-egress-no-types', 'x', { podSelector: matchLabels({ pod: 'a' }), egress: [er()] })],
    from: 'x/a', to: 'x/b', port: 80, allowed: true, egress: 'allow allow-egress-no-types egress rule #0', ingress: 'open',
  },

  // --- own cases
  { name: 'a policy in another namespace does not isolate the pod', policies: [P('deny-all-y', 'y', { policyTypes: ['Ingress', 'Egress'] })], from: 'z/a', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'open' },
  {
    name: 'external source against a podSelector peer: denied, only ipBlock can match',
    policies: [P('from-pods-only', 'x', { ingress: [ir({ from: [peer.pods({})] })] })],
    from: '10.244.1.10', to: 'x/b', port: 80, allowed: false, egress: 'n/a', ingress: 'deny from-pods-only',
  },
  {
    name: 'ipBlock matches pod IPs by default',
    policies: [P('from-cidr', 'x', { ingress: [ir({ from: [peer.ipBlock('10.244.2.0/24')] })] })],
    from: 'y/c', to: 'x/b', port: 80, allowed: true, egress: 'open', ingress: 'allow from-cidr ingress rule #0',
  },
  {
    name: 'ipBlock does not match pod IPs when the plugin works that way (Cilium)',
    policies: [P('from-cidr', 'x', { ingress: [ir({ from: [peer.ipBlock('10.244.2.0/24')] })] })],
    from: 'y/c', to: 'x/b', port: 80, allowed: false, egress: 'open', ingress: 'deny from-cidr', options: { ipBlockMatchesPodIPs: false },
  },
  {
    name: 'IPv6 ipBlock admits an address in the prefix',
    policies: [P('from-v6', 'default', { podSelector: matchLabels({ app: 'v6' }), ingress: [ir({ from: [peer.ipBlock('2001:db8::/64', ['2001:db8::ff/128'])] })] })],
    from: '2001:db8::5', to: 'default/v6', port: 8080, allowed: true, egress: 'n/a', ingress: 'allow from-v6 ingress rule #0',
  },
  {
    name: 'IPv6 ipBlock except',
    policies: [P('from-v6', 'default', { podSelector: matchLabels({ app: 'v6' }), ingress: [ir({ from: [peer.ipBlock('2001:db8::/64', ['2001:db8::ff/128'])] })] })],
    from: '2001:db8::ff', to: 'default/v6', port: 8080, allowed: false, egress: 'n/a', ingress: 'deny from-v6',
  },
  {
    name: 'an IPv4 ipBlock never matches an IPv6 address',
    policies: [P('from-all-v4', 'default', { podSelector: matchLabels({ app: 'v6' }), ingress: [ir({ from: [peer.ipBlock('0.0.0.0/0')] })] })],
    from: '2001:db8::5', to: 'default/v6', port: 8080, allowed: false, egress: 'n/a', ingress: 'deny from-all-v4',
  },
  {
    name: 'hostNetwork source is the node: podSelector peers do not match it',
    policies: [P('from-all-pods', 'x', { ingress: [ir({ from: [peer.namespaces({})] })] })],
    from: 'kube-system/agent', to: 'x/a', port: 80, allowed: false, egress: 'n/a', ingress: 'deny from-all-pods',
  },
  {
    name: 'hostNetwork source is matched by an ipBlock with the node address',
    policies: [P('from-nodes', 'x', { ingress: [ir({ from: [peer.ipBlock('172.18.0.0/16')] })] })],
    from: 'kube-system/agent', to: 'x/a', port: 80, allowed: true, egress: 'n/a', ingress: 'allow from-nodes ingress rule #0',
  },
  {
    name: 'egress named port resolves on the destination pod: http is 8080 on db',
    policies: [P('egress-http', 'default', { podSelector: matchLabels({ role: 'frontend' }), egress: [er({ ports: [port.port('http')] })] })],
    from: 'default/frontend', to: 'default/db', port: 8080, allowed: true, egress: 'allow egress-http egress rule #0', ingress: 'open',
  },
  {
    name: 'egress named port resolves on the destination pod: http is 9090 on web-9090, so 8080 is denied',
    policies: [P('egress-http', 'default', { podSelector: matchLabels({ role: 'frontend' }), egress: [er({ ports: [port.port('http')] })] })],
    from: 'default/frontend', to: 'default/web-9090', port: 8080, allowed: false, egress: 'deny egress-http', ingress: 'open',
  },
  {
    name: 'named port with the wrong protocol does not resolve',
    policies: [P('named-udp', 'x', { ingress: [ir({ ports: [port.udp('serve-80-tcp')] })] })],
    from: 'y/a', to: 'x/a', port: 80, protocol: 'UDP', allowed: false, egress: 'open', ingress: 'deny named-udp',
  },
  {
    name: 'the first allowing rule is reported when several allow',
    policies: [P('two-rules', 'x', { ingress: [ir({ ports: [port.tcp(443)] }), ir({ from: [peer.namespaces({ ns: 'y' })] }), ir()] })],
    from: 'y/a', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow two-rules ingress rule #1',
  },
  {
    name: 'from: [] and ports: [] mean all peers and all ports',
    policies: [P('empty-lists', 'x', { ingress: [{ _from: [], ports: [] }] })],
    from: '198.51.100.1', to: 'x/a', port: 12345, allowed: true, egress: 'n/a', ingress: 'allow empty-lists ingress rule #0',
  },
  {
    name: 'a plain YAML object with `from` (not `_from`) is read too',
    policies: [P('yaml-from', 'x', { ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] } as never] })],
    from: 'x/b', to: 'x/a', port: 80, allowed: true, egress: 'open', ingress: 'allow yaml-from ingress rule #0',
  },
  {
    name: 'both sides isolated and both allow: egress and ingress rules named',
    policies: [
      P('web-egress', 'x', { podSelector: matchLabels({ pod: 'a' }), egress: [er({ to: [peer.namespaces({ ns: 'y' })], ports: [port.tcp(80, 90)] })] }),
      P('api-ingress', 'y', { podSelector: matchLabels({ pod: 'b' }), ingress: [ir({ ports: [port.tcp(443)] }), ir({ from: [peer.podsInNamespaces({ pod: 'a' }, { ns: 'x' })], ports: [port.tcp('serve-81-tcp')] })] }),
    ],
    from: 'x/a', to: 'y/b', port: 81, allowed: true, egress: 'allow web-egress egress rule #0', ingress: 'allow api-ingress ingress rule #1',
  },
];

describe('NetworkPolicy evaluator: table of flows (docs + upstream e2e netpol checklist)', () => {
  for (const row of rows) {
    const arrow = `${row.from} -> ${row.to}:${row.port}/${row.protocol ?? 'TCP'}`;
    it(`${row.name} [${arrow}] => ${row.allowed ? 'allowed' : 'denied'}`, () => {
      const { pods, namespaces } = buildWorld(row.world);
      const verdict = evaluateFlow(
        { source: endpointFor(row.from, pods, namespaces), destination: endpointFor(row.to, pods, namespaces), port: row.port, protocol: row.protocol },
        { policies: row.policies, namespaces, options: row.options },
      );
      expect(verdict.allowed, verdict.message).to.equal(row.allowed);
      assertDirection(verdict.egress, row.egress);
      assertDirection(verdict.ingress, row.ingress);
      expect(verdict.deniedAt).to.deep.equal([
        ...(verdict.egress.allowed ? [] : ['Egress']),
        ...(verdict.ingress.allowed ? [] : ['Ingress']),
      ]);
      expect(verdict.message.length).to.be.greaterThan(20);
    });
  }

  it('has at least 60 rows', () => {
    expect(rows.length).to.be.at.least(60);
  });
});

describe('NetworkPolicy evaluator: messages read as a diagnosis', () => {
  const { pods, namespaces } = buildWorld();
  const pod = (key: string): FlowEndpoint => endpointFor(key, pods, namespaces);

  it('names the default-deny egress policy, the namespace and the target', () => {
    const verdict = evaluateFlow(
      { source: pod('x/a'), destination: pod('y/b'), port: 8080 },
      { policies: [P('default-deny-egress', 'x', { policyTypes: ['Egress'] })], namespaces },
    );
    expect(verdict.message).to.equal(
      'Egress from pod x/a is denied: policy default-deny-egress (namespace x) selects it and no egress rule allows pod y/b at 10.244.2.11:8080/TCP (it has no egress rules: deny all).',
    );
  });

  it('names the rule target when rules exist, and the closest near miss', () => {
    const verdict = evaluateFlow(
      { source: pod('x/a'), destination: pod('y/b'), port: 8080 },
      { policies: [P('allow-dns-only', 'x', { egress: [er({ to: [peer.namespaces(nsName('kube-system'))], ports: [port.udp(53)] }), er({ ports: [port.tcp(443)] })] })], namespaces },
    );
    expect(verdict.message).to.equal(
      'Egress from pod x/a is denied: policy allow-dns-only (namespace x) selects it and no egress rule allows pod y/b at 10.244.2.11:8080/TCP; ' +
        'closest: allow-dns-only egress rule #1 allows that peer only on 443/TCP.',
    );
    const portOnly = evaluateFlow(
      { source: pod('x/a'), destination: pod('y/b'), port: 443 },
      { policies: [P('allow-kube-system', 'x', { egress: [er({ to: [peer.namespaces(nsName('kube-system'))], ports: [port.tcp(443)] })] })], namespaces },
    );
    expect(portOnly.message).to.equal(
      'Egress from pod x/a is denied: policy allow-kube-system (namespace x) selects it and no egress rule allows pod y/b at 10.244.2.11:443/TCP; ' +
        'closest: allow-kube-system egress rule #0 allows 443/TCP only to all pods in namespaces kubernetes.io/metadata.name=kube-system.',
    );
  });

  it('explains an ingress denial with the source and the rule that almost matched', () => {
    const verdict = evaluateFlow(
      { source: pod('default/frontend'), destination: pod('default/db'), port: 5432 },
      { policies: [docsTestPolicy], namespaces },
    );
    expect(verdict.message).to.equal(
      'Ingress to pod default/db is denied: policy test-network-policy (namespace default) selects it and no ingress rule admits ' +
        'pod default/frontend (10.244.4.11) on 5432/TCP; closest: test-network-policy ingress rule #0 allows that peer only on 6379/TCP.',
    );
    expect(verdict.ingress.nearMisses).to.have.length(1);
    expect(verdict.ingress.nearMisses[0]).to.include({ peerMatched: true, portMatched: false, ruleIndex: 0 });
  });

  it('states the allowing rules on both sides', () => {
    const verdict = evaluateFlow(
      { source: pod('x/a'), destination: pod('y/a'), port: 80 },
      { policies: [egressToYa, ingressFromXa('allow-from-xa-on-ya-match-selector', 'a')], namespaces },
    );
    expect(verdict.message).to.equal(
      'NetworkPolicy allows pod x/a -> pod y/a at 10.244.2.10:80/TCP: egress by policy allow-to-ns-y-pod-a egress rule #0 (namespace x), ' +
        'ingress by policy allow-from-xa-on-ya-match-selector ingress rule #0 (namespace y).',
    );
    expect(verdict.ingress.message).to.equal(
      'Ingress to pod y/a from pod x/a (10.244.1.10) on 80/TCP is allowed by policy allow-from-xa-on-ya-match-selector ingress rule #0 (namespace y).',
    );
  });

  it('says when nothing selects either side', () => {
    const verdict = evaluateFlow({ source: pod('x/a'), destination: externalEndpoint('203.0.113.5', 'api.example.com'), port: 443 }, { policies: [], namespaces });
    expect(verdict.message).to.equal('NetworkPolicy allows pod x/a -> api.example.com at 203.0.113.5:443/TCP: egress unrestricted, ingress not subject to policy.');
    expect(verdict.egress.message).to.equal('Egress from pod x/a is not restricted: no NetworkPolicy in namespace x selects it for egress.');
    expect(verdict.ingress.message).to.equal('Ingress to api.example.com (203.0.113.5) is not subject to NetworkPolicy: the destination is not a pod.');
  });

  it('reports both sides in one sentence when both deny, and lists several policies by namespace', () => {
    const verdict = evaluateFlow(
      { source: pod('x/a'), destination: pod('y/a'), port: 80 },
      { policies: [denyAllX, denyEgressNsX, P('deny-all', 'y', { policyTypes: ['Ingress'] })], namespaces },
    );
    expect(verdict.deniedAt).to.deep.equal(['Egress', 'Ingress']);
    expect(verdict.message).to.equal(
      'Traffic pod x/a -> pod y/a at 10.244.2.10:80/TCP is denied on both sides: egress by policies deny-all, deny-egress-ns-x (namespace x) ' +
        'and ingress by policy deny-all (namespace y), and neither has a rule that allows it.',
    );
  });

  it('says a hostNetwork pod is outside NetworkPolicy', () => {
    const verdict = evaluateFlow({ source: pod('kube-system/agent'), destination: pod('x/a'), port: 80 }, { policies: [denyAllX], namespaces });
    expect(verdict.egress.message).to.equal(
      'Egress from pod kube-system/agent is not subject to NetworkPolicy: it uses the host network, so most plugins treat its traffic as the node\'s.',
    );
  });
});

describe('NetworkPolicy evaluator: building blocks', () => {
  it('a policy selects pods of its own namespace only, and never a hostNetwork pod', () => {
    const { pods } = buildWorld();
    const everyPodInX = P('all-x', 'x', {});
    expect(policySelectsPod(everyPodInX, pods.get('x/c') as V1Pod)).to.equal(true);
    expect(policySelectsPod(everyPodInX, pods.get('y/c') as V1Pod)).to.equal(false);
    const everyPodInKubeSystem = P('all-kube-system', 'kube-system', { policyTypes: ['Egress'] });
    expect(policySelectsPod(everyPodInKubeSystem, pods.get('kube-system/agent') as V1Pod)).to.equal(false);
    expect(policiesSelectingPod([everyPodInKubeSystem], pods.get('kube-system/agent') as V1Pod, 'Egress')).to.deep.equal([]);
    expect(policiesSelectingPod([P('b', 'x', {}), P('a', 'x', {}), everyPodInKubeSystem], pods.get('x/a') as V1Pod, 'Ingress').map((policy) => policy.metadata?.name))
      .to.deep.equal(['a', 'b']);
  });

  it('defaults policyTypes like the API server', () => {
    expect(effectivePolicyTypes(P('p', 'x', {}))).to.deep.equal(['Ingress']);
    expect(effectivePolicyTypes(P('p', 'x', { egress: [er()] }))).to.deep.equal(['Ingress', 'Egress']);
    expect(effectivePolicyTypes(P('p', 'x', { egress: [] }))).to.deep.equal(['Ingress']);
    expect(effectivePolicyTypes(P('p', 'x', { policyTypes: ['Egress'], ingress: [ir()] }))).to.deep.equal(['Egress']);
  });

  interface IpRow { readonly cidr: string; readonly ip: string; readonly inside: boolean }
  const ipRows: IpRow[] = [
    { cidr: '10.0.0.0/8', ip: '10.255.255.255', inside: true },
    { cidr: '10.0.0.0/8', ip: '11.0.0.0', inside: false },
    { cidr: '0.0.0.0/0', ip: '203.0.113.1', inside: true },
    { cidr: '10.244.1.11/32', ip: '10.244.1.11', inside: true },
    { cidr: '10.244.1.11/32', ip: '10.244.1.12', inside: false },
    { cidr: '10.244.1.99/24', ip: '10.244.1.3', inside: true }, // host bits in the CIDR are masked, as Go does
    { cidr: '2001:db8::/32', ip: '2001:db8:ffff::1', inside: true },
    { cidr: '2001:db8::/32', ip: '2001:db9::1', inside: false },
    { cidr: '::/0', ip: 'fe80::1%eth0', inside: true },
    { cidr: 'fd00:10:244::/64', ip: 'fd00:10:244:0:0:0:0:10', inside: true },
    { cidr: '10.0.0.0/8', ip: '::ffff:10.1.2.3', inside: true }, // IPv4-mapped IPv6 is IPv4
    { cidr: '::ffff:10.0.0.0/104', ip: '10.9.9.9', inside: true },
    { cidr: '10.0.0.0/8', ip: '2001:db8::1', inside: false },
    { cidr: '::/0', ip: '10.0.0.1', inside: false },
    { cidr: 'not-a-cidr', ip: '10.0.0.1', inside: false },
    { cidr: '10.0.0.0/33', ip: '10.0.0.1', inside: false },
    { cidr: '10.0.0.0', ip: '10.0.0.0', inside: false },
    { cidr: '10.0.0.0/8', ip: '10.0.0.256', inside: false },
  ];
  for (const row of ipRows) {
    it(`${row.ip} is ${row.inside ? 'inside' : 'outside'} ${row.cidr}`, () => {
      expect(cidrContains(row.cidr, row.ip)).to.equal(row.inside);
    });
  }

  it('parses IPv6 forms and rejects malformed ones', () => {
    expect(parseIP('::1')).to.deep.equal({ family: 6, value: 1n });
    expect(parseIP('1:2:3:4:5:6:7:8')?.value).to.equal(0x00010002000300040005000600070008n);
    expect(parseIP('::ffff:1.2.3.4')).to.deep.equal({ family: 4, value: 0x01020304n });
    expect(parseIP('1::2::3')).to.equal(undefined);
    expect(parseIP('1:2:3:4:5:6:7:8:9')).to.equal(undefined);
    expect(parseIP('12345::')).to.equal(undefined);
    expect(parseCIDR('10.1.2.3/16')).to.deep.equal({ family: 4, network: 0x0a010000n, prefix: 16 });
  });

  it('applies every except range', () => {
    const block = { cidr: '172.17.0.0/16', except: ['172.17.1.0/24', '172.17.2.0/24'] };
    expect(ipBlockContains(block, '172.17.0.9')).to.equal(true);
    expect(ipBlockContains(block, '172.17.1.9')).to.equal(false);
    expect(ipBlockContains(block, '172.17.2.9')).to.equal(false);
    expect(ipBlockContains(block, '172.18.0.1')).to.equal(false);
  });

  it('matches ports: TCP default, ranges, named ports, digit strings', () => {
    const { pods } = buildWorld();
    const xa = pods.get('x/a');
    expect(portMatches({ port: 80 }, 80, 'TCP', xa)).to.equal(true);
    expect(portMatches({ port: 80 }, 80, 'UDP', xa)).to.equal(false);
    expect(portMatches({ protocol: 'udp', port: 80 }, 80, 'UDP', xa)).to.equal(true);
    expect(portMatches({ port: 80, endPort: 85 }, 85, 'TCP', xa)).to.equal(true);
    expect(portMatches({ port: 80, endPort: 85 }, 86, 'TCP', xa)).to.equal(false);
    expect(portMatches({ port: 90, endPort: 85 }, 90, 'TCP', xa)).to.equal(true);
    expect(portMatches({ port: '81' }, 81, 'TCP', xa)).to.equal(true);
    expect(portMatches({ port: 'serve-81-sctp', protocol: 'SCTP' }, 81, 'SCTP', xa)).to.equal(true);
    expect(portMatches({ port: 'serve-81-sctp' }, 81, 'TCP', xa)).to.equal(false);
    expect(portMatches({ port: 'serve-81-tcp' }, 81, 'TCP', undefined)).to.equal(false);
    expect(portMatches({ port: 'no-such-port' }, 81, 'TCP', xa)).to.equal(false);
    const sidecar = buildPod('s', { containers: [{ name: 'app' }], initContainers: [{ name: 'proxy', restartPolicy: 'Always', ports: [containerPort(15001, 'envoy')] }] });
    expect(portMatches({ port: 'envoy' }, 15001, 'TCP', sidecar)).to.equal(true);
  });

  it('formats ports and peers for messages', () => {
    expect(formatPortSpec({ port: 80 })).to.equal('80/TCP');
    expect(formatPortSpec({ protocol: 'UDP', port: 32000, endPort: 32768 })).to.equal('32000-32768/UDP');
    expect(formatPortSpec({ port: 'http' })).to.equal('named port http/TCP');
    expect(formatPortSpec({ protocol: 'SCTP' })).to.equal('any SCTP port');
    expect(formatPeer(peer.pods({ app: 'api' }), 'shop')).to.equal('pods app=api in namespace shop');
    expect(formatPeer(peer.pods({}), 'shop')).to.equal('all pods in namespace shop');
    expect(formatPeer(peer.namespaces({}), 'shop')).to.equal('all pods in all namespaces');
    expect(formatPeer(peer.podsInNamespaces({ app: 'api' }, { team: 'ops' }), 'shop')).to.equal('pods app=api in namespaces team=ops');
    expect(formatPeer(peer.ipBlock('10.0.0.0/8', ['10.1.0.0/16']), 'shop')).to.equal('ipBlock 10.0.0.0/8 except 10.1.0.0/16');
  });

  it('uses kubernetes.io/metadata.name even without Namespace objects', () => {
    const { pods } = buildWorld();
    const source = podEndpoint(pods.get('y/a') as V1Pod);
    const verdict = evaluateFlow({ source, destination: podEndpoint(pods.get('x/a') as V1Pod), port: 80 }, { policies: [allowNsY] });
    expect(verdict.allowed).to.equal(true);
    expect(verdict.ingress.allowedBy?.description).to.equal('allow-client-a-via-ns-selector ingress rule #0');
  });

  it('finds Namespace labels in the context when the endpoint lacks them', () => {
    const { pods, namespaces } = buildWorld();
    const verdict = evaluateFlow(
      { source: podEndpoint(pods.get('alice/other') as V1Pod), destination: podEndpoint(pods.get('default/db') as V1Pod), port: 6379 },
      { policies: [docsOr], namespaces },
    );
    expect(verdict.ingress.allowedBy?.description).to.equal('alice-or-clients ingress rule #0');
  });
});

describe('DNS egress helper', () => {
  const { pods, namespaces } = buildWorld();
  const coredns = (name: string, ip: string): FlowEndpoint => {
    const pod = buildPod(name, {
      namespace: 'kube-system',
      ip,
      labels: { 'k8s-app': 'kube-dns' },
      ports: [{ containerPort: 53, name: 'dns', protocol: 'UDP' }, { containerPort: 53, name: 'dns-tcp' }, { containerPort: 9153, name: 'metrics' }],
    });
    return podEndpoint(pod, namespaces.find((namespace) => namespace.metadata?.name === 'kube-system'));
  };
  const dnsPods = [coredns('coredns-a', '10.244.0.2'), coredns('coredns-b', '10.244.0.3')];
  const web = podEndpoint(pods.get('x/a') as V1Pod, namespaces.find((namespace) => namespace.metadata?.name === 'x'));
  const toKubeDns = peer.podsInNamespaces({ 'k8s-app': 'kube-dns' }, nsName('kube-system'));

  it('allowed when no policy selects the source', () => {
    const verdict = evaluateDnsEgress({ source: web, dnsPods, policies: [], namespaces });
    expect(verdict.status).to.equal('Allowed');
    expect(verdict.allowed).to.equal(true);
    expect(verdict.udp.allowedTo).to.deep.equal(['kube-system/coredns-a', 'kube-system/coredns-b']);
    expect(verdict.message).to.equal('DNS from pod x/a to 2 DNS pod(s) on 53/UDP and 53/TCP is allowed: egress from pod x/a is not restricted.');
  });

  it('blocked by a default-deny egress policy, which it names', () => {
    const verdict = evaluateDnsEgress({ source: web, dnsPods, policies: [P('default-deny-egress', 'x', { policyTypes: ['Egress'] })], namespaces });
    expect(verdict.status).to.equal('Blocked');
    expect(verdict.allowed).to.equal(false);
    expect(verdict.blockedAt).to.deep.equal(['Egress']);
    expect(verdict.blockingPolicies.map((ref) => ref.name)).to.deep.equal(['default-deny-egress']);
    expect(verdict.message).to.equal(
      'DNS from pod x/a is blocked: policy default-deny-egress (namespace x) selects it for egress, and no rule allows 53/UDP or 53/TCP to the DNS pods ' +
        '(kube-system/coredns-a 10.244.0.2, kube-system/coredns-b 10.244.0.3); to fix, add an egress rule to pods k8s-app=kube-dns in namespace kube-system on 53/UDP and 53/TCP.',
    );
  });

  it('blocked when the egress policy only allows the application port', () => {
    const policies = [P('web-egress', 'x', { policyTypes: ['Egress'], egress: [er({ to: [peer.namespaces({ ns: 'y' })], ports: [port.tcp(8080)] })] })];
    const verdict = evaluateDnsEgress({ source: web, dnsPods, policies, namespaces });
    expect(verdict.status).to.equal('Blocked');
    expect(verdict.blockingPolicies.map((ref) => ref.name)).to.deep.equal(['web-egress']);
  });

  it('allowed by a proper DNS rule, named', () => {
    const policies = [
      P('default-deny-egress', 'x', { policyTypes: ['Egress'] }),
      P('allow-dns', 'x', { policyTypes: ['Egress'], egress: [er({ to: [toKubeDns], ports: [port.udp(53), port.tcp(53)] })] }),
    ];
    const verdict = evaluateDnsEgress({ source: web, dnsPods, policies, namespaces });
    expect(verdict.status).to.equal('Allowed');
    expect(verdict.message).to.equal(
      'DNS from pod x/a to 2 DNS pod(s) on 53/UDP and 53/TCP is allowed: egress allowed by policy allow-dns egress rule #0 (namespace x).',
    );
  });

  it('partial when only UDP is allowed: large answers over TCP fail', () => {
    const policies = [P('allow-dns-udp', 'x', { policyTypes: ['Egress'], egress: [er({ to: [toKubeDns], ports: [port.udp(53)] })] })];
    const verdict = evaluateDnsEgress({ source: web, dnsPods, policies, namespaces });
    expect(verdict.status).to.equal('Partial');
    expect(verdict.udp.blockedTo).to.deep.equal([]);
    expect(verdict.tcp.blockedTo).to.deep.equal(['kube-system/coredns-a', 'kube-system/coredns-b']);
    expect(verdict.message).to.equal(
      'DNS from pod x/a is only partly allowed: 53/TCP is blocked to every DNS pod (policy allow-dns-udp (namespace x) selects it for egress), ' +
        'so large answers that fall back to TCP fail; to fix, add an egress rule to pods k8s-app=kube-dns in namespace kube-system on 53/UDP and 53/TCP.',
    );
  });

  it('partial when an ipBlock reaches only one CoreDNS pod: intermittent failures', () => {
    const policies = [P('allow-one-dns', 'x', { policyTypes: ['Egress'], egress: [er({ to: [peer.ipBlock('10.244.0.2/32')], ports: [port.udp(53), port.tcp(53)] })] })];
    const verdict = evaluateDnsEgress({ source: web, dnsPods, policies, namespaces });
    expect(verdict.status).to.equal('Partial');
    expect(verdict.udp.allowedTo).to.deep.equal(['kube-system/coredns-a']);
    expect(verdict.message).to.include('lookups fail intermittently, depending on which DNS pod answers');
  });

  it('blocked at the DNS side by an ingress policy in kube-system', () => {
    const policies = [P('kube-system-lockdown', 'kube-system', { policyTypes: ['Ingress'], ingress: [ir({ from: [peer.pods({})] })] })];
    const verdict = evaluateDnsEgress({ source: web, dnsPods, policies, namespaces });
    expect(verdict.status).to.equal('Blocked');
    expect(verdict.blockedAt).to.deep.equal(['Ingress']);
    expect(verdict.message).to.equal(
      'DNS from pod x/a is blocked: policy kube-system-lockdown (namespace kube-system) selects the DNS pods for ingress, and no rule allows 53/UDP or 53/TCP ' +
        'to the DNS pods (kube-system/coredns-a 10.244.0.2, kube-system/coredns-b 10.244.0.3); to fix, add an ingress rule on the DNS pods admitting pod x/a.',
    );
  });

  it('a DNS rule using the named port dns resolves against CoreDNS (UDP only)', () => {
    const policies = [P('allow-dns-named', 'x', { policyTypes: ['Egress'], egress: [er({ to: [toKubeDns], ports: [port.udp('dns'), port.tcp('dns-tcp')] })] })];
    expect(evaluateDnsEgress({ source: web, dnsPods, policies, namespaces }).status).to.equal('Allowed');
    const udpNameForTcp = [P('allow-dns-named', 'x', { policyTypes: ['Egress'], egress: [er({ to: [toKubeDns], ports: [port.udp('dns'), port.tcp('dns')] })] })];
    expect(evaluateDnsEgress({ source: web, dnsPods, policies: udpNameForTcp, namespaces }).status).to.equal('Partial');
  });

  it('unknown without DNS pods, but says whether the source is egress-isolated', () => {
    const verdict = evaluateDnsEgress({ source: web, dnsPods: [], policies: [denyEgressNsX], namespaces });
    expect(verdict.status).to.equal('Unknown');
    expect(verdict.message).to.equal(
      'DNS egress policy cannot be evaluated: no DNS pods were found (pod x/a is egress-isolated by policy deny-egress-ns-x (namespace x)).',
    );
  });
});
