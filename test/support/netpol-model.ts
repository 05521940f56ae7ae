// The model of Kubernetes' own e2e NetworkPolicy suite (k8s.io/kubernetes v1.34.4,
// test/e2e/network/netpol: model.go, reachability.go, network_policy.go), as data: namespaces x, y, z with
// pods a, b, c each (label pod=<name>), every pod serving TCP and UDP on ports 80 and 81 (named
// serve-80-tcp, serve-81-udp, ...), and a selection of upstream's test cases, each with its policies and
// its expected reachability matrix built with upstream's own helpers (Expect, ExpectAllIngress,
// ExpectAllEgress, ExpectPeer). Pure: no cluster; the e2e suite runs it on the local cluster and a unit
// test runs the operator's evaluator over every pair.
import type { V1Container, V1LabelSelector, V1NetworkPolicy, V1NetworkPolicyEgressRule, V1NetworkPolicyIngressRule, V1Pod } from '@kubernetes/client-node';

export const NAMESPACES = ['x', 'y', 'z'] as const;
export const POD_NAMES = ['a', 'b', 'c'] as const;
export const PORTS = [80, 81] as const;
export type BaseNamespace = (typeof NAMESPACES)[number];
export type Protocol = 'TCP' | 'UDP';
/** "x/a": a pod of the model by its namespace's base name. */
export type PodString = `${BaseNamespace}/${(typeof POD_NAMES)[number]}`;
export const POD_LABEL = 'pod';
/** upstream's namespaceLabelKey: the label the API server sets on every namespace. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export const ALL_PODS: readonly PodString[] = NAMESPACES.flatMap((ns) => POD_NAMES.map((pod) => `${ns}/${pod}` as PodString));
export const portName = (port: number, protocol: Protocol) => `serve-${port}-${protocol.toLowerCase()}`;

/** The real names of the model's namespaces, and the pod IPs (for ipBlock cases). */
export interface ModelWorld {
  namespace: Record<BaseNamespace, string>;
  podIp: Record<PodString, string>;
}

/** upstream's Peer: an empty field matches everything. */
export interface Peer { namespace?: BaseNamespace; pod?: string }
const matches = (peer: Peer, pod: PodString) => (!peer.namespace || pod.startsWith(`${peer.namespace}/`)) && (!peer.pod || pod.endsWith(`/${peer.pod}`));

/** upstream's Reachability (Expected only): a truth table over every ordered pair of pods. */
export class Reachability {
  readonly defaultExpectation: boolean;
  readonly #expected = new Map<string, boolean>();
  constructor(defaultExpectation: boolean) { this.defaultExpectation = defaultExpectation; }
  get(from: PodString, to: PodString): boolean { return this.#expected.get(`${from}>${to}`) ?? this.defaultExpectation; }
  expect(from: PodString, to: PodString, connected: boolean): this { this.#expected.set(`${from}>${to}`, connected); return this; }
  expectAllIngress(to: PodString, connected: boolean): this { for (const from of ALL_PODS) this.expect(from, to, connected); return this; }
  expectAllEgress(from: PodString, connected: boolean): this { for (const to of ALL_PODS) this.expect(from, to, connected); return this; }
  expectPeer(from: Peer, to: Peer, connected: boolean): this {
    for (const source of ALL_PODS.filter((pod) => matches(from, pod))) for (const target of ALL_PODS.filter((pod) => matches(to, pod))) this.expect(source, target, connected);
    return this;
  }
}

/** A change to the world between two steps of a case (upstream's UpdatePolicy, AddPodLabels, ...). */
export type Mutation =
  | { kind: 'replacePolicy'; namespace: BaseNamespace; policy: V1NetworkPolicy }
  | { kind: 'labelPod'; pod: PodString; labels: Record<string, string> };

export interface Step {
  port: 80 | 81;
  protocol: Protocol;
  reachability: Reachability;
  /** Applied before this step is probed. */
  before?: Mutation;
}

export interface UpstreamCase {
  /** Short id, used in check names. */
  id: string;
  /** The ginkgo text of the upstream test ("should ..."), with its context for the UDP ones. */
  upstream: string;
  policies(world: ModelWorld): { namespace: BaseNamespace; policy: V1NetworkPolicy }[];
  steps(world: ModelWorld): Step[];
}

// ---------------------------------------------------------------------------------------------------
// upstream's policy builders (policies.go)

function policy(name: string, podSelector: V1LabelSelector, rules: { ingress?: V1NetworkPolicyIngressRule[]; egress?: V1NetworkPolicyEgressRule[] }): V1NetworkPolicy {
  const policyTypes = [...(rules.ingress ? ['Ingress'] : []), ...(rules.egress ? ['Egress'] : [])];
  return { metadata: { name }, spec: { podSelector, policyTypes, ...(rules.ingress ? { ingress: rules.ingress } : {}), ...(rules.egress ? { egress: rules.egress } : {}) } };
}
const podLabel = (name: string): V1LabelSelector => ({ matchLabels: { [POD_LABEL]: name } });
const nsIn = (operator: 'In' | 'NotIn', names: string[]): V1LabelSelector => ({ matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator, values: names }] });
const tcp80 = (reachability: Reachability, extra: Partial<Step> = {}): Step => ({ port: 80, protocol: 'TCP', reachability, ...extra });

