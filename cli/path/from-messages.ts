// The fallback for operators older than status.path, which write none: the hops (model.ts) pieced
// together from the layer conditions. Their states decide the hops, and their messages - which carry
// the evidence (addresses, latencies, policy names) - are read for the details. Reading prose is the
// weak point of this file: each pattern below is one message form of operator/diagnosis, and a hop
// whose details do not match still gets its state from the condition, only with less detail. The
// root cause is marked by the diagnosis's own rule (markCause), as in status.path.
import { LayerReason, markCause } from '../../operator/diagnosis/index.ts';
import type { Condition, NetworkCheck } from '../../operator/api/types.generated.ts';
import { markOfStatus } from '../style.ts';
import { applicable, layerCondition } from './layers.ts';
import { resultOf, type Hop } from './model.ts';
import { policyEdges } from './policy.ts';

const IP = String.raw`(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|[0-9a-fA-F]*:[0-9a-fA-F:]+)`;
const NAME = String.raw`(?:[a-z0-9][a-z0-9.-]*[a-z0-9]|[a-z0-9])`;
/** describeConnect() of the diagnosis: how one connection ended. */
const OUTCOME = String.raw`(?:connected in \d+ ms|answered in \d+ ms|refused(?: \([^)]*\))?|timed out after \d+ ms(?: \(no answer to SYN\))?|no answer after \d+ ms|unreachable \([^)]*\)|no reply after \d+ ms and no ICMP error \(open or silently filtered\)|failed \([^)]*\))`;

const stateOf = (condition: Condition | undefined): Hop['result'] => resultOf(markOfStatus(condition?.status));
const msOf = (text: string | undefined) => { const m = /(\d+) ms/.exec(text ?? ''); return m ? Number(m[1]) : undefined; };
const outcomeState = (outcome: string): Hop['result'] => resultOf(/^(connected|answered)/.test(outcome) ? 'ok' : /^no reply/.test(outcome) ? 'warning' : 'failed');

/** The text of every condition a path reads, for patterns that may match in more than one. */
function allText(check: NetworkCheck): string {
  return [check.status?.summary ?? '', ...(check.status?.conditions ?? []).map((c) => c.message)].join(' ');
}

function sourceHop(check: NetworkCheck): Hop {
  const { spec } = check;
  const condition = layerCondition(check, 'Source');
  const message = condition?.message ?? '';
  const pod = new RegExp(String.raw`Source pods? (${NAME}/${NAME}) \((${IP}) on node (${NAME})`).exec(message);
  const newPodNode = new RegExp(String.raw`new probe pod with labels .* on (?:node )?(${NAME})\.`).exec(message);
  const named = spec.source.pod ? `${check.metadata?.namespace}/${spec.source.pod}` : pod?.[1];
  const label = spec.source.node ? `node ${spec.source.node}` : named ? `pod ${named}` : spec.source.newPod ? `new pod ${labelsText(spec.source.newPod.labels)}` : `${check.status?.target?.source ?? 'source'}`;
  const node = spec.source.node ?? pod?.[3] ?? newPodNode?.[1];
  const failedProbe = check.status?.failedLayer === 'Probe';
  return { kind: 'Source', layer: 'Source', name: label, ...(pod ? { address: pod[2] } : {}), ...(node ? { node } : {}), result: failedProbe ? 'Failed' : stateOf(condition), ...(failedProbe ? { detail: 'the probe could not run' } : condition?.status !== 'True' && condition ? { detail: condition.reason } : {}) };
}

function dnsHop(check: NetworkCheck): Hop | undefined {
  const condition = layerCondition(check, 'DNS');
  if (!applicable(condition)) return undefined;
  const message = condition!.message;
  const ok = new RegExp(String.raw`(\S+) resolved to (.+?)(?: from (${IP}))? \((\d+) quer(?:y|ies), (\d+) ms`).exec(message);
  const failed = new RegExp(String.raw`lookup of (\S+) from .*?: ([A-Z]+)(?: from (${IP}))? after (\d+) quer(?:y|ies), (\d+) ms`).exec(message);
  const name = ok?.[1] ?? failed?.[1] ?? check.spec.destination.service ?? check.spec.destination.host ?? '';
  const server = ok?.[3] ?? failed?.[3];
  const detail = ok ? `-> ${ok[2]} in ${ok[5]} ms` : failed ? `${failed[2]} after ${failed[4]} ${failed[4] === '1' ? 'query' : 'queries'}` : condition!.reason;
  return { kind: 'DNS', layer: 'DNS', name, ...(server ? { address: server } : {}), result: stateOf(condition), detail, ...(ok ? { latencyMs: Number(ok[5]) } : {}) };
}

function serviceHop(check: NetworkCheck): Hop | undefined {
  const { destination } = check.spec;
  if (!destination.service) return undefined;
  const service = layerCondition(check, 'Service');
  const endpoints = layerCondition(check, 'Endpoints');
  const namespace = destination.namespace ?? check.metadata?.namespace;
  const attempt = new RegExp(String.raw`ClusterIP (${IP}) from .*?: (${IP}:\d+) (${OUTCOME})`).exec(service?.message ?? '');
  const clusterIP = attempt?.[2] ?? new RegExp(String.raw`ClusterIP (${IP})`).exec(allText(check))?.[1];
  const endpointsFailed = endpoints?.status === 'False';
  const state: Hop['result'] = endpointsFailed ? 'Failed' : applicable(service) ? stateOf(service) : stateOf(endpoints);
  const detail = endpointsFailed ? endpoints!.reason : attempt ? attempt[3] : applicable(service) ? service!.reason : endpoints?.reason;
  return { kind: 'Service', layer: endpointsFailed ? 'Endpoints' : 'Service', name: `${namespace}/${destination.service}`, ...(clusterIP ? { address: clusterIP } : {}), result: state, ...(detail ? { detail } : {}), ...(attempt ? { latencyMs: msOf(attempt[3]) } : {}) };
}

