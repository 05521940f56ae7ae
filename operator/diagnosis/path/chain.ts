// The chain of a path, the hops every packet of one probe vantage passes before it fans out: the
// source, the DNS lookup, the Service's ClusterIP and the source node's service proxy (with the
// node's forwarding). Each hop takes what this vantage measured where it measured something, else
// the state of the layer that decides it.
import type { V1Pod } from '@kubernetes/client-node';
import type { PathHop } from '../../api/types.generated.ts';
import type { IcmpResult } from '../../probe/result.ts';
import { hostPort, listText, plural } from '../../util/text.ts';
import type { Analysis, Vantage } from '../analysis.ts';
import { formatLabels } from '../labels.ts';
import type { NodeIssue } from '../layers/node.ts';
import { isPodReady, nodeInternalIP, podIPs } from '../objects.ts';
import { podRef, podStateText } from '../text.ts';
import { dnsEdge, externalEdge } from './edges.ts';
import { applies, attemptOutcome, defined, resultOfStatus, type PathContext } from './shared.ts';

const PROBE_NOT_RUN = 'the probe could not run';

function sourcePodOf(a: Analysis, vantage: Vantage | undefined): V1Pod | undefined {
  return a.source.kind === 'pod' ? (vantage?.sourcePod ?? a.source.pods[0]) : undefined;
}

function sourceName(a: Analysis, vantage: Vantage | undefined, node: string | undefined): string {
  if (a.source.kind === 'node') return `node ${node ?? a.source.node}`;
  if (a.source.kind === 'newPod') return `new pod ${formatLabels(a.source.newPodLabels)}`;
  const pod = sourcePodOf(a, vantage);
  if (pod) return `pod ${podRef(pod)}`;
  return a.input.spec.source.pod ? `pod ${a.namespace}/${a.input.spec.source.pod}` : (vantage?.label ?? 'source');
}

export function sourceHop(p: PathContext, vantage: Vantage | undefined): PathHop {
  const { a } = p;
  const pod = sourcePodOf(a, vantage);
  const node = vantage?.node ?? (a.source.kind === 'node' ? a.source.node : pod?.spec?.nodeName) ?? a.source.node;
  const nodeObject = a.source.kind === 'node' ? a.nodes.find((candidate) => candidate.metadata?.name === node) : undefined;
  const finding = p.finding('Source');
  return defined({
    kind: 'Source',
    layer: 'Source',
    name: sourceName(a, vantage, node),
    address: pod ? podIPs(pod)[0] : nodeInternalIP(nodeObject),
    node,
    result: p.measured ? resultOfStatus(finding?.status) : 'Failed',
    detail: p.measured ? (finding && finding.status !== 'True' ? finding.reason : undefined) : PROBE_NOT_RUN,
  });
}

export function dnsHop(p: PathContext, vantage: Vantage | undefined): PathHop | undefined {
  const { a } = p;
  const finding = p.finding('DNS');
  if (!applies(finding)) return undefined;
  const lookup = a.lookups.find((candidate) => candidate.vantage === vantage);
  const dns = p.measured ? lookup?.dns : undefined;
  const name = lookup?.dns.name ?? a.dns.name ?? a.input.spec.destination.service ?? a.input.spec.destination.host ?? '';
  const resolved = dns?.status === 'ok';
  const measured = dns
    ? {
      result: resolved ? ('Ok' as const) : ('Failed' as const),
      detail: resolved ? `-> ${listText(dns.answers, 3)} in ${dns.ms} ms` : `${dns.status.toUpperCase()} after ${plural(dns.queries, 'query', 'queries')}`,
      latencyMs: resolved ? dns.ms : undefined,
    }
    : { result: resultOfStatus(finding.status), detail: finding.reason };
  // The server that answered, else the one the query went to (a lookup without an answer names none).
  const address = lookup?.dns.server ?? lookup?.resolv?.ns[0];
  return defined({ kind: 'DNS', layer: 'DNS', name, address, ...measured, policy: p.measured ? dnsEdge(a) : undefined });
}

