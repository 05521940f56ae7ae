// The NetworkPolicy verdicts at the edges of the path, as the evaluator (../netpol/) decided them for
// the policy layer: egress where traffic leaves the source, ingress where it enters a backend, and
// the DNS egress verdict on the lookup when policy blocks it. This file only places the verdicts on
// the hops they are about.
import type { PathPolicyEdge } from '../../api/types.generated.ts';
import type { Analysis } from '../analysis.ts';
import type { PolicyFlow } from '../layers/policy.ts';
import type { DirectionVerdict, PolicyRef } from '../netpol/model.ts';
import { Cause } from '../reasons.ts';

const MAX_POLICIES = 8;

const refs = (policies: readonly PolicyRef[]) => [...new Set(policies.map((ref) => `${ref.namespace}/${ref.name}`))].slice(0, MAX_POLICIES);

/** One side's verdict: denied (by whose default deny), allowed (by which rule), or not restricted. */
function edgeOf(side: DirectionVerdict): PathPolicyEdge {
  const direction = side.direction;
  if (!side.applies) return { direction, result: 'Ok', policies: [], text: 'not subject to policy' };
  if (!side.isolated) return { direction, result: 'Ok', policies: [], text: 'not restricted' };
  if (!side.allowed) return { direction, result: 'Failed', policies: refs(side.defaultDenyPolicies), text: 'denied' };
  const rule = side.allowedBy;
  if (!rule) return { direction, result: 'Ok', policies: [], text: 'allowed' };
  return { direction, result: 'Ok', policies: refs([rule.policy]), text: `allowed by ${direction.toLowerCase()} rule #${rule.ruleIndex} of` };
}

function flows(a: Analysis): readonly PolicyFlow[] {
  return a.policy.applicable && !a.policy.error ? a.policy.flows : [];
}

/** The source's egress: the first flow it is denied on, else the first flow's verdict. */
export function sourceEdge(a: Analysis): PathPolicyEdge | undefined {
  const all = flows(a);
  const flow = all.find((candidate) => !candidate.verdict.egress.allowed) ?? all[0];
  return flow ? edgeOf(flow.verdict.egress) : undefined;
}

/** A backend's ingress, from its own flow; expect: Blocked and nothing enforces the denial: the edge says so. */
export function backendEdge(a: Analysis, ip: string, reason: string): PathPolicyEdge | undefined {
  const flow = flows(a).find((candidate) => candidate.backend?.ip === ip);
  if (!flow) return undefined;
  const edge = edgeOf(flow.verdict.ingress);
  return reason === Cause.PolicyNotEnforced && edge.result === 'Failed' ? { ...edge, result: 'Warning', text: 'denied by policy, not enforced' } : edge;
}

/** A host's ingress side (not subject to policy outside the cluster); none when the source's egress already denies it. */
export function externalEdge(a: Analysis, ip: string | undefined): PathPolicyEdge | undefined {
  const all = flows(a);
  const flow = all.find((candidate) => ip !== undefined && candidate.target.startsWith(ip.includes(':') ? `[${ip}]` : `${ip}:`)) ?? all[0];
  if (!flow || !flow.verdict.egress.allowed) return undefined;
  return edgeOf(flow.verdict.ingress);
}

/** The DNS lookup's edge: a policy that blocks DNS from the source sits on the DNS hop. */
export function dnsEdge(a: Analysis): PathPolicyEdge | undefined {
  const blocked = a.dns.blockedByPolicy;
  if (!blocked) return undefined;
  return { direction: 'Egress', result: 'Failed', policies: refs(blocked.blockingPolicies), text: 'DNS denied' };
}