/** The source node's service proxy (and forwarding): between the ClusterIP and the backends. */
function proxyHop(check: NetworkCheck, source: Hop, service: Hop | undefined): Hop | undefined {
  if (!service || !applicable(layerCondition(check, 'Service'))) return undefined;
  const condition = layerCondition(check, 'Node');
  const message = condition?.message ?? '';
  const node = source.node;
  const running = new RegExp(String.raw`kube-proxy pod (${NAME}) is Running on node (${NAME})`).exec(message);
  const missing = /no kube-proxy pod (?:found )?on node/.exec(allText(check));
  // A node problem (ip_forward, conntrack, NotReady) is the detail; else what runs the service rules.
  const problem = condition?.status === 'False' ? condition.message.split(/[;.] /)[0] : undefined;
  const detail = problem ?? (running ? `${running[1]} Running` : missing ? 'no kube-proxy pod on the node' : condition?.reason);
  return { kind: 'Proxy', layer: 'Node', name: 'kube-proxy', ...(node ? { node } : {}), result: stateOf(condition), ...(detail ? { detail } : {}) };
}

interface BackendFact { name?: string; ip: string; port?: string; node?: string; sameNode?: boolean; outcome?: string }

/** Backends from the endpoints list and the direct pod connections, merged by IP. */
function backendFacts(check: NetworkCheck): BackendFact[] {
  const facts = new Map<string, BackendFact>();
  const endpoints = layerCondition(check, 'Endpoints')?.message ?? '';
  for (const m of endpoints.matchAll(new RegExp(String.raw`(${IP}) \((${NAME}), node (${NAME})\)`, 'g'))) facts.set(m[1], { ip: m[1], name: m[2], node: m[3] });
  const pods = layerCondition(check, 'PodIP')?.message ?? '';
  const outcome = new RegExp(String.raw`(?:(${NAME}) )?(${IP}):(\d+)(?:,? (?:on )?node (${NAME})(?: \((same|other) node\))?)?:? (${OUTCOME})`, 'g');
  for (const m of pods.matchAll(outcome)) {
    const known = facts.get(m[2]);
    facts.set(m[2], { ...known, ip: m[2], name: m[1] ?? known?.name, port: m[3], node: m[4] ?? known?.node, ...(m[5] ? { sameNode: m[5] === 'same' } : {}), outcome: known?.outcome && outcomeState(known.outcome) === 'Failed' ? known.outcome : m[6] });
  }
  return [...facts.values()];
}

function backendHops(check: NetworkCheck, source: Hop): Hop[] {
  const { destination } = check.spec;
  const podLayer = layerCondition(check, 'PodIP');
  const layerState = stateOf(podLayer);
  return backendFacts(check).map((fact) => {
    const sameNode = fact.sameNode ?? (fact.node && source.node ? fact.node === source.node : undefined);
    const state: Hop['result'] = fact.outcome ? outcomeState(fact.outcome) : applicable(podLayer) && podLayer!.status !== 'False' ? layerState : 'Unknown';
    const detail = fact.outcome ?? (podLayer?.reason === LayerReason.NotProbed ? 'not probed' : undefined);
    const latencyMs = fact.outcome ? msOf(fact.outcome) : undefined;
    return { kind: 'Backend' as const, layer: 'PodIP', name: fact.name ?? destination.pod ?? fact.ip, address: fact.port ? `${fact.ip}:${fact.port}` : fact.ip, ...(fact.node ? { node: fact.node } : {}), ...(sameNode !== undefined ? { sameNode } : {}), result: state, ...(detail ? { detail } : {}), ...(latencyMs !== undefined ? { latencyMs } : {}) };
  });
}

/** A host outside the cluster (or a cluster name given as host): the end of the path. */
function externalHop(check: NetworkCheck): Hop | undefined {
  const { destination } = check.spec;
  if (!destination.host) return undefined;
  const condition = layerCondition(check, 'NorthSouth');
  const service = layerCondition(check, 'Service');
  const text = `${condition?.message ?? ''} ${service?.message ?? ''} ${check.status?.summary ?? ''}`;
  const attempt = new RegExp(String.raw`(${IP}:\d+) (${OUTCOME})`).exec(text);
  const deciding = applicable(condition) ? condition : applicable(service) ? service : layerCondition(check, 'PodIP');
  const port = destination.port === undefined ? '' : `:${destination.port}`;
  const detail = attempt?.[2] ?? deciding?.reason;
  const latencyMs = attempt ? msOf(attempt[2]) : undefined;
  return { kind: 'External', layer: 'NorthSouth', name: `${destination.host}${port}`, ...(attempt ? { address: attempt[1] } : {}), result: attempt ? outcomeState(attempt[2]) : stateOf(deciding), ...(detail ? { detail } : {}), ...(latencyMs !== undefined ? { latencyMs } : {}) };
}

function labelsText(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
}

/** The hops of a finished run, read from its condition messages, with the root cause marked. */
export function hopsFromMessages(check: NetworkCheck): Hop[] {
  const source = sourceHop(check);
  const service = serviceHop(check);
  // A DNS check only resolves the name: its path ends at the DNS server.
  const dnsOnly = check.spec.protocol === 'DNS';
  const chain = [source, dnsHop(check), ...(dnsOnly ? [] : [service, proxyHop(check, source, service)])].filter((hop): hop is Hop => hop !== undefined);
  const ends = dnsOnly ? [] : check.spec.destination.host ? [externalHop(check)!] : backendHops(check, source);
  return markCause(policyEdges(check, [...chain, ...ends]), check.status ?? {});
}
