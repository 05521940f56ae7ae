// Layer 7, the CNI and overlay: do cross-node packets get through? The CNI agents' pods on the nodes
// involved, the nodes' NetworkUnavailable condition and overlay address annotations, and the
// comparison of same-node against cross-node pod connections.
import { listText } from '../../util/text.ts';
import type { AnalysisBase, Context, PodOutcome } from '../analysis.ts';
import { CNI_AGENTS, OVERLAY_ADDRESS_ANNOTATIONS } from '../evidence.ts';
import { fetchedValue, isPodReady, nodeInternalIP } from '../objects.ts';
import { Cause, LayerReason } from '../reasons.ts';
import { outcomeText, podStateText } from '../text.ts';
import { defineLayer, finding } from './layer.ts';
import type { NodeIssue } from './node.ts';

declare module '../analysis.ts' {
  interface LayerAnalyses {
    readonly cni: CniAnalysis;
  }
}

export interface CniAnalysis {
  readonly agentsError?: string;
  /** CNIs whose agent pods exist in the cluster. */
  readonly detected: string[];
  readonly agentProblems: NodeIssue[];
  readonly networkUnavailable: NodeIssue[];
  readonly overlayAddressMismatch: NodeIssue[];
  readonly sameNodeOk: PodOutcome[];
  readonly sameNodeFailed: PodOutcome[];
  readonly crossNodeOk: PodOutcome[];
  readonly crossNodeFailed: PodOutcome[];
  /** Same-node connections work but cross-node ones time out. */
  readonly overlaySuspect: boolean;
}

const NAME = 'CNI';

export const cniLayer = defineLayer({ name: NAME, condition: 'CNIHealthy', key: 'cni', analyse: analyseCni, finding: cniFinding });

function analyseCni(context: Context): CniAnalysis {
  const errors = context.evidence.agentPods.flatMap((entry) => (entry.pods.ok ? [] : [entry.pods.error]));
  const agents = agentProblems(context);
  const silent = (outcome: PodOutcome) => outcome.status === 'timeout' || outcome.status === 'unreachable';
  const outcomes = context.podOutcomes;
  const sameNodeOk = outcomes.filter((o) => o.sameNode === true && o.status === 'ok');
  const sameNodeFailed = outcomes.filter((o) => o.sameNode === true && silent(o));
  const crossNodeOk = outcomes.filter((o) => o.sameNode === false && o.status === 'ok');
  const crossNodeFailed = outcomes.filter((o) => o.sameNode === false && silent(o));
  return {
    agentsError: errors.length > 0 ? errors.join('; ') : undefined,
    ...agents,
    ...nodeNetworkIssues(context),
    sameNodeOk,
    sameNodeFailed,
    crossNodeOk,
    crossNodeFailed,
    overlaySuspect: sameNodeOk.length > 0 && sameNodeFailed.length === 0 && crossNodeFailed.length > 0,
  };
}

/** The CNI agents found, and those missing or not ready on a node involved. */
function agentProblems(context: Context): Pick<CniAnalysis, 'detected' | 'agentProblems'> {
  const detected: string[] = [];
  const problems: NodeIssue[] = [];
  const allPods = context.evidence.agentPods.flatMap((entry) => fetchedValue(entry.pods) ?? []);
  for (const agent of CNI_AGENTS) {
    const pods = allPods.filter((pod) => pod.metadata?.labels?.[agent.key] === agent.value);
    if (pods.length === 0) continue;
    detected.push(agent.name);
    for (const node of context.involvedNodes) {
      const onNode = pods.filter((pod) => pod.spec?.nodeName === node);
      if (onNode.length === 0) problems.push({ node, text: `no ${agent.name} agent pod on node ${node} (other nodes run one)` });
      else if (!onNode.some(isPodReady))
        problems.push({ node, text: `${agent.name} agent ${onNode[0].metadata?.name} on node ${node} is ${podStateText(onNode[0])}` });
    }
  }
  return { detected, agentProblems: problems };
}