/** upstream's makeLargeCIDRForIP: the /4 that holds the address. */
export function largeCidrFor(ip: string): string {
  const first = Number(ip.split('.')[0]);
  return `${first & 0xf0}.0.0.0/4`;
}

// ---------------------------------------------------------------------------------------------------
// The cases, in upstream's order. Each names the upstream test it models.

export const UPSTREAM_CASES: readonly UpstreamCase[] = [
  {
    id: 'deny-ingress',
    upstream: "should support a 'default-deny-ingress' policy",
    policies: () => [{ namespace: 'x', policy: policy('deny-ingress', {}, { ingress: [] }) }],
    steps: () => [tcp80(new Reachability(true).expectPeer({}, { namespace: 'x' }, false))],
  },
  {
    id: 'pod-expr',
    upstream: 'should enforce policy based on PodSelector with MatchExpressions',
    policies: () => [{ namespace: 'x', policy: policy('x-a-allows-x-b', podLabel('a'), { ingress: [{ _from: [{ podSelector: { matchExpressions: [{ key: POD_LABEL, operator: 'In', values: ['b'] }] } }] }] }) }],
    steps: () => [tcp80(new Reachability(true).expectAllIngress('x/a', false).expect('x/b', 'x/a', true))],
  },
  {
    id: 'ns-expr',
    upstream: 'should enforce policy based on NamespaceSelector with MatchExpressions',
    policies: (w) => [{ namespace: 'x', policy: policy('allow-ns-y-match-selector', podLabel('a'), { ingress: [{ _from: [{ namespaceSelector: nsIn('In', [w.namespace.y]) }] }] }) }],
    steps: () => [tcp80(new Reachability(true).expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false))],
  },
  {
    id: 'or',
    upstream: 'should enforce policy based on PodSelector or NamespaceSelector',
    policies: (w) => [{ namespace: 'x', policy: policy('allow-ns-y-match-selector', podLabel('a'), { ingress: [{ _from: [{ namespaceSelector: nsIn('NotIn', [w.namespace.x]) }, { podSelector: podLabel('b') }] }] }) }],
    steps: () => [tcp80(new Reachability(true).expect('x/a', 'x/a', false).expect('x/c', 'x/a', false))],
  },
  {
    id: 'and',
    upstream: 'should enforce policy based on PodSelector and NamespaceSelector',
    policies: (w) => [{ namespace: 'x', policy: policy('allow-ns-y-podselector-and-nsselector', podLabel('a'), { ingress: [{ _from: [{ namespaceSelector: nsIn('NotIn', [w.namespace.x]), podSelector: podLabel('b') }] }] }) }],
    steps: () => [tcp80(new Reachability(true).expectAllIngress('x/a', false).expect('y/b', 'x/a', true).expect('z/b', 'x/a', true))],
  },
  {
    id: 'named-ns',
    upstream: 'should allow ingress access from namespace on one named port',
    policies: (w) => [{ namespace: 'x', policy: policy('allow-client-a-via-ns-selector-80', podLabel('a'), {
      ingress: [{ _from: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: w.namespace.y } } }], ports: [{ port: portName(80, 'TCP'), protocol: 'TCP' }] }],
    }) }],
    steps: () => [
      tcp80(new Reachability(true).expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false)),
      { port: 81, protocol: 'TCP', reachability: new Reachability(true).expectAllIngress('x/a', false) },
    ],
  },
  {
    id: 'named-egress',
    upstream: 'should allow egress access on one named port',
    policies: () => [{ namespace: 'x', policy: policy('allow-egress', {}, { egress: [{ ports: [{ port: portName(80, 'TCP') }] }] }) }],
    steps: () => [
      tcp80(new Reachability(true)),
      { port: 81, protocol: 'TCP', reachability: new Reachability(true).expectPeer({ namespace: 'x' }, {}, false) },
    ],
  },
  {
    id: 'deny-egress-a',
    upstream: 'should deny egress from pods based on PodSelector',
    policies: () => [{ namespace: 'x', policy: policy('deny-egress-pod-a', podLabel('a'), { egress: [] }) }],
    steps: () => [tcp80(new Reachability(true).expectAllEgress('x/a', false))],
  },
  {
    id: 'cidr-except',
    upstream: 'should enforce except clause while egress access to server in CIDR block',
    policies: (w) => [{ namespace: 'x', policy: policy('allow-client-a-via-cidr-egress-rule', podLabel('a'), {
      egress: [{ to: [{ ipBlock: { cidr: largeCidrFor(w.podIp['x/b']), except: [`${w.podIp['x/b']}/32`] } }] }],
    }) }],
    steps: () => [tcp80(new Reachability(true).expect('x/a', 'x/b', false))],
  },
  {
    id: 'udp-ports',
    upstream: 'NetworkPolicy between server and client using UDP: should enforce policy based on Ports',
    policies: (w) => [{ namespace: 'x', policy: policy('allow-ingress-on-port-81-ns-x', podLabel('a'), {
      ingress: [{ _from: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: w.namespace.y } } }], ports: [{ port: 81, protocol: 'UDP' }] }],
    }) }],
    steps: () => [{ port: 81, protocol: 'UDP', reachability: new Reachability(true).expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false) }],
  },
  {
    id: 'tcp-udp-only',
    upstream: 'should not allow access by TCP when a policy specifies only UDP',
    policies: () => [{ namespace: 'x', policy: policy('allow-only-udp-ingress-on-port-81', podLabel('a'), { ingress: [{ ports: [{ port: 81, protocol: 'UDP' }] }] }) }],
    steps: () => [{ port: 81, protocol: 'TCP', reachability: new Reachability(true).expectAllIngress('x/a', false) }],
  },
  {
    id: 'updated',
    upstream: 'should enforce updated policy',
    policies: () => [{ namespace: 'x', policy: policy('allow-all-mutate-to-deny-all', {}, { ingress: [{}] }) }],
    steps: () => [
      { port: 81, protocol: 'TCP', reachability: new Reachability(true) },
      {
        port: 81, protocol: 'TCP', reachability: new Reachability(true).expectPeer({}, { namespace: 'x' }, false),
        before: { kind: 'replacePolicy', namespace: 'x', policy: policy('allow-all-mutate-to-deny-all', {}, { ingress: [] }) },
      },
    ],
  },
  {
    id: 'updated-pod',
    upstream: 'should allow ingress access from updated pod',
    policies: () => [{ namespace: 'x', policy: policy('allow-client-a-via-pod-selector', podLabel('a'), { ingress: [{ _from: [{ podSelector: { matchLabels: { pod: 'b', pod2: 'updated' } } }] }] }) }],
    steps: () => [
      tcp80(new Reachability(true).expectAllIngress('x/a', false)),
      tcp80(new Reachability(true).expectAllIngress('x/a', false).expect('x/b', 'x/a', true), { before: { kind: 'labelPod', pod: 'x/b', labels: { pod: 'b', pod2: 'updated' } } }),
    ],
  },
];