export function serviceHop(p: PathContext, vantage: Vantage | undefined): PathHop | undefined {
  const { a } = p;
  if (a.kind !== 'service') return undefined;
  const service = p.finding('Service');
  const endpoints = p.finding('Endpoints');
  const endpointsFailed = endpoints?.status === 'False';
  const attempt = p.measured && a.service.applicable ? a.attempts.find((candidate) => candidate.vantage === vantage) : undefined;
  const outcome = attempt ? attemptOutcome(attempt, a.transport) : undefined;
  const clusterIP = a.service.applicable ? a.service.clusterIP : undefined;
  const port = a.dest.servicePort?.port;
  const deciding = endpointsFailed || !applies(service) ? endpoints : service;
  return defined({
    kind: 'Service',
    layer: endpointsFailed ? 'Endpoints' : 'Service',
    name: `${a.destNamespace}/${a.input.spec.destination.service}`,
    address: outcome?.address ?? (clusterIP && port ? hostPort(clusterIP, port) : clusterIP),
    result: endpointsFailed ? 'Failed' : (outcome?.result ?? resultOfStatus(deciding?.status)),
    detail: endpointsFailed ? endpoints.reason : (outcome?.detail ?? deciding?.reason),
    latencyMs: endpointsFailed ? undefined : outcome?.latencyMs,
  });
}

/** What the node finding counts as node problems, in its order (a missing service rule only when the ClusterIP failed). */
function nodeIssues(a: Analysis): NodeIssue[] {
  const { node } = a;
  const serviceFailed = a.service.connectFailed.length > 0;
  return [...node.ipForwardOff, ...node.notReady, ...node.conntrackFull, ...node.bridgeNetfilterOff, ...(serviceFailed ? node.serviceRulesMissing : [])];
}

/** What the API shows of the service proxy on the node: its pod and state. */
function kubeProxyDetail(a: Analysis, node: string | undefined): string | undefined {
  if (!node || a.node.kubeProxy.error) return undefined;
  const pod = a.node.kubeProxy.byNode.get(node)?.[0];
  if (!pod) return 'no kube-proxy pod on the node';
  return isPodReady(pod) ? `${pod.metadata?.name} Running` : `${pod.metadata?.name} ${podStateText(pod)}`;
}

/** The source node's service proxy and forwarding: between the ClusterIP and the backends. */
export function proxyHop(p: PathContext, vantage: Vantage | undefined, node: string | undefined): PathHop | undefined {
  const { a } = p;
  if (a.kind !== 'service' || !a.service.applicable || !applies(p.finding('Service'))) return undefined;
  const finding = p.finding('Node');
  const issues = nodeIssues(a);
  // This node's own problem; with one vantage any node's (there is no other path to draw it on).
  const issue = p.measured ? (issues.find((candidate) => candidate.node === node) ?? (a.vantages.length <= 1 ? issues[0] : undefined)) : undefined;
  const result = issue ? 'Failed' : finding?.status === 'False' ? 'Ok' : resultOfStatus(finding?.status);
  const detail = issue?.text ?? (p.measured ? kubeProxyDetail(a, node) : undefined) ?? finding?.reason;
  return defined({ kind: 'Proxy', layer: 'Node', name: 'kube-proxy', node, result, detail });
}

/** A host outside the cluster, or the name an ExternalName Service aliases: the end of the path. */
export function externalHop(p: PathContext, vantage: Vantage | undefined): PathHop | undefined {
  const { a } = p;
  const { destination } = a.input.spec;
  const host = a.kind === 'host' ? destination.host : a.dest.serviceKind === 'ExternalName' ? a.dest.service?.spec?.externalName : undefined;
  if (!host) return undefined;
  const attempt = p.measured ? a.attempts.find((candidate) => candidate.vantage === vantage) : undefined;
  const outcome = attempt ? attemptOutcome(attempt, a.transport) : undefined;
  const ping = p.measured ? a.icmp.find((candidate) => candidate.vantage === vantage)?.icmp : undefined;
  const north = p.finding('NorthSouth');
  const service = p.finding('Service');
  const deciding = applies(north) ? north : applies(service) ? service : p.finding('PodIP');
  const port = a.kind === 'host' && destination.port !== undefined ? `:${destination.port}` : '';
  const measured = outcome ?? (ping ? pingOutcome(ping) : undefined);
  const policy = p.measured ? externalEdge(a, attempt?.connect?.ip ?? ping?.ip) : undefined;
  const shown = measured ?? { result: resultOfStatus(deciding?.status), detail: deciding?.reason };
  return defined({ kind: 'External', layer: 'NorthSouth', name: `${host}${port}`, ...shown, policy });
}

/** A ping's replies as a hop outcome. */
export function pingOutcome(ping: IcmpResult): Pick<PathHop, 'address' | 'result' | 'detail' | 'latencyMs'> {
  const ok = ping.status === 'ok';
  const rtt = ping.rtt ? `, avg ${ping.rtt.avg} ms` : '';
  const latency = ok && ping.rtt ? { latencyMs: Math.round(ping.rtt.avg) } : {};
  return { address: ping.ip, result: ok ? 'Ok' : 'Failed', detail: `${ping.received}/${ping.sent} ping replies${rtt}`, ...latency };
}