/** Nodes whose pod network is not set up, or whose overlay source address is not their InternalIP. */
function nodeNetworkIssues(context: Context): Pick<CniAnalysis, 'networkUnavailable' | 'overlayAddressMismatch'> {
  const networkUnavailable: NodeIssue[] = [];
  const overlayAddressMismatch: NodeIssue[] = [];
  for (const name of context.involvedNodes) {
    const node = context.nodes.find((candidate) => candidate.metadata?.name === name);
    if (!node) continue;
    const unavailable = node.status?.conditions?.find((c) => c.type === 'NetworkUnavailable');
    if (unavailable?.status === 'True') {
      networkUnavailable.push({
        node: name,
        text: `node ${name} has NetworkUnavailable=True${unavailable.reason ? ` (${unavailable.reason})` : ''}`,
      });
    }
    const internalIP = nodeInternalIP(node);
    for (const annotation of OVERLAY_ADDRESS_ANNOTATIONS) {
      const value = node.metadata?.annotations?.[annotation];
      if (!value || !internalIP) continue;
      const address = value.split('/')[0];
      if (address !== internalIP) {
        overlayAddressMismatch.push({
          node: name,
          text: `node ${name} encapsulates overlay traffic from ${address} (${annotation}) but its InternalIP is ${internalIP}`,
        });
      }
    }
  }
  return { networkUnavailable, overlayAddressMismatch };
}

function issuesText(issues: readonly NodeIssue[]): string {
  return issues.map((i) => i.text).join('; ');
}

function cniFinding(a: AnalysisBase) {
  const { cni } = a;
  const detected = cni.detected.length
    ? `CNI agents found: ${cni.detected.join(', ')}.`
    : cni.agentsError
      ? `CNI agent pods could not be read (${cni.agentsError}).`
      : 'No CNI agent pods found by their well-known labels (the CNI may run on the host, e.g. a bridge plugin).';
  const counts =
    `Same-node pod connections: ${cni.sameNodeOk.length} ok, ${cni.sameNodeFailed.length} failed; cross-node: ` +
    `${cni.crossNodeOk.length} ok, ${cni.crossNodeFailed.length} failed.`;
  const compared = cni.sameNodeOk.length + cni.sameNodeFailed.length + cni.crossNodeOk.length + cni.crossNodeFailed.length > 0;
  if (cni.agentProblems.length) return finding(NAME, 'False', Cause.CNIAgentNotReady, `${issuesText(cni.agentProblems)}. ${detected}`);
  if (cni.networkUnavailable.length)
    return finding(NAME, 'False', Cause.NodeNetworkUnavailable, `${issuesText(cni.networkUnavailable)}. ${detected}`);
  if (cni.overlaySuspect)
    return overlayFinding(
      a,
      `${counts} Cross-node: ${listText(
        cni.crossNodeFailed.map((o) => outcomeText(o, a.transport)),
        3,
      )}.`,
      detected,
    );
  const notes = cni.overlayAddressMismatch.length ? ` Note: ${issuesText(cni.overlayAddressMismatch)}.` : '';
  if (!compared && !cni.detected.length) {
    return finding(
      NAME,
      'Unknown',
      cni.agentsError ? LayerReason.EvidenceUnavailable : LayerReason.NotProbed,
      `${detected} No pod connections to compare by node.${notes}`,
    );
  }
  const ready = cni.detected.length ? ` Ready on ${listText(a.node.involvedNodes)}.` : '';
  return finding(NAME, 'True', LayerReason.CNIAgentsReady, `${detected}${ready}${compared ? ` ${counts}` : ''}${notes}`);
}

function overlayFinding(a: AnalysisBase, crossText: string, detected: string) {
  const { cni } = a;
  // A node that does not forward explains the same pattern; say so instead of blaming the overlay.
  if (a.node.ipForwardOff.length || a.node.notReady.length) {
    const nodeText = issuesText([...a.node.ipForwardOff, ...a.node.notReady]);
    return finding(NAME, 'False', LayerReason.CrossNodeFailing, `${crossText} Explained by the node layer: ${nodeText}. ${detected}`);
  }
  const mismatch = cni.overlayAddressMismatch.length ? ` ${issuesText(cni.overlayAddressMismatch)}.` : '';
  const reason = cni.overlayAddressMismatch.length ? Cause.OverlaySourceAddressMismatch : Cause.OverlayBroken;
  return finding(NAME, 'False', reason, `${crossText}${mismatch} ${detected}`);
}
