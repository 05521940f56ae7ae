// Layer 1, DNS: does the destination name resolve from the source, and quickly? The lookups come from
// the probe; the API adds the DNS servers' state (CoreDNS pods, the kube-dns Service and its
// endpoints) and whether NetworkPolicy lets the source reach them on port 53.
import type { V1Pod } from '@kubernetes/client-node';
import { listText, plural } from '../../util/text.ts';
import type { AnalysisBase, Context, DnsLookup } from '../analysis.ts';
import { DNS_POD_LABEL } from '../evidence.ts';
import { evaluateDnsEgress, type DnsEgressVerdict } from '../netpol/dns.ts';
import { podEndpoint } from '../netpol/model.ts';
import { fetchedError, fetchedValue, isPodReady } from '../objects.ts';
import { Cause, LayerReason } from '../reasons.ts';
import { podStateText } from '../text.ts';
import { defineLayer, finding } from './layer.ts';

declare module '../analysis.ts' {
  interface LayerAnalyses {
    readonly dns: DnsAnalysis;
  }
}

export interface DnsServers {
  readonly error?: string;
  /** The DNS pods were read (the counts below mean something). */
  readonly podsRead: boolean;
  readonly podsTotal: number;
  readonly podsReady: number;
  readonly notReadyPods: string[];
  readonly serviceIP?: string;
  readonly serviceMissing: boolean;
  readonly endpointsReady: number;
  readonly endpointsNotReady: number;
  readonly pods: V1Pod[];
  /** Why no DNS server can answer, when that is the case. */
  readonly unavailable?: string;
}

export interface DnsAnalysis {
  readonly applicable: boolean;
  readonly name?: string;
  readonly lookups: DnsLookup[];
  readonly failed?: DnsLookup;
  readonly amplification?: DnsLookup & { readonly wasted: number };
  readonly servers?: DnsServers;
  readonly egress?: DnsEgressVerdict;
  readonly egressError?: string;
  /** The DNS egress verdict when NetworkPolicy denies the source some DNS flow (the one home of that test). */
  readonly blockedByPolicy?: DnsEgressVerdict;
  readonly sourceDnsPolicy?: string;
}

const NAME = 'DNS';
const DEFAULT_SLOW_DNS_MS = 1000;
const DEFAULT_WASTED_QUERIES = 2;

export const dnsLayer = defineLayer({ name: NAME, condition: 'DNSResolved', key: 'dns', analyse: analyseDns, finding: dnsFinding });

function analyseDns(context: Context): DnsAnalysis {
  const { lookups } = context;
  const servers = dnsServers(context);
  const egress = dnsEgress(context, servers);
  const blockedByPolicy = egress.verdict && !egress.verdict.allowed && egress.verdict.status !== 'Unknown' ? egress.verdict : undefined;
  const failed = lookups.find((lookup) => lookup.dns.status !== 'ok');
  const amplification = amplified(lookups, context.options.wastedQueriesWarning ?? DEFAULT_WASTED_QUERIES);
  return {
    applicable: lookups.length > 0,
    name: lookups[0]?.dns.name,
    lookups,
    ...(failed ? { failed } : {}),
    ...(amplification ? { amplification } : {}),
    ...(servers ? { servers } : {}),
    ...(egress.verdict ? { egress: egress.verdict } : {}),
    ...(egress.error ? { egressError: egress.error } : {}),
    ...(blockedByPolicy ? { blockedByPolicy } : {}),
    sourceDnsPolicy: context.source.pods[0]?.spec?.dnsPolicy,
  };
}

function dotCount(name: string): number {
  return (name.replace(/\.$/, '').match(/\./g) ?? []).length;
}

/** The first lookup that resolved only after wasting queries on the search path. */
function amplified(lookups: DnsLookup[], threshold: number): DnsAnalysis['amplification'] {
  for (const lookup of lookups) {
    const { dns, resolv } = lookup;
    if (dns.status !== 'ok' || !resolv || dns.name.endsWith('.')) continue;
    const wasted = dns.queries - 1;
    if (dotCount(dns.name) < resolv.ndots && resolv.search.length > 0 && dns.qname === `${dns.name}.` && wasted >= threshold)
      return { ...lookup, wasted };
  }
  return undefined;
}

