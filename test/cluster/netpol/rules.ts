// Translates Kubernetes NetworkPolicy (networking.k8s.io/v1) into ipsets and iptables rules for one node.
// Pure: no I/O, so the translation can be unit-tested; enforcer.ts applies the result.
//
// The design follows kube-router's network-policy controller (the enforcer the cluster was meant to run,
// which the Go module proxy here does not serve):
//   FORWARD -> NETCHECK-NP-FORWARD: established/related traffic returns; then, for every isolated pod on
//              this node, `-s podIP -j NETCHECK-NP-OUT-<pod>` and `-d podIP -j NETCHECK-NP-IN-<pod>`.
//   INPUT   -> NETCHECK-NP-INPUT: egress rules also cover traffic from a pod to the node itself.
//   NETCHECK-NP-IN-<pod>: one RETURN rule per allowed (peer, port) pair, traffic from the node itself
//              returns (kubelet probes, hairpin), everything else is rejected (or dropped).
//   NETCHECK-NP-OUT-<pod>: the same for egress.
// These chains never ACCEPT: allowed traffic returns to FORWARD/INPUT, where kube-proxy's rules and the
// default policy still apply.
import { createHash } from 'node:crypto';
import type {
  V1LabelSelector,
  V1NetworkPolicy,
  V1NetworkPolicyIngressRule,
  V1NetworkPolicyPeer,
  V1NetworkPolicyPort,
  V1Namespace,
  V1Pod,
} from '@kubernetes/client-node';

export const CHAIN_PREFIX = 'NETCHECK-NP-';
export const FORWARD_CHAIN = 'NETCHECK-NP-FORWARD';
export const INPUT_CHAIN = 'NETCHECK-NP-INPUT';
export const IPSET_PREFIX = 'NETCHECK-NP-';

export type DenyAction = 'REJECT' | 'DROP';

export interface IpSet {
  name: string;
  type: 'hash:ip' | 'hash:net';
  /** Entries; for hash:net an entry may end in " nomatch" (an ipBlock's except). */
  entries: string[];
}

export interface Ruleset {
  ipsets: IpSet[];
  /** iptables-restore input for the filter table (used with --noflush): our chains only. */
  filterTable: string;
  /** Names of the per-pod chains in the ruleset (to delete stale ones). */
  podChains: string[];
  /** Pod IP -> digest of that pod's rules, to find pods whose policy changed between syncs. */
  podRuleDigests: Map<string, string>;
}

export interface RulesInput {
  nodeName: string;
  pods: readonly V1Pod[];
  namespaces: readonly V1Namespace[];
  policies: readonly V1NetworkPolicy[];
  denyAction: DenyAction;
  /** Chains present in the kernel now, so stale ones can be deleted in the same transaction. */
  existingPodChains?: string[];
}

const digest = (text: string, length: number): string =>
  createHash('sha256').update(text).digest('hex').slice(0, length).toUpperCase();

