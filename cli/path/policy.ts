// The fallback's NetworkPolicy verdicts at the edges of the path (operators without status.path),
// read from the NetworkPolicyAllows condition (and, for DNS, the DNS condition): egress where traffic
// leaves the source, ingress where it enters a backend. The operator's evaluator
// (operator/diagnosis/netpol/) decided them; this file only places its verdicts on the hops.
import type { NetworkCheck } from '../../operator/api/types.generated.ts';
import { Cause, LayerReason } from '../../operator/diagnosis/index.ts';
import type { Hop, PolicyEdge } from './model.ts';
import { layerCondition } from './layers.ts';

const REFS = String.raw`polic(?:y|ies) ([a-z0-9][a-z0-9., -]*?) \(namespace ([a-z0-9-]+)\)`;

/** "policy a, b (namespace shop) and policy c (namespace x)" -> ["shop/a", "shop/b", "x/c"]. */
export function policyRefs(text: string): string[] {
  const refs: string[] = [];
  for (const m of text.matchAll(new RegExp(REFS, 'g'))) {
    for (const name of m[1].split(/,\s*/)) {
      const clean = name.replace(/ (?:ingress|egress) rule #\d+$/, '').trim();
      if (clean && !refs.includes(`${m[2]}/${clean}`)) refs.push(`${m[2]}/${clean}`);
    }
  }
  return refs;
}

/** One side's verdict from an evaluator message ("egress unrestricted", "ingress by policy x ..."). */
function sideVerdict(message: string, side: 'egress' | 'ingress'): PolicyEdge | undefined {
  const direction = side === 'egress' ? 'Egress' : 'Ingress';
  const Side = side === 'egress' ? 'Egress from' : 'Ingress to';
  const denied = new RegExp(String.raw`${Side} (?:pod |node )?(\S+) is denied: (${REFS})`).exec(message);
  if (denied) return { direction, result: 'Failed', policies: policyRefs(denied[2]), text: 'denied' };
  const both = new RegExp(String.raw`denied on both sides: egress by (${REFS}) and ingress by (${REFS})`).exec(message);
  if (both) return { direction, result: 'Failed', policies: policyRefs(side === 'egress' ? both[1] : both[4]), text: 'denied' };
  const allowedBy = new RegExp(String.raw`${side} by (${REFS})`).exec(message);
  if (allowedBy) return { direction, result: 'Ok', policies: policyRefs(allowedBy[1]), text: `allowed by ${allowedBy[2]}` };
  const allowed = new RegExp(String.raw`${Side} (?:pod )?\S+ (?:to \S+ |from .*? )?is allowed by (${REFS})`).exec(message);
  if (allowed) return { direction, result: 'Ok', policies: policyRefs(allowed[1]), text: `allowed by ${allowed[2]}` };
  if (new RegExp(String.raw`${side} unrestricted|${Side} \S+ is not restricted`).test(message)) return { direction, result: 'Ok', policies: [], text: 'not restricted' };
  if (new RegExp(String.raw`${side} not subject to policy|${Side} .* is not subject to NetworkPolicy`).test(message)) return { direction, result: 'Ok', policies: [], text: 'not subject to policy' };
  return undefined;
}

/** Which backend a denial names ("Ingress to pod shop/backend-1 is denied"): undefined means all. */
function deniedPod(message: string): string | undefined {
  const m = /Ingress to pod (?:[a-z0-9-]+\/)?(\S+) is denied/.exec(message);
  const all = /\((\d+) of (\d+) flows denied\)/.exec(message);
  return all && all[1] === all[2] ? undefined : m?.[1];
}

function withEdge(hop: Hop, edge: PolicyEdge | undefined): Hop {
  return edge ? { ...hop, policy: edge } : hop;
}

/** The DNS edge: a policy that blocks the lookup sits on the DNS hop. */
function dnsEdge(check: NetworkCheck): PolicyEdge | undefined {
  const text = `${layerCondition(check, 'DNS')?.message ?? ''} ${layerCondition(check, 'NetworkPolicy')?.message ?? ''}`;
  const blocked = new RegExp(String.raw`DNS from .*? is (?:blocked|only partly allowed): (${REFS})`).exec(text);
  if (blocked || check.status?.reason === Cause.DNSEgressBlockedByPolicy) return { direction: 'Egress', result: 'Failed', policies: blocked ? policyRefs(blocked[1]) : [], text: 'DNS denied' };
  return undefined;
}

/** Places the policy verdicts on the source (egress), the DNS hop and the backends (ingress). */
export function policyEdges(check: NetworkCheck, hops: Hop[]): Hop[] {
  const condition = layerCondition(check, 'NetworkPolicy');
  const message = condition?.reason === LayerReason.NotApplicable ? '' : (condition?.message ?? '');
  const egress = sideVerdict(message, 'egress');
  const ingress = sideVerdict(message, 'ingress');
  const target = deniedPod(message);
  const notEnforced = check.status?.reason === Cause.PolicyNotEnforced;
  return hops.map((hop) => {
    if (hop.kind === 'Source') return withEdge(hop, egress);
    if (hop.kind === 'DNS') return withEdge(hop, dnsEdge(check));
    if (hop.kind !== 'Backend' && hop.kind !== 'External') return hop;
    if (hop.kind === 'External') return withEdge(hop, egress?.result === 'Failed' ? undefined : ingress);
    const named = !target || hop.name === target;
    const edge: PolicyEdge | undefined = ingress && (named || ingress.result !== 'Failed') ? ingress : undefined;
    // expect: Blocked and a policy denies the flow, but nothing enforces it: the edge says so.
    return withEdge(hop, edge && notEnforced ? { ...edge, result: 'Warning', text: 'denied by policy, not enforced' } : edge);
  });
}