export interface Pair { from: PodString; to: PodString; expected: boolean }

/**
 * The pairs to probe in a step. Loopback (a pod to itself) is left out, as upstream's comparison does.
 * Full: every other pair (72). Otherwise: every pair whose expectation differs from the step's default,
 * plus the first allowed pair of each source pod that has one (so each source is seen connecting).
 */
export function pairsToProbe(step: Step, full: boolean): Pair[] {
  const pairs: Pair[] = [];
  for (const from of ALL_PODS) {
    let allowedTaken = false;
    for (const to of ALL_PODS) {
      if (from === to) continue;
      const expected = step.reachability.get(from, to);
      const differs = expected !== step.reachability.defaultExpectation;
      const firstAllowed = expected && !allowedTaken;
      if (full || differs || firstAllowed) pairs.push({ from, to, expected });
      if (expected && (full || differs || firstAllowed)) allowedTaken = true;
    }
  }
  return pairs;
}

// ---------------------------------------------------------------------------------------------------
// The model's pods (upstream: one agnhost container per port and protocol; here one test server per port,
// serving TCP (HTTP) and UDP (echo) on it, with upstream's port names).

export function modelPod(pod: PodString, image: string, labels: Record<string, string> = {}): V1Pod {
  const name = pod.split('/')[1];
  const container = (port: 80 | 81): V1Container => ({
    name: `cont-${port}`,
    image,
    imagePullPolicy: 'IfNotPresent',
    // The test server's third listener (TCP echo) is moved out of the way of the model's ports.
    env: [{ name: 'HTTP_PORT', value: String(port) }, { name: 'UDP_ECHO_PORT', value: String(port) }, { name: 'TCP_ECHO_PORT', value: String(9000 + port) }],
    ports: [
      { name: portName(port, 'TCP'), containerPort: port, protocol: 'TCP' },
      { name: portName(port, 'UDP'), containerPort: port, protocol: 'UDP' },
    ],
    readinessProbe: { httpGet: { path: '/healthz', port }, periodSeconds: 1 },
  });
  return {
    metadata: { name, labels: { [POD_LABEL]: name, ...labels } },
    spec: { terminationGracePeriodSeconds: 0, containers: [container(80), container(81)] },
  };
}
