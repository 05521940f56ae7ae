// Layer 6, nodes: do the nodes involved forward and program services? The node probe (a hostNetwork
// pod the operator runs) reads ip_forward, bridge netfilter, conntrack fill and the service rules; the
// API adds Ready and the kube-proxy pods.
import type { V1Pod } from '@kubernetes/client-node';
import { listText, plural } from '../../util/text.ts';
import type { AnalysisBase, Context, NodeProbe } from '../analysis.ts';
import { KUBE_PROXY_LABEL } from '../evidence.ts';
import { fetchedError, fetchedValue, isPodReady, nodeCondition } from '../objects.ts';
import { Cause, LayerReason } from '../reasons.ts';
import { podStateText } from '../text.ts';
import { defineLayer, finding } from './layer.ts';

declare module '../analysis.ts' {
  interface LayerAnalyses {
    readonly node: NodeAnalysis;
  }
}

export interface NodeIssue {
  readonly node: string;
  readonly text: string;
}

export interface KubeProxyPods {
  readonly error?: string;
  readonly byNode: Map<string, V1Pod[]>;
  readonly anyFound: boolean;
}

export interface NodeAnalysis {
  readonly probes: NodeProbe[];
  readonly involvedNodes: string[];
  readonly nodesError?: string;
  readonly ipForwardOff: NodeIssue[];
  readonly bridgeNetfilterOff: NodeIssue[];
  readonly conntrackFull: NodeIssue[];
  readonly notReady: NodeIssue[];
  /** The node probe found no rules for the Service IP (only meaningful when kube-proxy is expected). */
  readonly serviceRulesMissing: NodeIssue[];
  readonly kubeProxy: KubeProxyPods;
  readonly notes: string[];
}

const NAME = 'Node';
const DEFAULT_CONNTRACK_FULL_RATIO = 0.9;

export const nodeLayer = defineLayer({ name: NAME, condition: 'NodeForwarding', key: 'node', analyse: analyseNodes, finding: nodeFinding });

type ProbeIssues = Pick<NodeAnalysis, 'ipForwardOff' | 'bridgeNetfilterOff' | 'conntrackFull' | 'serviceRulesMissing' | 'notes'>;

function analyseNodes(context: Context): NodeAnalysis {
  const service = context.dest.service;
  const clusterIP = service?.spec?.clusterIP && service.spec.clusterIP !== 'None' ? service.spec.clusterIP : undefined;
  const ratio = context.options.conntrackFullRatio ?? DEFAULT_CONNTRACK_FULL_RATIO;
  const issues = probeIssues(context.nodeProbes, clusterIP, ratio, pathStartNodes(context));
  const notReady: NodeIssue[] = [];
  for (const name of context.involvedNodes) {
    const node = context.nodes.find((candidate) => candidate.metadata?.name === name);
    const ready = nodeCondition(node, 'Ready');
    if (node && ready !== 'True') {
      const message = node.status?.conditions?.find((c) => c.type === 'Ready')?.message;
      notReady.push({ node: name, text: `node ${name} is not Ready (Ready=${ready ?? 'missing'}${message ? `: ${message}` : ''})` });
    }
  }
  return {
    probes: context.nodeProbes,
    involvedNodes: context.involvedNodes,
    nodesError: fetchedError(context.evidence.nodes),
    ...issues,
    notes: [...issues.notes, ...(context.input.nodeInspection?.notes ?? [])],
    notReady,
    kubeProxy: kubeProxyPods(context),
  };
}

/**
 * The nodes a ClusterIP is translated on: where the probes ran (the source). A destination node's
 * service rules do not matter to this path; empty when no probe says where it ran.
 */
function pathStartNodes(context: Context): Set<string> {
  const nodes = [context.source.node, ...context.vantages.map((vantage) => vantage.node)];
  return new Set(nodes.filter((node): node is string => Boolean(node)));
}

/** What the node probes saw: forwarding off, bridge netfilter off, a full conntrack table, missing service rules. */
function probeIssues(probes: NodeProbe[], clusterIP: string | undefined, ratio: number, startNodes: Set<string>): ProbeIssues {
  const issues: ProbeIssues = { ipForwardOff: [], bridgeNetfilterOff: [], conntrackFull: [], serviceRulesMissing: [], notes: [] };
  for (const probe of probes) {
    const node = probe.node ?? 'the source node';
    const result = probe.result;
    if (result.ipForward === 0) issues.ipForwardOff.push({ node, text: `net.ipv4.ip_forward=0 on node ${node}` });
    if (result.bridgeNfCallIptables === 0) issues.bridgeNetfilterOff.push({ node, text: `net.bridge.bridge-nf-call-iptables=0 on node ${node}` });
    if (result.conntrackCount !== null && result.conntrackMax && result.conntrackCount >= result.conntrackMax * ratio) {
      issues.conntrackFull.push({ node, text: `conntrack table on node ${node} holds ${result.conntrackCount} of ${result.conntrackMax} entries` });
    }
    if (result.err) issues.notes.push(`node ${node} inspection: ${result.err}`);
    if (probe.node && startNodes.size > 0 && !startNodes.has(probe.node)) continue;
    const svc = result.svc;
    if (svc && clusterIP && svc.ip === clusterIP) {
      if (svc.rules === 0) {
        issues.serviceRulesMissing.push({ node, text: `no KUBE-SERVICES rule for ${clusterIP} on node ${node} (proxy mode ${result.proxyMode})` });
      } else {
        const rejects = svc.rejectRules > 0 ? `, ${plural(svc.rejectRules, 'REJECT rule')}: kube-proxy thinks it has no endpoints` : '';
        const rules = `${plural(svc.rules, 'rule')} for ${clusterIP} (${plural(svc.endpoints, 'endpoint')} in ${listText(svc.chains, 2)}${rejects})`;
        issues.notes.push(`node ${node}: ${rules}, proxy mode ${result.proxyMode}`);
      }
    } else if (result.proxyMode === 'none' && clusterIP) {
      issues.serviceRulesMissing.push({
        node,
        text: `no kube-proxy rules at all on node ${node} (no iptables KUBE-SERVICES chain, no IPVS, no nftables table)`,
      });
    }
  }
  return issues;
}

