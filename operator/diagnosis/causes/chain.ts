// The root cause: ONE explanation for the check's result, with the evidence in one sentence, a fix
// derived from that evidence, and the kubectl commands that repeat the failing step.
//
// An ordered chain of rules, as cert-manager's policy chain: each rule looks at the analysis and the
// symptoms (symptoms.ts) and decides its cause, or passes; the first rule that decides wins. Layers
// report what they saw; the chain decides which layer explains it. The order is the ladder's (work
// down the layers and stop at the first one that explains the failure), sharpened by comparisons:
// the ClusterIP fails but the pod IPs answer -> the service proxy; same-node pods answer but
// cross-node ones time out -> the overlay. Warnings (search-path amplification, a pending
// LoadBalancer, a reduced path MTU with working PMTU discovery) only decide when nothing failed.
// test/unit/diagnosis-chain.test.ts pins the order, with the reason for each position.
//
// Pure: the same analysis gives the same cause.
import { clip, sentence } from '../../util/text.ts';
import type { Analysis } from '../analysis.ts';
import {
  allowedByNetworkPolicy,
  blockedAsExpected,
  blockedNotByPolicy,
  noPolicyIsolates,
  policyNotEnforced,
  unexpectedlyReachable,
} from './blocked.ts';
import { cniAgentNotReady, nodeNetworkUnavailable, overlayBroken, overlaySourceAddressMismatch } from './cni.ts';
import { dnsEgressBlocked, dnsNoAddress, dnsServerFailure, dnsServerUnavailable, dnsTimeout, nameNotFound, searchPathAmplification } from './dns.ts';
import { endpointsNotReady, noEndpoints, selectorMismatch } from './endpoints.ts';
import { egressBlocked, ingressControllerUnavailable, loadBalancerPending } from './external.ts';
import { reachable, udpNoReply } from './health.ts';
import { httpRequestFailed, ingressMisrouted, tlsError, unexpectedHTTPStatus } from './http.ts';
import { mtuMismatch } from './mtu.ts';
import { conntrackTableFull, ipForwardingDisabled, nodeNotReady } from './node.ts';
import { blockedByNetworkPolicy } from './policy.ts';
import { portNotListening, targetPortMismatch } from './port.ts';
import { probeFailed, sourceNotReady } from './preconditions.ts';
import { bridgeNetfilterDisabled, icmpToClusterIP, serviceProxyMissing, serviceUnreachable } from './service-path.ts';
import type { RootCause, Rule, RuleContext } from './shared.ts';
import { symptomsOf } from './symptoms.ts';
import { packetLoss, podUnreachable } from './unexplained.ts';

export type { RootCause, Severity } from './shared.ts';

export const MAX_SUMMARY_LENGTH = 4000;

/** Could the check be evaluated at all? */
const PRECONDITIONS: readonly Rule[] = [probeFailed, sourceNotReady];

/** expect: Blocked. The last rule decides every such check. */
const EXPECT_BLOCKED: readonly Rule[] = [
  unexpectedlyReachable,
  policyNotEnforced,
  allowedByNetworkPolicy,
  noPolicyIsolates,
  blockedAsExpected,
  blockedNotByPolicy,
];

/** expect: Reachable, ladder order. The last rule decides every such check. */
const EXPECT_REACHABLE: readonly Rule[] = [
  icmpToClusterIP,
  selectorMismatch,
  noEndpoints,
  endpointsNotReady,
  nameNotFound,
  dnsNoAddress,
  dnsServerFailure,
  dnsEgressBlocked,
  dnsServerUnavailable,
  searchPathAmplification,
  mtuMismatch,
  loadBalancerPending,
  ingressControllerUnavailable,
  bridgeNetfilterDisabled,
  blockedByNetworkPolicy,
  ipForwardingDisabled,
  nodeNotReady,
  conntrackTableFull,
  nodeNetworkUnavailable,
  cniAgentNotReady,
  overlaySourceAddressMismatch,
  overlayBroken,
  targetPortMismatch,
  portNotListening,
  serviceProxyMissing,
  packetLoss,
  podUnreachable,
  egressBlocked,
  serviceUnreachable,
  dnsTimeout,
  ingressMisrouted,
  unexpectedHTTPStatus,
  tlsError,
  httpRequestFailed,
  udpNoReply,
  reachable,
];

/** The whole chain, in order. */
export const CHAIN: readonly Rule[] = [...PRECONDITIONS, ...EXPECT_BLOCKED, ...EXPECT_REACHABLE];

function firstDecision(rules: readonly Rule[], context: RuleContext): RootCause | undefined {
  for (const candidate of rules) {
    const decided = candidate.decide(context);
    // One owner per cause: a rule that decides another's is a bug, and fails loudly (DiagnosisFailed).
    if (decided && !candidate.owns.includes(decided.reason)) throw new Error(`rule ${candidate.name} decided ${decided.reason}, which it does not own`);
    if (decided) return decided;
  }
  return undefined;
}

export function determineRootCause(a: Analysis): RootCause {
  const context: RuleContext = {
    a,
    s: symptomsOf(a),
    // What fails the path, as an expect: Reachable check would say: an expect: Blocked check names it.
    explain: () => {
      const decided = firstDecision(EXPECT_REACHABLE, context);
      return decided?.severity === 'failure' || decided?.severity === 'error' ? decided : undefined;
    },
  };
  return firstDecision(CHAIN, context)!;
}

/** Summary and fix as one status.summary text (the CRD allows 4096 characters). */
export function summaryText(rootCause: RootCause): string {
  const text = rootCause.fix ? `${sentence(rootCause.summary)} ${rootCause.fix}` : sentence(rootCause.summary);
  return clip(text, MAX_SUMMARY_LENGTH);
}