function dnsServers(context: Context): DnsServers | undefined {
  const dns = context.evidence.dns;
  if (!dns) return undefined;
  const pods = fetchedValue(dns.pods) ?? [];
  const dnsService = fetchedValue(dns.service);
  const addresses = new Map<string, boolean>();
  for (const slice of fetchedValue(dns.endpointSlices) ?? []) {
    for (const endpoint of slice.endpoints ?? []) {
      for (const ip of endpoint.addresses) addresses.set(ip, endpoint.conditions?.ready !== false || addresses.get(ip) === true);
    }
  }
  const errors = [fetchedError(dns.pods), fetchedError(dns.service), fetchedError(dns.endpointSlices)].filter((e): e is string => Boolean(e));
  const podsReady = pods.filter(isPodReady);
  const endpointsReady = [...addresses.values()].filter(Boolean).length;
  const reasons: string[] = [];
  if (dns.pods.ok && podsReady.length === 0) {
    const states = listText(
      pods.map((pod) => `${pod.metadata?.name} ${podStateText(pod)}`),
      3,
    );
    const noPods = `no DNS pods (${DNS_POD_LABEL.key}=${DNS_POD_LABEL.value}) exist in kube-system`;
    reasons.push(pods.length === 0 ? noPods : `none of the ${plural(pods.length, 'DNS pod')} is ready (${states})`);
  }
  if (dns.service.ok && dnsService === null) reasons.push('the kube-dns Service does not exist');
  else if (dns.endpointSlices.ok && endpointsReady === 0) reasons.push('the kube-dns Service has no ready endpoints');
  return {
    error: errors.length > 0 ? errors.join('; ') : undefined,
    podsRead: dns.pods.ok,
    podsTotal: pods.length,
    podsReady: podsReady.length,
    notReadyPods: pods.filter((pod) => !isPodReady(pod)).map((pod) => `${pod.metadata?.name} ${podStateText(pod)}`),
    serviceIP: dnsService?.spec?.clusterIP,
    serviceMissing: dns.service.ok && dnsService === null,
    endpointsReady,
    endpointsNotReady: [...addresses.values()].filter((ready) => !ready).length,
    pods,
    unavailable: reasons.length > 0 ? reasons.join(', and ') : undefined,
  };
}

/** May the source send port 53 UDP and TCP to the DNS pods? */
function dnsEgress(context: Context, servers: DnsServers | undefined): { verdict?: DnsEgressVerdict; error?: string } {
  const { evidence, source } = context;
  if (context.lookups.length === 0 || !source.endpoint) return {};
  const policies = fetchedValue(evidence.networkPolicies);
  if (!policies) return { error: fetchedError(evidence.networkPolicies) };
  if (!servers || !evidence.dns?.pods.ok) return { error: servers?.error ?? 'the DNS pods were not read' };
  const dnsPort = fetchedValue(evidence.dns.service)?.spec?.ports?.find((p) => p.port === 53 && (p.protocol ?? 'TCP') === 'UDP')?.targetPort;
  const dnsPods = servers.pods.filter((pod) => pod.status?.podIP);
  const verdict = evaluateDnsEgress({
    source: source.endpoint,
    dnsPods: dnsPods.map((pod) => podEndpoint(pod, context.namespaceObject(pod.metadata?.namespace ?? 'kube-system'))),
    policies,
    namespaces: fetchedValue(evidence.namespaces) ?? [],
    port: typeof dnsPort === 'number' ? dnsPort : undefined,
    options: { ipBlockMatchesPodIPs: context.options.ipBlockMatchesPodIPs },
  });
  return { verdict };
}

export function describeLookup(lookup: DnsLookup): string {
  const { dns, vantage } = lookup;
  const via = dns.server ? ` from ${dns.server}` : '';
  const queries = `${plural(dns.queries, 'query', 'queries')}, ${dns.ms} ms`;
  if (dns.status === 'ok') {
    const as = dns.qname && dns.qname !== `${dns.name}.` ? `, as ${dns.qname}` : '';
    return `${dns.name} resolved to ${listText(dns.answers, 3)}${via} (${queries}${as}) from ${vantage.label}`;
  }
  const tries = dns.tries.map((t) => `${t.qname} ${t.result}`).slice(0, 4);
  return (
    `lookup of ${dns.name} from ${vantage.label}: ${dns.status.toUpperCase()}${via} after ` +
    `${queries}${tries.length ? ` (${tries.join(', ')})` : ''}${dns.err ? `: ${dns.err}` : ''}`
  );
}

