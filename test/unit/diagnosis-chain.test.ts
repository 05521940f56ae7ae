// The cause chain (operator/diagnosis/causes/chain.ts): its order, pinned with the reason for each
// position, and one owning rule for every reason the diagnosis writes. Moving a rule is a decision:
// change this list and its comment with it. The scenario table (diagnosis-scenarios.test.ts) holds at
// least one row for every reason.
import { expect } from 'chai';
import { CHAIN } from '../../operator/diagnosis/causes/chain.ts';
import { Cause, HealthyReason } from '../../operator/diagnosis/reasons.ts';

const ORDER = [
  // -- Could the check be evaluated at all?
  // The probe did not run: nothing it reported can be trusted, and it is the operator's problem, not a network finding.
  'probeFailed',
  // The probe stands in for the source pod: a source that is gone or stopped makes every later finding moot.
  'sourceNotReady',

  // -- expect: Blocked (a NetworkPolicy assertion). These decide every such check; the last one always does.
  // Got through, and the policies could not be read: nothing sharper can be said (the next rules need them).
  'unexpectedlyReachable',
  // Got through although a policy denies it: enforcement failed, which is sharper than naming an allowing rule.
  'policyNotEnforced',
  // Got through and a rule allows it: name that rule, to narrow it.
  'allowedByNetworkPolicy',
  // Got through with no policy in the way: the last word on a flow that got through.
  'noPolicyIsolates',
  // Nothing got through (every flow that did was decided above) and a policy denies it, or policy cannot be evaluated.
  'blockedAsExpected',
  // Blocked, but not by a policy: by accident; the expect: Reachable chain names what blocks it.
  'blockedNotByPolicy',

  // -- expect: Reachable, down the ladder. A rule decides only for the symptom it explains (causes/symptoms.ts).
  // A ping to a ClusterIP tests nothing: an Error about the check itself, before any network layer.
  'icmpToClusterIP',
  // Nothing (ready) behind the Service explains any failure on the way to it, and the NXDOMAIN of a headless
  // Service whose pods are not ready (hence before nameNotFound). The three read one endpoints status.
  'selectorMismatch',
  'noEndpoints',
  'endpointsNotReady',
  // The DNS server answered (NXDOMAIN, NODATA, SERVFAIL or REFUSED): that answer explains the lookup, whatever
  // else is wrong. The three read one classification of the lookup (layers/dns.ts lookupFailure).
  'nameNotFound',
  'dnsNoAddress',
  'dnsServerFailure',
  // A lookup without an answer: policy on UDP port 53 stops the query before it reaches any server ...
  'dnsEgressBlocked',
  // ... else no server could answer (no DNS pods ready, kube-dns missing or without endpoints).
  'dnsServerUnavailable',
  // Warnings decide only when nothing failed: DNS first, as on the ladder.
  'searchPathAmplification',
  // Large packets lost: an HTTP exchange that hangs, or a black hole, when no connection failed (a failed
  // connection is an earlier broken link); as a warning (PMTU discovery works) after the DNS warning.
  'mtuMismatch',
  // North-south warnings: the LoadBalancer without an address, then ...
  'loadBalancerPending',
  // ... an Ingress whose controllers are down. As a failure: the way in to a host that Ingress serves, which
  // explains a refusal or a timeout before the host's port or the egress is blamed.
  'ingressControllerUnavailable',
  // The ClusterIP fails while the pods answer directly: bridged replies skipping the service NAT is the
  // sharpest node cause of that (before the conntrack table and the proxy itself).
  'bridgeNetfilterDisabled',
  // Policy before the node and the port: an agent that REJECTs makes a denied connect look like a closed port.
  'blockedByNetworkPolicy',
  // A node that does not forward explains traffic that got no answer (never a refusal); a lookup only when the
  // service proxy is not in question (the query must be translated first); egress only when no policy denies it.
  'ipForwardingDisabled',
  // Then a node involved that is not Ready ...
  'nodeNotReady',
  // ... then a full conntrack table (for a bypassed ClusterIP: new NATed connections are dropped; for a lookup
  // without an answer: the query is a new flow too, before the DNS timeout is followed further).
  'conntrackTableFull',
  // The CNI after the nodes: a node whose pod network is not set up, then an agent that is not ready.
  'nodeNetworkUnavailable',
  'cniAgentNotReady',
  // Same-node pods answer, cross-node ones do not: a node tunnelling from a stray address is sharper ...
  'overlaySourceAddressMismatch',
  // ... than the overlay in general.
  'overlayBroken',
  // A refusal that no policy explains: the targetPort is not a port the pods declare ...
  'targetPortMismatch',
  // ... else nothing listens on it (also a host outside the cluster that refuses).
  'portNotListening',
  // The service translation: always for a ClusterIP that fails while its pods answer (after bridge netfilter
  // and conntrack); for a lookup when the proxy is in question (the node and CNI rules yield to it); for any
  // other ClusterIP failure only when nothing on the path explained it.
  'serviceProxyMissing',
  // Lost, with every layer above ruled out: some pings lost, then a pod that did not answer.
  'packetLoss',
  'podUnreachable',
  // The way out of the cluster: a policy that denies it, else route, NAT or a firewall (after the node's forwarding).
  'egressBlocked',
  // A ClusterIP (or a cluster name given as a host) that failed with nothing below to explain it.
  'serviceUnreachable',
  // A lookup without an answer that nothing explained: follow the query.
  'dnsTimeout',
  // The application, over a working connection and after every network cause: an Ingress without a rule ...
  'ingressMisrouted',
  // ... an unexpected status, TLS, or a request that failed otherwise.
  'unexpectedHTTPStatus',
  'tlsError',
  'httpRequestFailed',
  // Nothing failed, but UDP got no reply and no ICMP error: the last warning.
  'udpNoReply',
  // Last: it always decides.
  'reachable',
];

/** Reasons the chain never writes: the diagnosis itself failing (index.ts, tested in diagnosis-evidence.test.ts). */
const NOT_FROM_THE_CHAIN: readonly string[] = [Cause.DiagnosisFailed];

describe('diagnosis cause chain', () => {
  it('has the pinned order', () => {
    expect(CHAIN.map((rule) => rule.name)).to.deep.equal(ORDER);
  });

  it('has exactly one rule for every reason (Cause and HealthyReason) but the diagnosis failing', () => {
    const owners = new Map<string, string[]>();
    for (const rule of CHAIN) for (const reason of rule.owns) owners.set(reason, [...(owners.get(reason) ?? []), rule.name]);
    for (const reason of [...Object.values(Cause), ...Object.values(HealthyReason)]) {
      if (NOT_FROM_THE_CHAIN.includes(reason)) expect(owners.get(reason), reason).to.equal(undefined);
      else expect(owners.get(reason), `rules owning ${reason}`).to.have.length(1);
    }
  });

  it('has rules that own only known reasons, at least one each, and distinct names', () => {
    const known = new Set<string>([...Object.values(Cause), ...Object.values(HealthyReason)]);
    for (const rule of CHAIN) {
      expect(rule.owns, rule.name).to.not.be.empty;
      for (const reason of rule.owns) expect(known.has(reason), `${rule.name} owns ${reason}`).to.equal(true);
    }
    expect(new Set(CHAIN.map((rule) => rule.name)).size).to.equal(CHAIN.length);
  });
});
