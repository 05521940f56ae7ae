// A name that did not resolve: the answer the DNS server gave (NXDOMAIN, NODATA, SERVFAIL), or the
// way to the servers (policy on port 53, servers without endpoints); and the warning of a name that
// resolved only after wasting queries on the search path.
import { plural, sentence } from '../../util/text.ts';
import type { Analysis, DnsLookup } from '../analysis.ts';
import { DNS_NAMESPACE, DNS_POD_LABEL, SERVICE_NAME_LABEL } from '../evidence.ts';
import { lookupFailure, type DnsServers } from '../layers/dns.ts';
import { Layer } from '../layers/index.ts';
import type { PolicyRef } from '../netpol/model.ts';
import { formatPolicyRefs } from '../netpol/rules.ts';
import { Cause } from '../reasons.ts';
import { digCommand, kubectl } from '../reproduce.ts';
import { policyRepro } from './policy.ts';
import { cause, rule, serviceName } from './shared.ts';

const DNS_POD_SELECTOR = `${DNS_POD_LABEL.key}=${DNS_POD_LABEL.value}`;

/** " (the nameserver 10.96.0.10 is the kube-dns ClusterIP, a Service like any other)" when the lookup asked it. */
export function viaDnsClusterIP(a: Analysis, lookup: DnsLookup): string {
  const ip = a.dns.servers?.serviceIP;
  return ip && lookup.resolv?.ns.includes(ip) ? ` (the nameserver ${ip} is the kube-dns ClusterIP, a Service like any other)` : '';
}

export const nameNotFound = rule('nameNotFound', [Cause.NameNotFound], ({ a, s }) => {
  const lookup = s.lookup;
  if (!lookup || lookupFailure(a.dns) !== Cause.NameNotFound) return undefined;
  const dnsPolicy = a.dns.sourceDnsPolicy;
  const policyHint =
    dnsPolicy && dnsPolicy !== 'ClusterFirst' && dnsPolicy !== 'ClusterFirstWithHostNet'
      ? ` The source pod uses dnsPolicy ${dnsPolicy}, so it does not ask the cluster DNS.`
      : '';
  const summary = sentence(`${lookup.text}: the name does not exist.${policyHint}`);
  return cause(Layer.DNS, Cause.NameNotFound, 'failure', summary, nameNotFoundFix(a, lookup.lookup.dns.name, policyHint !== ''), lookup.reproduce);
});

/** A missing name: the Service is gone, or it exists and the lookup went to the wrong place, or a host name is wrong. */
function nameNotFoundFix(a: Analysis, name: string, notClusterDns: boolean): string {
  if (a.kind !== 'service') return `Fix: check the spelling of ${name}, or create the record; the name does not exist in DNS.`;
  const service = `Service ${a.destNamespace}/${serviceName(a)}`;
  if (a.dest.serviceGone) return `Fix: ${service} no longer exists: recreate it, or point spec.destination.service at one that does.`;
  const where = a.dest.service
    ? `${service} exists, so the name is not resolved where it should be`
    : `if ${service} exists, the name is not resolved where it should be`;
  return (
    `Fix: ${where}:${notClusterDns ? ' set dnsPolicy ClusterFirst on the source pod;' : ''} check the search domains (cluster domain) in ` +
    `resolv.conf and that CoreDNS serves the cluster zone.`
  );
}

export const dnsNoAddress = rule('dnsNoAddress', [Cause.DNSNoAddress], ({ a, s }) => {
  const lookup = s.lookup;
  if (!lookup || lookupFailure(a.dns) !== Cause.DNSNoAddress) return undefined;
  const result = lookup.lookup.dns;
  const other = result.type === 'A' ? 'IPv6-only (AAAA)' : 'IPv4-only (A)';
  const fix = `Fix: check the record type (an ${other} name?) or what the name points to.`;
  return cause(Layer.DNS, Cause.DNSNoAddress, 'failure', `${lookup.text}: the name exists but has no ${result.type} record.`, fix, lookup.reproduce);
});

export const dnsServerFailure = rule('dnsServerFailure', [Cause.DNSServerFailure], ({ a, s }) => {
  const lookup = s.lookup;
  if (!lookup || lookupFailure(a.dns) !== Cause.DNSServerFailure) return undefined;
  const fix =
    lookup.lookup.dns.status === 'refused'
      ? `Fix: ${lookup.server} refused the query: check that it serves this zone for the source (the Corefile's server blocks and any acl plugin) ` +
        `and the CoreDNS logs.`
      : 'Fix: check the CoreDNS logs and its upstream forwarders (the forward plugin in the Corefile); SERVFAIL usually means the upstream did not answer.';
  const logs = kubectl(DNS_NAMESPACE, 'logs', '-l', DNS_POD_SELECTOR, '--tail=50');
  return cause(Layer.DNS, Cause.DNSServerFailure, 'failure', `${lookup.text}: the DNS server answered but failed the query.`, fix, [
    ...lookup.reproduce,
    logs,
  ]);
});

function unique(refs: readonly PolicyRef[]): PolicyRef[] {
  return [...new Map(refs.map((ref) => [`${ref.namespace}/${ref.name}`, ref])).values()];
}

