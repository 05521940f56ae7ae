// The nodes: one that does not forward, is not Ready, or drops new connections because its conntrack
// table is full (DNS queries too: the lookup fails first). A node fault explains traffic that got no
// answer, never a refusal: a RST proves the packets reached the pod and came back.
import { Layer } from '../layers/index.ts';
import { Cause } from '../reasons.ts';
import { kubectl, onNode } from '../reproduce.ts';
import { cause, issueOn, rule } from './shared.ts';

export const conntrackTableFull = rule('conntrackTableFull', [Cause.ConntrackTableFull], ({ a, s }) => {
  const { bypass, path, lookup } = s;
  // A full table drops every new flow, DNS queries first: a lookup without an answer, by the source's node
  // preferably (where the query's flow starts), else another full one (the DNS server's, say).
  const conntrack = bypass
    ? issueOn(a.node.conntrackFull, bypass.node)
    : path?.unanswered
      ? a.node.conntrackFull[0]
      : lookup?.noAnswer
        ? issueOn(a.node.conntrackFull, lookup.node)
        : undefined;
  if (!conntrack) return undefined;
  const check = onNode(a.repro, conntrack.node, ['conntrack', '-C']);
  const fix = `Fix: raise net.netfilter.nf_conntrack_max on node ${conntrack.node} (kube-proxy conntrack.maxPerCore) and find what holds so many connections.`;
  if (lookup && !bypass && !path) {
    const summary = `${lookup.text}; the ${conntrack.text}, so new connections (DNS queries first) are dropped.`;
    return cause(Layer.Node, Cause.ConntrackTableFull, 'failure', summary, fix, [...lookup.reproduce, check]);
  }
  if (bypass) {
    return cause(
      Layer.Node,
      Cause.ConntrackTableFull,
      'failure',
      `${bypass.text}; the ${conntrack.text}, so new NATed connections are dropped.`,
      fix,
      [...bypass.reproduce, check],
    );
  }
  return cause(Layer.Node, Cause.ConntrackTableFull, 'failure', `${path!.text}; the ${conntrack.text}, so new connections are dropped.`, fix, [
    ...path!.reproduce,
    check,
  ]);
});

export const ipForwardingDisabled = rule('ipForwardingDisabled', [Cause.IPForwardingDisabled], ({ a, s }) => {
  const forwarding = a.node.ipForwardOff[0];
  if (!forwarding) return undefined;
  const { path, external, lookup } = s;
  const check = onNode(a.repro, forwarding.node, ['sysctl', 'net.ipv4.ip_forward']);
  const fix =
    `Fix: set net.ipv4.ip_forward=1 on node ${forwarding.node} (sysctl -w net.ipv4.ip_forward=1, and persist it in /etc/sysctl.d); ` +
    `something reset it.`;
  if (path?.unanswered) {
    return cause(
      Layer.Node,
      Cause.IPForwardingDisabled,
      'failure',
      `${path.text}; ${forwarding.text}, so the node does not route pod traffic.`,
      fix,
      [...path.reproduce, check],
    );
  }
  // Policy first on the way out, as on the ladder: a NetworkPolicy that denies the egress decides (egressBlocked).
  if (external?.attempt && !external.internal && !external.refused && a.policy.denied.length === 0) {
    const summary = `${external.text}; ${forwarding.text}, so the node does not route pod traffic out.`;
    return cause(Layer.Node, Cause.IPForwardingDisabled, 'failure', summary, fix, [...external.reproduce, check]);
  }
  if (lookup?.noAnswer && !lookup.proxyInQuestion) {
    const summary = `${lookup.text}; ${forwarding.text}, so DNS queries to pods on other nodes are not routed.`;
    return cause(Layer.Node, Cause.IPForwardingDisabled, 'failure', summary, fix, [...lookup.reproduce, check]);
  }
  return undefined;
});

export const nodeNotReady = rule('nodeNotReady', [Cause.NodeNotReady], ({ a, s }) => {
  const path = s.path;
  if (!path?.unanswered) return undefined;
  const notReady = a.node.notReady.find((issue) => path.involved.has(issue.node)) ?? a.node.notReady[0];
  if (!notReady) return undefined;
  const fix = `Fix: bring node ${notReady.node} back to Ready (kubelet, container runtime, network), or drain it.`;
  return cause(Layer.Node, Cause.NodeNotReady, 'failure', `${path.text}; ${notReady.text}.`, fix, [
    ...path.reproduce,
    kubectl(undefined, 'describe', 'node', notReady.node),
  ]);
});
