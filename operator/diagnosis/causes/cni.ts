// The CNI: a node whose pod network is not set up, an agent that is not ready on a node involved in
// the failure, and the overlay between nodes (same-node pods answer, cross-node ones time out).
import { listText, sentence, uniq } from '../../util/text.ts';
import type { Analysis } from '../analysis.ts';
import { Layer } from '../layers/index.ts';
import { Cause } from '../reasons.ts';
import { kubectl, onNode } from '../reproduce.ts';
import { cause, outcomeShort, rule, sourceText } from './shared.ts';
import type { NodeIssue } from '../layers/node.ts';
import type { LookupSymptom, PathSymptom, Symptoms } from './symptoms.ts';

/**
 * The node issue that explains what failed: on a node involved in a path that got no answer, or any
 * node for a lookup without an answer (when the service proxy is not in question: it comes first).
 */
function explainedBy(s: Symptoms, issues: readonly NodeIssue[]): { issue: NodeIssue; symptom: PathSymptom | LookupSymptom } | undefined {
  const { path, lookup } = s;
  if (path?.unanswered) {
    const issue = issues.find((candidate) => path.involved.has(candidate.node));
    return issue ? { issue, symptom: path } : undefined;
  }
  if (lookup?.noAnswer && !lookup.proxyInQuestion && issues[0]) return { issue: issues[0], symptom: lookup };
  return undefined;
}

export const nodeNetworkUnavailable = rule('nodeNetworkUnavailable', [Cause.NodeNetworkUnavailable], ({ a, s }) => {
  const explained = explainedBy(s, a.cni.networkUnavailable);
  if (!explained) return undefined;
  const { issue: unavailable, symptom } = explained;
  const fix =
    `Fix: check the CNI agent on node ${unavailable.node}; the route controller or CNI clears NetworkUnavailable once the node's pod ` +
    `network is configured.`;
  const summary = `${symptom.text}; ${unavailable.text}: the CNI has not set up its network.`;
  return cause(Layer.CNI, Cause.NodeNetworkUnavailable, 'failure', summary, fix, [
    ...symptom.reproduce,
    kubectl(undefined, 'describe', 'node', unavailable.node),
  ]);
});

export const cniAgentNotReady = rule('cniAgentNotReady', [Cause.CNIAgentNotReady], ({ a, s }) => {
  const explained = explainedBy(s, a.cni.agentProblems);
  if (!explained) return undefined;
  const { issue: agent, symptom } = explained;
  const fix = `Fix: repair the CNI agent on node ${agent.node} (its pod's events and logs say why it is not ready).`;
  const pods = kubectl(undefined, 'get', 'pods', '-A', '-o', 'wide', `--field-selector=spec.nodeName=${agent.node}`);
  return cause(Layer.CNI, Cause.CNIAgentNotReady, 'failure', `${symptom.text}; ${agent.text}.`, fix, [...symptom.reproduce, pods]);
});

/** Cross-node pods time out while same-node ones answer (or only cross-node ones fail and a node's tunnel address is off). */
function overlayFailing(a: Analysis, s: Symptoms): boolean {
  const silent = s.path?.silent ?? [];
  const crossOnly = silent.length > 0 && silent.every((o) => o.sameNode === false);
  return Boolean(s.path) && (a.cni.overlaySuspect || (crossOnly && a.cni.overlayAddressMismatch.length > 0));
}

function comparisonText(a: Analysis): string {
  const { cni } = a;
  const same = cni.sameNodeOk.length
    ? `Same-node pods answer (${listText(
        cni.sameNodeOk.map((o) => outcomeShort(a, o)),
        2,
      )}) but cross-node`
    : 'Cross-node';
  const from = cni.crossNodeFailed[0]?.vantage.label ?? sourceText(a);
  return `${same} pods time out (${listText(
    cni.crossNodeFailed.map((o) => outcomeShort(a, o)),
    3,
  )}) from ${from}`;
}

function tunnelCheck(a: Analysis) {
  const node = a.cni.crossNodeFailed[0]?.vantage.node;
  return node ? [onNode(a.repro, node, ['ip', '-d', 'link', 'show'])] : [];
}

export const overlaySourceAddressMismatch = rule('overlaySourceAddressMismatch', [Cause.OverlaySourceAddressMismatch], ({ a, s }) => {
  const mismatch = a.cni.overlayAddressMismatch;
  if (!overlayFailing(a, s) || mismatch.length === 0) return undefined;
  const texts = listText(
    mismatch.map((i) => i.text),
    2,
  );
  return cause(
    Layer.CNI,
    Cause.OverlaySourceAddressMismatch,
    'failure',
    sentence(`${comparisonText(a)}; ${texts}, so peers receive tunnel packets from an address they do not expect`),
    `Fix: make the CNI use node ${mismatch[0].node}'s InternalIP as its tunnel address (flannel --iface/--public-ip, Calico ` +
      `IP_AUTODETECTION_METHOD), or remove the stray address from the node's interface.`,
    [...s.path!.reproduce, kubectl(undefined, 'get', 'node', mismatch[0].node, '-o', 'yaml'), ...tunnelCheck(a)],
  );
});

export const overlayBroken = rule('overlayBroken', [Cause.OverlayBroken], ({ a, s }) => {
  if (!overlayFailing(a, s)) return undefined;
  const { cni } = a;
  const nodes = uniq(cni.crossNodeFailed.flatMap((o) => [o.vantage.node, o.node]).filter((n): n is string => Boolean(n)));
  const agents = cni.detected.length ? ` (CNI: ${cni.detected.join(', ')})` : '';
  return cause(
    Layer.CNI,
    Cause.OverlayBroken,
    'failure',
    sentence(`${comparisonText(a)}: the overlay between nodes ${listText(nodes)} drops traffic${agents}`),
    `Fix: allow the overlay traffic between the nodes (VXLAN UDP 4789 or 8472, Geneve UDP 6081, IPIP protocol 4, WireGuard UDP 51820, depending on ` +
      `the CNI) in host firewalls and security groups, and check the CNI agents on ${listText(nodes)}.`,
    [...s.path!.reproduce, ...tunnelCheck(a)],
  );
});