export const dnsEgressBlocked = rule('dnsEgressBlocked', [Cause.DNSEgressBlockedByPolicy], ({ s, a }) => {
  const lookup = s.lookup;
  const egress = a.dns.blockedByPolicy;
  if (!lookup || !egress || lookupFailure(a.dns) !== Cause.DNSEgressBlockedByPolicy) return undefined;
  const egressBlockers = unique(egress.flows.filter((flow) => !flow.egress.allowed).flatMap((flow) => flow.egress.defaultDenyPolicies));
  const ingressBlockers = unique(egress.flows.filter((flow) => !flow.ingress.allowed).flatMap((flow) => flow.ingress.defaultDenyPolicies));
  const fixes: string[] = [];
  if (egressBlockers.length) {
    fixes.push(
      `add port 53 UDP and TCP to namespace ${DNS_NAMESPACE} (pods ${DNS_POD_SELECTOR}) to the egress rules of ${formatPolicyRefs(egressBlockers)}`,
    );
  }
  if (ingressBlockers.length) fixes.push(`admit the source on port 53 UDP and TCP in the ingress rules of ${formatPolicyRefs(ingressBlockers)}`);
  const summary = sentence(`${lookup.text}. ${egress.message.replace(/; to fix,.*$/, '')}`);
  return cause(Layer.NetworkPolicy, Cause.DNSEgressBlockedByPolicy, 'failure', summary, `Fix: ${fixes.join(', and ')}.`, [
    ...lookup.reproduce,
    ...policyRepro(egress.blockingPolicies),
  ]);
});

export const dnsServerUnavailable = rule('dnsServerUnavailable', [Cause.DNSServerUnavailable], ({ s, a }) => {
  const lookup = s.lookup;
  const servers = a.dns.servers;
  if (!lookup || !servers?.unavailable || lookupFailure(a.dns) !== Cause.DNSServerUnavailable) return undefined;
  return cause(
    Layer.DNS,
    Cause.DNSServerUnavailable,
    'failure',
    `${lookup.text}: no DNS server can answer: ${servers.unavailable}.`,
    serversFix(servers),
    [
      ...lookup.reproduce,
      kubectl(DNS_NAMESPACE, 'get', 'pods', '-l', DNS_POD_SELECTOR, '-o', 'wide'),
      kubectl(DNS_NAMESPACE, 'get', 'endpointslices', '-l', `${SERVICE_NAME_LABEL}=kube-dns`),
    ],
  );
});

/** The first broken link on the way to the DNS servers: the pods, the kube-dns Service, or its endpoints. */
function serversFix(servers: DnsServers): string {
  if (servers.podsRead && servers.podsTotal === 0)
    return `Fix: bring CoreDNS back: no DNS pods run (kubectl -n ${DNS_NAMESPACE} get deployment coredns: scaled to 0?).`;
  if (servers.podsRead && servers.podsReady === 0) {
    return (
      `Fix: find out why the DNS pods are not ready (${servers.notReadyPods.slice(0, 2).join('; ')}): their events and logs say why (kubectl ` +
      `-n ${DNS_NAMESPACE} describe pod).`
    );
  }
  if (servers.serviceMissing)
    return `Fix: recreate the kube-dns Service in ${DNS_NAMESPACE} (the DNS pods are ready; resolv.conf points at its ClusterIP).`;
  return (
    `Fix: the DNS pods are ready but the kube-dns Service lists none of them: make its selector match their labels (${DNS_POD_SELECTOR}) and ` +
    `its ports their container ports.`
  );
}

export const searchPathAmplification = rule('searchPathAmplification', [Cause.DNSSearchPathAmplification], ({ s, a }) => {
  const amp = a.dns.amplification;
  if (!s.healthy || !amp) return undefined;
  const search = `ndots:${amp.resolv?.ndots} with ${plural(amp.resolv?.search.length ?? 0, 'search domain')}`;
  const wasted = plural(amp.wasted, 'wasted query', 'wasted queries');
  return cause(
    Layer.DNS,
    Cause.DNSSearchPathAmplification,
    'warning',
    `${amp.dns.name} resolved from ${amp.vantage.label}, but only after ${wasted} on the search path (${amp.dns.queries} queries, ${amp.dns.ms} ` +
      `ms; ${search}); the connection works.`,
    `Fix: use the fully qualified name with a trailing dot (${amp.dns.name}.) in the application, or set spec.dnsConfig.options ndots:2 on the pod.`,
    digCommand(a.repro, amp.dns.name),
  );
});

/** The lookup got no answer and nothing below explains it: follow the query. */
export const dnsTimeout = rule('dnsTimeout', [Cause.DNSTimeout], ({ s, a }) => {
  const lookup = s.lookup;
  if (!lookup) return undefined;
  const servers = a.dns.servers;
  const viaClusterIP = viaDnsClusterIP(a, lookup.lookup);
  const serverState = servers
    ? ` although ${servers.podsReady}/${servers.podsTotal} DNS pods are ready and kube-dns has ${plural(servers.endpointsReady, 'ready endpoint')}`
    : '';
  const node = lookup.node ?? 'the source node';
  return cause(
    Layer.DNS,
    Cause.DNSTimeout,
    'failure',
    sentence(`${lookup.text}${viaClusterIP}${serverState}`),
    `Fix: follow the query: from the source to ${lookup.server} (the service rules on node ${node}) and on to the DNS pods (CoreDNS logs; a ` +
      `capture with spec.capture shows queries without answers).`,
    [...lookup.reproduce, kubectl(DNS_NAMESPACE, 'logs', '-l', DNS_POD_SELECTOR, '--tail=50')],
  );
});
