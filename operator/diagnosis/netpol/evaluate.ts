// A NetworkPolicy evaluator with the semantics of networking.k8s.io/v1. Pure functions: it takes the
// policies, the namespaces and the two endpoints of a flow and says whether the flow is allowed, which
// policies select each side, which rule allows it, or which policies' default-deny applies.
//
// Semantics implemented (https://kubernetes.io/docs/concepts/services-networking/network-policies/):
// - A pod is isolated for a direction iff some policy IN ITS NAMESPACE selects it (spec.podSelector, {} =
//   every pod) and has that direction among its policyTypes. Absent policyTypes mean Ingress, plus Egress
//   when spec.egress has at least one rule (the API server's defaulting).
// - An isolated pod accepts/sends traffic iff at least one rule of at least one selecting policy allows
//   it (policies are additive, there is no deny rule). A direction with no rules denies everything.
// - A rule with no from/to peers matches every peer; a rule with no ports matches every port.
// - Peer: podSelector alone = pods in the policy's namespace; namespaceSelector alone = all pods in the
//   matching namespaces; both in one peer = pods matching podSelector in namespaces matching
//   namespaceSelector (AND); separate peers are ORed. ipBlock = cidr minus except, IPv4 or IPv6.
// - Port: protocol defaults to TCP; a numeric port with optional endPort range; a named port is
//   resolved against the DESTINATION pod's container ports (for egress only when the destination is a
//   pod: a named port never matches an external address).
// - A flow needs egress allowed at the source pod AND ingress allowed at the destination pod. A side that
//   is not a pod (external address, node) is not subject to NetworkPolicy.
//
// Choices where implementations differ (documented so the diagnosis can say so):
// - ipBlock is matched against pod IPs too (Calico, kube-router, Antrea do; Cilium does not match
//   in-cluster endpoints against CIDR rules). Set `ipBlockMatchesPodIPs: false` for the latter.
// - hostNetwork pods are treated as the node: policies do not select them, and pod/namespace selectors do
//   not match them as peers (the behaviour the docs describe for most plugins). Only ipBlock can match.
// - Traffic is evaluated after Service DNAT: the destination is a pod IP and the port is the targetPort.
//   Pass the backend pod, not the ClusterIP.
// - Ingress rules: @kubernetes/client-node names the field `_from`; a plain YAML/JSON object has `from`.
//   Both are read.
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import {
  DEFAULT_PROTOCOL,
  describeEndpoint,
  describePodShort,
  isHostNetwork,
  podNamespaceOf,
  policiesSelectingPod,
  policyRef,
  type DirectionVerdict,
  type Flow,
  type FlowEndpoint,
  type FlowVerdict,
  type L4Protocol,
  type PolicyContext,
  type PolicyDirection,
  type RuleNearMiss,
  type RuleRef,
} from './model.ts';
import { formatPeers, formatPolicyRefs, formatPorts, formatTarget, peerMatches, portMatches, ruleDescription, rulesOf } from './rules.ts';

/** One direction of a flow: the pod it is enforced at, the pod or address at the other end. */
interface Side {
  readonly direction: PolicyDirection;
  readonly flow: Flow;
  readonly protocol: L4Protocol;
  readonly subject: FlowEndpoint;
  readonly peer: FlowEndpoint;
  /** "Egress from", "Ingress to". */
  readonly verb: string;
  /** "Egress from pod shop/web", "Ingress to pod shop/db-0". */
  readonly lead: string;
}

/** The rules of the selecting policies that allow the flow, and those that match only its peer or only its port. */
function matchRules(side: Side, selecting: readonly V1NetworkPolicy[], context: PolicyContext): { allowing: RuleRef[]; nearMisses: RuleNearMiss[] } {
  const { direction, flow, protocol, peer } = side;
  const destinationPod = isHostNetwork(flow.destination.pod) ? undefined : flow.destination.pod;
  const allowing: RuleRef[] = [];
  const nearMisses: RuleNearMiss[] = [];
  for (const policy of selecting) {
    const ref = policyRef(policy);
    rulesOf(policy, direction).forEach((rule, ruleIndex) => {
      const peerMatched =
        !rule.peers || rule.peers.length === 0 || rule.peers.some((candidate) => peerMatches(candidate, ref.namespace, peer, context));
      const portMatched = !rule.ports || rule.ports.length === 0 || rule.ports.some((spec) => portMatches(spec, flow.port, protocol, destinationPod));
      const ruleRef: RuleRef = { policy: ref, direction, ruleIndex, description: ruleDescription(ref, direction, ruleIndex) };
      if (peerMatched && portMatched) {
        allowing.push(ruleRef);
      } else if (peerMatched || portMatched) {
        const explanation = peerMatched
          ? `${ruleRef.description} allows that peer only on ${formatPorts(rule.ports)}`
          : `${ruleRef.description} allows ${formatPorts(rule.ports)} only ${direction === 'Egress' ? 'to' : 'from'} ${formatPeers(rule.peers, ref.namespace)}`;
        nearMisses.push({ ...ruleRef, peerMatched, portMatched, explanation });
      }
    });
  }
  return { allowing, nearMisses };
}