function dnsServersText(servers: DnsServers | undefined): string {
  if (!servers) return '';
  if (servers.error) return ` DNS servers: ${servers.error}.`;
  const notReady = servers.endpointsNotReady ? ` and ${servers.endpointsNotReady} not ready` : '';
  const service = `kube-dns${servers.serviceIP ? ` ${servers.serviceIP}` : ''}`;
  return (
    ` DNS servers: ${servers.podsReady}/${servers.podsTotal} DNS pods ready, ${service} has ` +
    `${plural(servers.endpointsReady, 'ready endpoint')}${notReady}.`
  );
}

/**
 * What the DNS evidence says about a failed lookup: the server's answer (NXDOMAIN, NODATA, SERVFAIL or
 * REFUSED), else why no answer came (policy blocks UDP port 53 to some DNS pod, no server can answer),
 * else a plain timeout. The one place that weighs them: the layer's condition and the cause chain's
 * DNS rules both read it.
 */
export function lookupFailure(dns: DnsAnalysis): string | undefined {
  switch (dns.failed?.dns.status) {
    case undefined:
      return undefined;
    case 'nxdomain':
      return Cause.NameNotFound;
    case 'nodata':
      return Cause.DNSNoAddress;
    case 'servfail':
    case 'refused':
      return Cause.DNSServerFailure;
  }
  // A lookup goes over UDP first: policy explains a lookup without an answer when it blocks UDP.
  if (dns.blockedByPolicy && dns.blockedByPolicy.udp.blockedTo.length > 0) return Cause.DNSEgressBlockedByPolicy;
  return dns.servers?.unavailable ? Cause.DNSServerUnavailable : Cause.DNSTimeout;
}

function dnsFinding(a: AnalysisBase) {
  const { dns } = a;
  if (!dns.applicable) {
    const why =
      a.kind === 'host'
        ? `the destination ${a.input.spec.destination.host} is an IP address`
        : a.kind === 'pod'
          ? 'the destination is a pod, reached by its IP'
          : 'the probe did not look the name up';
    return finding(NAME, 'Unknown', LayerReason.NotApplicable, `No DNS lookup: ${why}.`);
  }
  const resolv = dns.lookups[0]?.resolv;
  const resolvText = resolv
    ? ` resolv.conf: nameserver ${listText(resolv.ns)}, ${plural(resolv.search.length, 'search domain')}, ndots:${resolv.ndots}.`
    : '';
  if (dns.failed) {
    const policyText = dns.blockedByPolicy ? ` ${dns.blockedByPolicy.message}` : '';
    return finding(
      NAME,
      'False',
      lookupFailure(dns) ?? Cause.DNSTimeout,
      `The ${describeLookup(dns.failed)}.${resolvText}${dnsServersText(dns.servers)}${policyText}`,
    );
  }
  if (dns.amplification) {
    const amp = dns.amplification;
    const search = `ndots:${amp.resolv?.ndots}, ${plural(amp.resolv?.search.length ?? 0, 'search domain')}`;
    const text =
      `${describeLookup(amp)}: ${amp.wasted} of ${amp.dns.queries} queries were wasted on search domains (${search}) before the ` +
      `absolute name answered.`;
    return finding(NAME, 'True', Cause.DNSSearchPathAmplification, `${text}${dnsServersText(dns.servers)}`);
  }
  const slow = dns.lookups.find((l) => l.dns.ms >= (a.options.slowDnsMs ?? DEFAULT_SLOW_DNS_MS));
  const others = dns.lookups.length > 1 ? ` All ${dns.lookups.length} lookups succeeded.` : '';
  const slowText = slow ? ` (slow: ${slow.dns.ms} ms)` : '';
  return finding(NAME, 'True', LayerReason.NameResolved, `${describeLookup(dns.lookups[0])}${slowText}.${others}${dnsServersText(dns.servers)}`);
}