function kubeProxyPods(context: Context): KubeProxyPods {
  const list = context.evidence.agentPods.find((entry) => entry.selector.includes(KUBE_PROXY_LABEL.value));
  const pods = (fetchedValue(list?.pods) ?? []).filter((pod) => pod.metadata?.labels?.[KUBE_PROXY_LABEL.key] === KUBE_PROXY_LABEL.value);
  const byNode = new Map<string, V1Pod[]>();
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    if (node) byNode.set(node, [...(byNode.get(node) ?? []), pod]);
  }
  return { error: fetchedError(list?.pods) ?? (list ? undefined : 'kube-proxy pods were not read'), byNode, anyFound: pods.length > 0 };
}

/** What the API says about kube-proxy on a node, hedged: it may run outside Kubernetes. */
export function kubeProxyText(analysis: NodeAnalysis, node: string | undefined): string | undefined {
  if (!node) return undefined;
  if (analysis.kubeProxy.error) return `kube-proxy pods could not be read (${analysis.kubeProxy.error})`;
  const pods = analysis.kubeProxy.byNode.get(node) ?? [];
  if (pods.length === 0) {
    return analysis.kubeProxy.anyFound
      ? `no kube-proxy pod on node ${node}, although other nodes run one`
      : `no kube-proxy pod found on node ${node} (it may run outside Kubernetes)`;
  }
  const pod = pods[0];
  return isPodReady(pod)
    ? `kube-proxy pod ${pod.metadata?.name} is Running on node ${node}`
    : `kube-proxy pod ${pod.metadata?.name} on node ${node} is ${podStateText(pod)}`;
}

/** kube-proxy is positively missing or broken on the node (absent while other nodes have one, or not ready). */
export function kubeProxyBroken(analysis: NodeAnalysis, node: string | undefined): boolean {
  if (!node || analysis.kubeProxy.error) return false;
  const pods = analysis.kubeProxy.byNode.get(node) ?? [];
  return pods.length === 0 ? analysis.kubeProxy.anyFound : !pods.some(isPodReady);
}

function nodeFinding(a: AnalysisBase) {
  const { node } = a;
  const sourceNode = a.vantages[0]?.node ?? a.source.node;
  const proxy = a.kind === 'service' && a.service.applicable ? kubeProxyText(node, sourceNode) : undefined;
  const context = [...node.notes, ...(proxy ? [proxy] : [])];
  const contextText = context.length ? ` ${context.join('; ')}.` : '';
  const serviceFailed = a.service.connectFailed.length > 0;
  const problems = [
    ...node.ipForwardOff.map((i) => ({ reason: Cause.IPForwardingDisabled, text: i.text })),
    ...node.notReady.map((i) => ({ reason: Cause.NodeNotReady, text: i.text })),
    ...node.conntrackFull.map((i) => ({ reason: Cause.ConntrackTableFull, text: i.text })),
    ...node.bridgeNetfilterOff.map((i) => ({ reason: Cause.BridgeNetfilterDisabled, text: i.text })),
    ...(serviceFailed ? node.serviceRulesMissing.map((i) => ({ reason: Cause.ServiceProxyMissing, text: i.text })) : []),
  ];
  if (problems.length > 0) return finding(NAME, 'False', problems[0].reason, `${problems.map((p) => p.text).join('; ')}.${contextText}`);
  if (node.probes.length === 0) {
    const many = node.involvedNodes.length > 1;
    const state = node.nodesError ? `could not be read (${node.nodesError})` : many ? 'are Ready' : 'is Ready';
    const nodesText = node.involvedNodes.length ? ` ${many ? 'Nodes' : 'Node'} ${listText(node.involvedNodes)} ${state}.` : '';
    const known = node.involvedNodes.length > 0 && !node.nodesError;
    const text = `No node inspection ran (forwarding and service rules not read).${nodesText}${contextText}`;
    return finding(NAME, known ? 'True' : 'Unknown', known ? LayerReason.NodeHealthy : LayerReason.NotProbed, text);
  }
  const probeText = node.probes.map(({ node: name, result: r }) => {
    const conntrack = `conntrack ${r.conntrackCount ?? '?'}/${r.conntrackMax ?? '?'}`;
    return (
      `node ${name ?? '?'}: ip_forward=${r.ipForward ?? '?'}, bridge-nf-call-iptables=${r.bridgeNfCallIptables ?? 'n/a'}, ${conntrack}, proxy ` +
      `mode ${r.proxyMode}`
    );
  });
  const rulesNote =
    !serviceFailed && node.serviceRulesMissing.length
      ? ` ${node.serviceRulesMissing.map((i) => i.text).join('; ')} (the ClusterIP works, so another service proxy such as eBPF handles it).`
      : '';
  return finding(NAME, 'True', LayerReason.NodeHealthy, `${probeText.join('; ')}.${contextText}${rulesNote}`);
}