/** The verdict of a side that no policy isolates, or where NetworkPolicy does not apply at all. */
function openVerdict(side: Side, context: PolicyContext): DirectionVerdict | undefined {
  const { direction, subject, verb, lead } = side;
  const base = { direction, subject: describePodShort(subject), allowingRules: [], defaultDenyPolicies: [], nearMisses: [], selectingPolicies: [] };
  const open = { ...base, isolated: false, allowed: true };
  if (!subject.pod) {
    const role = direction === 'Egress' ? 'source' : 'destination';
    const message = `${verb} ${describeEndpoint(subject)} is not subject to NetworkPolicy: the ${role} is not a pod.`;
    return { ...open, applies: false, message };
  }
  if (isHostNetwork(subject.pod)) {
    return {
      ...open,
      applies: false,
      message: `${lead} is not subject to NetworkPolicy: it uses the host network, so most plugins treat its traffic as the node's.`,
    };
  }
  if (policiesSelectingPod(context.policies, subject.pod, direction).length === 0) {
    const namespace = podNamespaceOf(subject);
    return {
      ...open,
      applies: true,
      message: `${lead} is not restricted: no NetworkPolicy in namespace ${namespace} selects it for ${direction.toLowerCase()}.`,
    };
  }
  return undefined;
}

/**
 * Evaluates one direction. For Egress the subject is the source pod and the peer is the destination; for
 * Ingress the subject is the destination pod and the peer is the source. Named ports always resolve
 * against the destination.
 */
export function evaluateDirection(direction: PolicyDirection, flow: Flow, context: PolicyContext): DirectionVerdict {
  const subject = direction === 'Egress' ? flow.source : flow.destination;
  const verb = direction === 'Egress' ? 'Egress from' : 'Ingress to';
  const peer = direction === 'Egress' ? flow.destination : flow.source;
  const side: Side = {
    direction,
    flow,
    protocol: flow.protocol ?? DEFAULT_PROTOCOL,
    subject,
    peer,
    verb,
    lead: `${verb} ${describePodShort(subject)}`,
  };
  const open = openVerdict(side, context);
  if (open) return open;
  const selecting = policiesSelectingPod(context.policies, subject.pod!, direction);
  const selectingPolicies = selecting.map(policyRef);
  const { allowing, nearMisses } = matchRules(side, selecting, context);
  const { lead } = side;
  const base = {
    direction,
    subject: describePodShort(subject),
    applies: true,
    isolated: true,
    selectingPolicies,
    allowingRules: allowing,
    nearMisses,
  };
  const target = formatTarget(flow.destination, flow.port, side.protocol);
  const source = `${describeEndpoint(flow.source)} on ${flow.port}/${side.protocol}`;
  if (allowing.length > 0) {
    const allowedBy = allowing[0];
    const flowText = direction === 'Egress' ? `to ${target}` : `from ${source}`;
    const message = `${lead} ${flowText} is allowed by policy ${allowedBy.description} (namespace ${allowedBy.policy.namespace}).`;
    return { ...base, allowed: true, allowedBy, defaultDenyPolicies: [], message };
  }
  const selectsText = `${formatPolicyRefs(selectingPolicies)} ${selectingPolicies.length === 1 ? 'selects' : 'select'} it`;
  const hasRules = selecting.some((policy) => rulesOf(policy, direction).length > 0);
  const denyAll = hasRules ? '' : ` (${selectingPolicies.length === 1 ? 'it has' : 'they have'} no ${direction.toLowerCase()} rules: deny all)`;
  const ruleText = `${direction === 'Egress' ? `no egress rule allows ${target}` : `no ingress rule admits ${source}`}${denyAll}`;
  const closest = nearMisses.length > 0 ? `; closest: ${nearMisses[0].explanation}` : '';
  return {
    ...base,
    allowed: false,
    allowingRules: [],
    defaultDenyPolicies: selectingPolicies,
    message: `${lead} is denied: ${selectsText} and ${ruleText}${closest}.`,
  };
}

/** Evaluates a flow: egress at the source and ingress at the destination must both allow it. */
export function evaluateFlow(flow: Flow, context: PolicyContext): FlowVerdict {
  const protocol = flow.protocol ?? DEFAULT_PROTOCOL;
  const egress = evaluateDirection('Egress', flow, context);
  const ingress = evaluateDirection('Ingress', flow, context);
  const deniedAt: PolicyDirection[] = [];
  if (!egress.allowed) deniedAt.push('Egress');
  if (!ingress.allowed) deniedAt.push('Ingress');
  const allowed = deniedAt.length === 0;
  const flowText = `${describePodShort(flow.source)} -> ${formatTarget(flow.destination, flow.port, protocol)}`;

  let message: string;
  if (deniedAt.length === 2) {
    message =
      `Traffic ${flowText} is denied on both sides: egress by ${formatPolicyRefs(egress.defaultDenyPolicies)} ` +
      `and ingress by ${formatPolicyRefs(ingress.defaultDenyPolicies)}, and neither has a rule that allows it.`;
  } else if (deniedAt.length === 1) {
    message = (deniedAt[0] === 'Egress' ? egress : ingress).message;
  } else {
    const sideText = (verdict: DirectionVerdict): string => {
      const name = verdict.direction.toLowerCase();
      if (!verdict.applies) return `${name} not subject to policy`;
      if (!verdict.isolated) return `${name} unrestricted`;
      const rule = verdict.allowedBy as RuleRef;
      return `${name} by policy ${rule.description} (namespace ${rule.policy.namespace})`;
    };
    message = `NetworkPolicy allows ${flowText}: ${sideText(egress)}, ${sideText(ingress)}.`;
  }
  return { allowed, protocol, port: flow.port, egress, ingress, deniedAt, message };
}