/** Kubernetes label-selector semantics; an empty selector matches everything, a missing one nothing. */
export function selectorMatches(selector: V1LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (selector === undefined) return false;
  const actual = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (actual[key] !== value) return false;
  }
  for (const expression of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(actual, expression.key);
    const values = expression.values ?? [];
    switch (expression.operator) {
      case 'In':
        if (!has || !values.includes(actual[expression.key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(actual[expression.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false; // an unknown operator selects nothing, as the API server would reject it anyway
    }
  }
  return true;
}

/** Pods that take part in policy: running (or pending with an IP), on the pod network, IPv4. */
export function podHasNetworkIdentity(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return (
    pod.spec?.hostNetwork !== true &&
    phase !== 'Succeeded' &&
    phase !== 'Failed' &&
    typeof pod.status?.podIP === 'string' &&
    pod.status.podIP.includes('.')
  );
}

export function policyTypes(policy: V1NetworkPolicy): { ingress: boolean; egress: boolean } {
  const declared = policy.spec?.policyTypes;
  if (declared && declared.length > 0) {
    return { ingress: declared.includes('Ingress'), egress: declared.includes('Egress') };
  }
  return { ingress: true, egress: policy.spec?.egress !== undefined };
}

interface PortMatch {
  protocol: string;
  /** "80" or "8000:8080"; undefined = every port of the protocol. */
  ports?: string;
}

function numericPortMatch(port: V1NetworkPolicyPort, number: number): PortMatch {
  const protocol = (port.protocol ?? 'TCP').toLowerCase();
  const end = port.endPort;
  return { protocol, ports: end !== undefined && end > number ? `${number}:${end}` : String(number) };
}

/** The number a named port has on a pod (its containers' ports), or undefined. */
export function resolveNamedPort(pod: V1Pod, name: string, protocol: string): number | undefined {
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) {
      if (port.name === name && (port.protocol ?? 'TCP').toLowerCase() === protocol) return port.containerPort;
    }
  }
  return undefined;
}

function portMatchText(match: PortMatch | undefined): string {
  if (match === undefined) return '';
  return match.ports === undefined ? `-p ${match.protocol}` : `-p ${match.protocol} -m ${match.protocol} --dport ${match.ports}`;
}

class RulesetBuilder {
  readonly ipsets = new Map<string, IpSet>();
  readonly input: RulesInput;
  readonly namespaceLabels = new Map<string, Record<string, string>>();
  readonly peerPods: V1Pod[];

  constructor(input: RulesInput) {
    this.input = input;
    for (const namespace of input.namespaces) {
      const name = namespace.metadata?.name;
      if (name) this.namespaceLabels.set(name, namespace.metadata?.labels ?? { 'kubernetes.io/metadata.name': name });
    }
    this.peerPods = input.pods.filter(podHasNetworkIdentity);
  }

  /** Pods a peer selects (pod and/or namespace selector), seen from a policy in `policyNamespace`. */
  podsOfPeer(peer: V1NetworkPolicyPeer, policyNamespace: string): V1Pod[] {
    return this.peerPods.filter((pod) => {
      const namespace = pod.metadata?.namespace ?? '';
      if (peer.namespaceSelector !== undefined) {
        if (!selectorMatches(peer.namespaceSelector, this.namespaceLabels.get(namespace))) return false;
      } else if (namespace !== policyNamespace) {
        return false;
      }
      return peer.podSelector === undefined || selectorMatches(peer.podSelector, pod.metadata?.labels);
    });
  }

  /** Declares an ipset with these entries and returns its name (equal contents share one set). */
  ipset(type: IpSet['type'], entries: string[]): string {
    const sorted = [...new Set(entries)].sort();
    const name = IPSET_PREFIX + digest(`${type}|${sorted.join(',')}`, 16);
    if (!this.ipsets.has(name)) this.ipsets.set(name, { name, type, entries: sorted });
    return name;
  }

  /** `-m set` matches for a rule's peers; [''] when the rule has no peers (any address). */
  peerMatches(peers: V1NetworkPolicyPeer[] | undefined, policyNamespace: string, direction: 'src' | 'dst',
    podFilter?: (pod: V1Pod) => boolean): string[] {
    if (peers === undefined || peers.length === 0) {
      if (podFilter === undefined) return [''];
      // "any destination" restricted to pods with a given named port: every such pod in the cluster.
      const ips = this.peerPods.filter(podFilter).map((pod) => `${pod.status?.podIP}`);
      return ips.length === 0 ? [] : [`-m set --match-set ${this.ipset('hash:ip', ips)} ${direction}`];
    }
    const matches: string[] = [];
    const podIps: string[] = [];
    let hasPodPeer = false;
    for (const peer of peers) {
      if (peer.ipBlock !== undefined) {
        if (podFilter !== undefined || !peer.ipBlock.cidr.includes('.')) continue; // named ports match pods only; IPv4 only
        const entries = [...hashNetEntries(peer.ipBlock.cidr), ...(peer.ipBlock.except ?? []).filter((c) => c.includes('.')).map((c) => `${c} nomatch`)];
        matches.push(`-m set --match-set ${this.ipset('hash:net', entries)} ${direction}`);
        continue;
      }
      hasPodPeer = true;
      for (const pod of this.podsOfPeer(peer, policyNamespace)) {
        if (podFilter === undefined || podFilter(pod)) podIps.push(`${pod.status?.podIP}`);
      }
    }
    if (hasPodPeer && podIps.length > 0) matches.push(`-m set --match-set ${this.ipset('hash:ip', podIps)} ${direction}`);
    return matches;
  }
}

/**
 * The hash:net entries of an ipBlock CIDR. ipset's hash:net takes prefixes /1 to /32 only: a /0 is
 * refused ("CIDR parameter ... invalid") and the whole restore fails, so the node would apply no policy
 * change at all. As kube-router does, 0.0.0.0/0 becomes its two halves.
 */
export function hashNetEntries(cidr: string): string[] {
  const [address, prefix] = cidr.split('/');
  if (prefix === '0') return ['0.0.0.0/1', '128.0.0.0/1'];
  return [prefix === undefined ? address : cidr];
}

/** ipset-restore input that fills every set of the ruleset; each set is filled under a temporary name
 *  and swapped in, so a set is never seen half-filled. */
export function ipsetRestoreScript(ruleset: Pick<Ruleset, 'ipsets'>): string {
  const lines: string[] = [];
  for (const set of ruleset.ipsets) {
    const temporary = `${set.name}-T`;
    lines.push(`create ${set.name} ${set.type} family inet -exist`);
    lines.push(`create ${temporary} ${set.type} family inet -exist`, `flush ${temporary}`);
    for (const entry of set.entries) lines.push(`add ${temporary} ${entry}`);
    lines.push(`swap ${temporary} ${set.name}`, `destroy ${temporary}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/**
 * The peers of an ingress rule. The generated client model names the field `_from` (objects read through
 * the typed list calls) while watch events carry the raw JSON `from`: accept both.
 */
export function ingressPeers(rule: V1NetworkPolicyIngressRule): V1NetworkPolicyPeer[] | undefined {
  return rule._from ?? (rule as { from?: V1NetworkPolicyPeer[] }).from;
}

function chainName(kind: 'IN' | 'OUT', pod: V1Pod): string {
  return `${CHAIN_PREFIX}${kind}-${digest(`${pod.metadata?.namespace}/${pod.metadata?.name}/${pod.metadata?.uid}`, 10)}`;
}

function comment(text: string): string {
  // iptables-restore tokenises like a shell: keep the comment free of quotes and backslashes.
  return `-m comment --comment "${text.replace(/["\\]/g, '').slice(0, 250)}"`;
}

/** Builds the whole ruleset for the node. */
export function buildRuleset(input: RulesInput): Ruleset {
  const builder = new RulesetBuilder(input);
  const deny = input.denyAction === 'REJECT' ? '-j REJECT' : '-j DROP';
  const localPods = input.pods.filter((pod) => pod.spec?.nodeName === input.nodeName && podHasNetworkIdentity(pod));
  const chains: string[] = [];
  const chainRules: string[] = [];
  const forwardRules: string[] = [];
  const inputRules: string[] = [];
  const podRuleDigests = new Map<string, string>();

  for (const pod of localPods) {
    const namespace = pod.metadata?.namespace ?? '';
    const podIp = `${pod.status?.podIP}`;
    const podName = `${namespace}/${pod.metadata?.name}`;
    const selecting = input.policies.filter(
      (policy) => policy.metadata?.namespace === namespace && selectorMatches(policy.spec?.podSelector ?? {}, pod.metadata?.labels),
    );
    const ingressPolicies = selecting.filter((policy) => policyTypes(policy).ingress);
    const egressPolicies = selecting.filter((policy) => policyTypes(policy).egress);
    const podRules: string[] = [];

    if (ingressPolicies.length > 0) {
      const chain = chainName('IN', pod);
      chains.push(chain);
      podRules.push(`-A ${chain} ${comment(`ingress of ${podName}`)} -m addrtype --src-type LOCAL -j RETURN`);
      for (const policy of ingressPolicies) {
        const policyName = `${namespace}/${policy.metadata?.name}`;
        for (const rule of policy.spec?.ingress ?? []) {
          const peers = builder.peerMatches(ingressPeers(rule), namespace, 'src');
          const ports: (PortMatch | undefined)[] = [];
          if (rule.ports === undefined || rule.ports.length === 0) ports.push(undefined);
          for (const port of rule.ports ?? []) {
            const protocol = (port.protocol ?? 'TCP').toLowerCase();
            if (port.port === undefined) ports.push({ protocol });
            else if (typeof port.port === 'number') ports.push(numericPortMatch(port, port.port));
            else {
              const number = resolveNamedPort(pod, port.port, protocol);
              if (number !== undefined) ports.push({ protocol, ports: String(number) });
            }
          }
          for (const peer of peers) {
            for (const port of ports) {
              podRules.push(`-A ${chain} ${comment(`allowed by ${policyName}`)} ${peer} ${portMatchText(port)} -j RETURN`.replace(/ +/g, ' '));
            }
          }
        }
      }
      podRules.push(`-A ${chain} ${comment(`ingress of ${podName} not allowed by any policy`)} ${deny}`);
      forwardRules.push(`-A ${FORWARD_CHAIN} -d ${podIp}/32 ${comment(`ingress of ${podName}`)} -j ${chain}`);
    }

    if (egressPolicies.length > 0) {
      const chain = chainName('OUT', pod);
      chains.push(chain);
      for (const policy of egressPolicies) {
        const policyName = `${namespace}/${policy.metadata?.name}`;
        for (const rule of policy.spec?.egress ?? []) {
          const pairs: { peer: string; port: PortMatch | undefined }[] = [];
          if (rule.ports === undefined || rule.ports.length === 0) {
            for (const peer of builder.peerMatches(rule.to, namespace, 'dst')) pairs.push({ peer, port: undefined });
          }
          for (const port of rule.ports ?? []) {
            const protocol = (port.protocol ?? 'TCP').toLowerCase();
            if (typeof port.port === 'string') {
              // A named port means different numbers on different destination pods: one set per number.
              const name = port.port;
              const numbers = new Set<number>();
              for (const candidate of builder.peerPods) {
                const number = resolveNamedPort(candidate, name, protocol);
                if (number !== undefined) numbers.add(number);
              }
              for (const number of numbers) {
                const filter = (candidate: V1Pod) => resolveNamedPort(candidate, name, protocol) === number;
                for (const peer of builder.peerMatches(rule.to, namespace, 'dst', filter)) {
                  pairs.push({ peer, port: { protocol, ports: String(number) } });
                }
              }
              continue;
            }
            const match = port.port === undefined ? { protocol } : numericPortMatch(port, port.port);
            for (const peer of builder.peerMatches(rule.to, namespace, 'dst')) pairs.push({ peer, port: match });
          }
          for (const { peer, port } of pairs) {
            podRules.push(`-A ${chain} ${comment(`allowed by ${policyName}`)} ${peer} ${portMatchText(port)} -j RETURN`.replace(/ +/g, ' '));
          }
        }
      }
      podRules.push(`-A ${chain} ${comment(`egress of ${podName} not allowed by any policy`)} ${deny}`);
      const jump = `-s ${podIp}/32 ${comment(`egress of ${podName}`)} -j ${chain}`;
      // Egress checks come before ingress checks: a packet must pass both its source's and its destination's.
      forwardRules.unshift(`-A ${FORWARD_CHAIN} ${jump}`);
      inputRules.push(`-A ${INPUT_CHAIN} ${jump}`);
    }
    chainRules.push(...podRules);
    podRuleDigests.set(podIp, digest(podRules.join('\n').replaceAll(podIp, 'POD'), 16));
  }

  const established = `${comment('replies and related traffic of allowed connections')} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`;
  const stale = (input.existingPodChains ?? []).filter((chain) => !chains.includes(chain));
  const lines = [
    '*filter',
    `:${FORWARD_CHAIN} - [0:0]`,
    `:${INPUT_CHAIN} - [0:0]`,
    ...chains.map((chain) => `:${chain} - [0:0]`),
    ...stale.map((chain) => `:${chain} - [0:0]`),
    `-A ${FORWARD_CHAIN} ${established}`,
    ...forwardRules,
    `-A ${INPUT_CHAIN} ${established}`,
    ...inputRules,
    ...chainRules,
    ...stale.map((chain) => `-X ${chain}`),
    'COMMIT',
    '',
  ];
  return { ipsets: [...builder.ipsets.values()], filterTable: lines.join('\n'), podChains: chains, podRuleDigests };
}
