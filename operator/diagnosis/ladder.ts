// The ladder: pure functions from evidence (evidence.ts) and probe results (operator/probe/result.ts)
// to one analysis per layer and one condition per layer. No API calls, no clock: the same input
// always gives the same conditions, so recorded evidence replays exactly.
//
// Each layer's analysis keeps the structured facts the root-cause engine (rootcause.ts) combines:
// which lookups and connections failed and how, which backends are on the source's node, what the
// NetworkPolicy evaluator says about each flow, what the node probe saw. The conditions are the
// user-facing rendering: True/False/Unknown with a reason and a message that carries the evidence
// (addresses, latencies, policy names, counts). Unknown always says why the layer was not evaluated.
import type { V1EndpointSlice, V1Namespace, V1Node, V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { condition, type DesiredCondition } from '../api/conditions.ts';
import { DEFAULT_PROBE_IMAGE, defaultPort, isProbePod } from '../api/defaults.ts';
import { containerPortByName, resolveServicePort } from '../probe/env.ts';
import type {
  ConnectResult,
  ConnectStatus,
  DnsResult,
  EndpointResult,
  HttpResult,
  IcmpResult,
  MtuResult,
  NodeResult,
  ProbeResult,
  ResolvConf,
  SkippedProbe,
} from '../probe/result.ts';
import type { ProbeOutput } from '../probe/stage.ts';
import {
  CNI_AGENTS,
  DNS_POD_LABEL,
  KUBE_PROXY_LABEL,
  OVERLAY_ADDRESS_ANNOTATIONS,
  probeResultOf,
  type Evidence,
  type Fetched,
} from './evidence.ts';
import { explainServiceSelector, formatLabels, type SelectorMatchReport } from './labels.ts';
import {
  evaluateDnsEgress,
  evaluateFlow,
  externalEndpoint,
  formatPolicyRefs,
  podEndpoint,
  type DnsEgressVerdict,
  type FlowEndpoint,
  type FlowVerdict,
  type L4Protocol,
  type PolicyRef,
} from './netpol.ts';
import { Cause, HealthyReason, LADDER, Layer, LayerCondition, LayerReason, type LayerName } from './reasons.ts';
import type { DiagnosisInput } from './verdict.ts';

export interface DiagnosisOptions {
  /** The operator's default probe image, for `status.reproduce` when the check sets none (--probe-image). */
  readonly probeImage?: string;
  /** NetworkPolicy ipBlock semantics of the cluster's CNI (false models Cilium). */
  readonly ipBlockMatchesPodIPs?: boolean;
  /** A DNS lookup slower than this is mentioned (default 1000 ms). */
  readonly slowDnsMs?: number;
  /** Conntrack fill ratio from which the table counts as full (default 0.9). */
  readonly conntrackFullRatio?: number;
  /** Search-path queries wasted before the answer from which amplification is reported (default 2). */
  readonly wastedQueriesWarning?: number;
}

export type DestinationKind = 'service' | 'pod' | 'host';
export type SourceKind = 'pod' | 'newPod' | 'node';

/** One probe pod that tested the path (pod mode, or a node source's hostNetwork probe). */
export interface Vantage {
  readonly probePod: string;
  readonly node?: string;
  readonly result: ProbeResult;
  /** The source pod this probe stands for (a clone on its node). */
  readonly sourcePod?: V1Pod;
  /** "pod shop/web-1 on node worker-1", "node worker-1", "a new pod on node worker-1". */
  readonly label: string;
}

/** One direct connection to a destination pod (an endpoints item, or the connect of a pod destination). */
export interface PodOutcome {
  readonly vantage: Vantage;
  readonly ip: string;
  readonly port: number;
  readonly status: ConnectStatus;
  readonly ms: number;
  readonly err?: string;
  readonly pod?: V1Pod;
  readonly node?: string;
  /** Same node as the vantage; undefined when either node is unknown. */
  readonly sameNode?: boolean;
}

export interface Backend {
  readonly pod: V1Pod;
  readonly name: string;
  readonly ip?: string;
  readonly node?: string;
  readonly ready: boolean;
  /** The resolved destination port on this pod (the Service's targetPort, or the destination port). */
  readonly port?: number;
  /** Whether a container of the pod declares that port (named ports always are, when they resolve). */
  readonly portDeclared: boolean;
}

export interface SliceAddress {
  readonly ip: string;
  readonly ready: boolean;
  readonly node?: string;
  readonly pod?: string;
}

export interface LayerFinding {
  readonly layer: LayerName;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

export interface SourceAnalysis {
  readonly kind: SourceKind;
  readonly pods: V1Pod[];
  readonly deleted: string[];
  readonly notRunning: V1Pod[];
  readonly node?: string;
  readonly nodeObject?: V1Node;
  readonly evidenceError?: string;
  /** The endpoint NetworkPolicy is evaluated for (the source pod, the new pod's labels, or the node). */
  readonly endpoint?: FlowEndpoint;
  readonly newPodLabels?: Record<string, string>;
}

export interface DnsLookup {
  readonly vantage: Vantage;
  readonly dns: DnsResult;
  readonly resolv?: ResolvConf;
}

export interface DnsServers {
  readonly error?: string;
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
  readonly sourceDnsPolicy?: string;
}

export interface EndpointsAnalysis {
  readonly applicable: boolean;
  readonly notApplicable?: string;
  readonly service?: V1Service;
  readonly serviceError?: string;
  readonly serviceKind?: 'ClusterIP' | 'Headless' | 'ExternalName';
  readonly selectorless: boolean;
  readonly servicePort?: V1ServicePort;
  readonly portError?: string;
  readonly backends: Backend[];
  readonly backendsError?: string;
  readonly selectorReport?: SelectorMatchReport;
  /** Addresses of the EndpointSlices that carry the Service port (by name), and those that do not. */
  readonly slices?: { readonly ready: SliceAddress[]; readonly notReady: SliceAddress[]; readonly withoutPort: SliceAddress[] };
  readonly slicesError?: string;
  /** The targetPort problem: a named port no backend declares, or a number no container declares. */
  readonly targetPortProblem?: string;
  readonly status: 'ok' | 'partial' | 'noPods' | 'selectorMismatch' | 'notReady' | 'none' | 'unknown' | 'na';
}

export interface ServiceAttempt {
  readonly vantage: Vantage;
  readonly connect?: ConnectResult;
  readonly skipped?: SkippedProbe;
  readonly http?: HttpResult;
}

export interface ServiceAnalysis {
  readonly applicable: boolean;
  readonly notApplicable?: string;
  readonly clusterIP?: string;
  readonly attempts: ServiceAttempt[];
  /** Attempts whose TCP/UDP connect failed (UDP noReply is not a failure by itself). */
  readonly connectFailed: ServiceAttempt[];
  /** Connected, but the HTTP exchange failed. */
  readonly httpFailed: ServiceAttempt[];
}

export interface PolicyFlow {
  readonly target: string;
  readonly backend?: Backend;
  readonly verdict: FlowVerdict;
}

export interface PolicyAnalysis {
  readonly applicable: boolean;
  readonly notApplicable?: string;
  readonly error?: string;
  readonly flows: PolicyFlow[];
  readonly denied: PolicyFlow[];
  readonly policies: number;
}

export interface NodeIssue {
  readonly node: string;
  readonly text: string;
}

export interface NodeAnalysis {
  readonly probes: { readonly node?: string; readonly probePod: string; readonly result: NodeResult }[];
  readonly involvedNodes: string[];
  readonly nodesError?: string;
  readonly ipForwardOff: NodeIssue[];
  readonly bridgeNetfilterOff: NodeIssue[];
  readonly conntrackFull: NodeIssue[];
  readonly notReady: NodeIssue[];
  /** The node probe found no rules for the Service IP (only meaningful when kube-proxy is expected). */
  readonly serviceRulesMissing: NodeIssue[];
  readonly kubeProxy: { readonly error?: string; readonly byNode: Map<string, V1Pod[]>; readonly anyFound: boolean };
  readonly notes: string[];
}

export interface CniAnalysis {
  readonly agentsError?: string;
  /** CNIs whose agent pods exist in the cluster. */
  readonly detected: string[];
  readonly agentProblems: NodeIssue[];
  readonly networkUnavailable: NodeIssue[];
  readonly overlayAddressMismatch: NodeIssue[];
  readonly sameNodeOk: PodOutcome[];
  readonly sameNodeFailed: PodOutcome[];
  readonly crossNodeOk: PodOutcome[];
  readonly crossNodeFailed: PodOutcome[];
  /** Same-node connections work but cross-node ones time out. */
  readonly overlaySuspect: boolean;
}

export interface MtuAnalysis {
  readonly results: { readonly vantage: Vantage; readonly mtu: MtuResult | SkippedProbe }[];
  readonly broken?: { readonly vantage: Vantage; readonly mtu: MtuResult };
}

export interface NorthSouthAnalysis {
  readonly loadBalancer?: { readonly pending: boolean; readonly addresses: string[] };
  readonly ingresses: string[];
  readonly ingressesError?: string;
  readonly controllers?: { readonly error?: string; readonly total: number; readonly ready: number; readonly names: string[] };
  /** Host destinations: the external path. */
  /** Host destinations (and ExternalName aliases): the path out of the cluster. */
  readonly external?: {
    readonly host: string;
    readonly viaIngress: boolean;
    /** A cluster name (…svc.cluster.local): the traffic never leaves the cluster. */
    readonly internal: boolean;
  };
}

export interface ReproContext {
  readonly namespace: string;
  readonly sourcePod?: string;
  readonly sourceNode?: string;
  readonly newPodLabels?: Record<string, string>;
  readonly image: string;
  readonly timeoutSeconds: number;
}

export interface Analysis {
  readonly input: DiagnosisInput;
  readonly evidence: Evidence;
  readonly options: DiagnosisOptions;
  readonly generation: number;
  readonly namespace: string;
  readonly destNamespace: string;
  readonly kind: DestinationKind;
  readonly protocol: DiagnosisInput['spec']['protocol'];
  readonly transport: 'TCP' | 'UDP';
  readonly expect: 'Reachable' | 'Blocked';
  /** "svc shop/backend:8080", "pod shop/db-0:5432", "example.com:443". */
  readonly destinationText: string;
  readonly probeProblem?: string;
  readonly probeNotes: string[];
  readonly vantages: Vantage[];
  readonly source: SourceAnalysis;
  readonly dns: DnsAnalysis;
  readonly endpoints: EndpointsAnalysis;
  readonly service: ServiceAnalysis;
  readonly pods: { readonly outcomes: PodOutcome[]; readonly failed: PodOutcome[] };
  /** Pod destinations and headless Services: connected to the pod, but the HTTP exchange failed. */
  readonly podHttpFailed: { readonly vantage: Vantage; readonly connect: ConnectResult; readonly http?: HttpResult }[];
  readonly icmp: { readonly vantage: Vantage; readonly icmp: IcmpResult }[];
  readonly policy: PolicyAnalysis;
  readonly node: NodeAnalysis;
  readonly cni: CniAnalysis;
  readonly mtu: MtuAnalysis;
  readonly northSouth: NorthSouthAnalysis;
  readonly repro: ReproContext;
  readonly findings: LayerFinding[];
}

// ---------------------------------------------------------------------------------------------------
// Formatting.

export const MAX_CONDITION_MESSAGE = 2000;
const DEFAULT_SLOW_DNS_MS = 1000;
const DEFAULT_CONNTRACK_FULL_RATIO = 0.9;
const DEFAULT_WASTED_QUERIES = 2;
const DECISIVE_SECTIONS = new Set(['dns', 'connect', 'http', 'icmp', 'endpoints']);

export function clip(text: string, max = MAX_CONDITION_MESSAGE): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** "a, b, c and 2 more". */
export function listText(items: readonly string[], max = 4): string {
  if (items.length === 0) return 'none';
  if (items.length <= max) return items.length === 1 ? items[0] : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

export function plural(count: number, word: string, many = `${word}s`): string {
  return `${count} ${count === 1 ? word : many}`;
}

export function podRef(pod: V1Pod | undefined): string {
  return `${pod?.metadata?.namespace ?? 'default'}/${pod?.metadata?.name ?? '<unnamed>'}`;
}

function uniq<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

export function describeConnect(status: ConnectStatus, ms: number, err: string | undefined, transport: 'TCP' | 'UDP'): string {
  switch (status) {
    case 'ok':
      return transport === 'UDP' ? `answered in ${ms} ms` : `connected in ${ms} ms`;
    case 'refused':
      // A RST and an ICMP port unreachable both surface as ECONNREFUSED: do not claim which.
      return transport === 'UDP' ? 'refused (ICMP port unreachable)' : `refused${err && err !== 'ECONNREFUSED' ? ` (${err})` : ''}`;
    case 'timeout':
      return transport === 'UDP' ? `no answer after ${ms} ms` : `timed out after ${ms} ms (no answer to SYN)`;
    case 'unreachable':
      return `unreachable (${err ?? 'no route'})`;
    case 'noReply':
      return `no reply after ${ms} ms and no ICMP error (open or silently filtered)`;
    case 'error':
      return `failed (${err ?? 'error'})`;
  }
}

export function describeHttp(http: HttpResult): string {
  const total = http.ms ? ` in ${http.ms.total} ms` : '';
  switch (http.status) {
    case 'ok':
      return `HTTP ${http.code}${total}`;
    case 'unexpectedStatus':
      return `HTTP ${http.code}${total} (not an expected status)`;
    case 'timeout':
      return `no HTTP response${http.ms && http.ms.connect > 0 ? ` after connecting in ${http.ms.connect} ms` : ''} (timed out${http.err ? `: ${http.err}` : ''})`;
    default:
      return `${http.status}${http.code ? ` HTTP ${http.code}` : ''}${http.err ? ` (${http.err})` : ''}`;
  }
}

function isConnectResult(value: ConnectResult | SkippedProbe | undefined): value is ConnectResult {
  return value !== undefined && value.status !== 'skipped';
}

function isMtuResult(value: MtuResult | SkippedProbe | undefined): value is MtuResult {
  return value !== undefined && value.status !== 'skipped';
}

function isIcmpResult(value: IcmpResult | SkippedProbe | undefined): value is IcmpResult {
  return value !== undefined && value.status !== 'skipped';
}

export function isPodReady(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && Boolean(pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
}

function podIPs(pod: V1Pod): string[] {
  return uniq([pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((entry) => entry.ip)].filter((ip): ip is string => Boolean(ip)));
}

/** Why a pod is not ready, from its status: "Pending (Unschedulable)", "container app: CrashLoopBackOff, 7 restarts". */
export function podStateText(pod: V1Pod): string {
  const phase = pod.status?.phase ?? 'Unknown';
  const details: string[] = [];
  for (const status of pod.status?.containerStatuses ?? []) {
    const waiting = status.state?.waiting?.reason;
    const terminated = status.state?.terminated?.reason;
    if (waiting) details.push(`container ${status.name} ${waiting}`);
    else if (terminated) details.push(`container ${status.name} ${terminated}`);
    else if (!status.ready) details.push(`container ${status.name} not ready`);
    if ((status.restartCount ?? 0) > 0) details.push(`${plural(status.restartCount, 'restart')}`);
  }
  const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unschedulable?.reason) details.push(unschedulable.reason);
  if (pod.metadata?.deletionTimestamp) details.push('terminating');
  return details.length > 0 ? `${phase} (${details.join(', ')})` : phase;
}

function nodeCondition(node: V1Node | undefined, type: string): string | undefined {
  return node?.status?.conditions?.find((c) => c.type === type)?.status;
}

function nodeInternalIP(node: V1Node | undefined): string | undefined {
  return node?.status?.addresses?.find((address) => address.type === 'InternalIP')?.address;
}

function fetchedValue<T>(value: Fetched<T> | undefined): T | undefined {
  return value && value.ok ? value.value : undefined;
}

function fetchedError(value: Fetched<unknown> | undefined): string | undefined {
  return value && !value.ok ? value.error : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Probe outputs.

function analyseOutputs(outputs: readonly ProbeOutput[]): { vantages: Omit<Vantage, 'label' | 'sourcePod'>[]; nodeProbes: NodeAnalysis['probes']; problem?: string; notes: string[] } {
  const vantages: Omit<Vantage, 'label' | 'sourcePod'>[] = [];
  const nodeProbes: { node?: string; probePod: string; result: NodeResult }[] = [];
  const problems: string[] = [];
  const notes: string[] = [];
  if (outputs.length === 0) problems.push('no probe pod reported a result');
  for (const output of outputs) {
    const result = probeResultOf(output.result);
    if (!result || typeof result !== 'object') {
      problems.push(`probe pod ${output.pod} reported no result document`);
      continue;
    }
    if (result.status === 'invalidInput') {
      const errors = result.errors.map((error) => `${error.code}${error.param ? ` ${error.param}` : ''}: ${error.msg}`);
      problems.push(`probe pod ${output.pod} refused its parameters (${listText(errors, 3)})`);
      continue;
    }
    for (const error of result.errors) {
      const sectionMissing = error.probe !== undefined && result[error.probe] === undefined;
      if ((error.code === 'ProbeFailed' || error.code === 'ProbeTimeout' || error.code === 'ToolMissing') && error.probe && DECISIVE_SECTIONS.has(error.probe) && sectionMissing) {
        problems.push(`probe pod ${output.pod}: the ${error.probe} probe did not finish (${error.code}: ${error.msg})`);
      } else {
        notes.push(`probe pod ${output.pod}: ${error.code}${error.param ? ` ${error.param}` : ''}${error.probe ? ` (${error.probe})` : ''}: ${error.msg}`);
      }
    }
    if (result.node) nodeProbes.push({ node: output.node, probePod: output.pod, result: result.node });
    if (result.proto !== null) vantages.push({ probePod: output.pod, node: output.node, result });
  }
  if (problems.length === 0 && vantages.length === 0) problems.push('no probe pod tested the path (only node inspection ran)');
  return { vantages, nodeProbes, problem: problems.length > 0 ? listText(problems, 3) : undefined, notes };
}

// ---------------------------------------------------------------------------------------------------
// The analysis.

export function analyze(evidence: Evidence, input: DiagnosisInput, options: DiagnosisOptions = {}): Analysis {
  const { check, spec, targets } = input;
  const generation = check.metadata?.generation ?? 0;
  const namespace = check.metadata?.namespace ?? 'default';
  const destination = spec.destination;
  const destNamespace = destination.namespace ?? namespace;
  const kind: DestinationKind = destination.service ? 'service' : destination.host ? 'host' : 'pod';
  const transport: 'TCP' | 'UDP' = spec.protocol === 'UDP' ? 'UDP' : 'TCP';
  const port = defaultPort(spec);
  const destinationText =
    kind === 'service'
      ? `svc ${destNamespace}/${destination.service}${port !== undefined ? `:${port}` : ''}`
      : kind === 'host'
        ? `${destination.host}${port !== undefined ? `:${port}` : ''}`
        : `${destination.pod ? `pod ${destNamespace}/${destination.pod}` : `pods ${formatLabels(destination.podSelector?.matchLabels)} in ${destNamespace}`}${port !== undefined ? `:${port}` : ''}`;

  const outputs = analyseOutputs(input.outputs);
  const namespaces = fetchedValue(evidence.namespaces) ?? [];
  const namespaceObject = (name: string): V1Namespace | undefined => namespaces.find((ns) => ns.metadata?.name === name);
  const nodes = fetchedValue(evidence.nodes) ?? [];
  const nodeObject = (name: string | undefined): V1Node | undefined => (name ? nodes.find((node) => node.metadata?.name === name) : undefined);

  // --- Source ---------------------------------------------------------------------------------------
  const sourceKind: SourceKind = spec.source.node ? 'node' : spec.source.newPod ? 'newPod' : 'pod';
  const freshSources = fetchedValue(evidence.sourcePods);
  const sourcePods = freshSources ?? targets.sourcePods;
  const deleted = freshSources
    ? targets.sourcePods.map((pod) => pod.metadata?.name ?? '').filter((name) => !freshSources.some((pod) => pod.metadata?.name === name))
    : [];
  const sourceNode = targets.sourceNode ?? spec.source.node;
  let sourceEndpoint: FlowEndpoint | undefined;
  if (sourceKind === 'pod' && sourcePods[0]) {
    sourceEndpoint = podEndpoint(sourcePods[0], namespaceObject(namespace));
  } else if (sourceKind === 'newPod') {
    const synthetic: V1Pod = { metadata: { name: outputs.vantages[0]?.probePod ?? 'netcheck-probe', namespace, labels: { ...(spec.source.newPod?.labels ?? {}) } } };
    sourceEndpoint = podEndpoint(synthetic, namespaceObject(namespace), '');
  } else if (sourceKind === 'node' && sourceNode) {
    sourceEndpoint = externalEndpoint(nodeInternalIP(nodeObject(sourceNode)) ?? '', `node ${sourceNode}`);
  }
  const source: SourceAnalysis = {
    kind: sourceKind,
    pods: sourcePods,
    deleted,
    notRunning: sourcePods.filter((pod) => pod.status?.phase !== 'Running'),
    node: sourceNode,
    nodeObject: nodeObject(sourceNode),
    evidenceError: fetchedError(evidence.sourcePods),
    endpoint: sourceEndpoint,
    newPodLabels: spec.source.newPod?.labels,
  };

  const vantages: Vantage[] = outputs.vantages.map((vantage) => {
    const sourcePod = sourceKind === 'pod' ? (sourcePods.find((pod) => pod.spec?.nodeName && pod.spec.nodeName === vantage.node) ?? sourcePods[0]) : undefined;
    const where = vantage.node ? ` on node ${vantage.node}` : '';
    const label =
      sourceKind === 'node' ? `node ${vantage.node ?? sourceNode}` : sourceKind === 'newPod' ? `a new pod${where}` : `pod ${sourcePod ? podRef(sourcePod) : vantage.probePod}${where}`;
    return { ...vantage, sourcePod, label };
  });

  // --- Backends, EndpointSlices ---------------------------------------------------------------------
  const service = kind === 'service' ? (evidence.service?.ok ? (evidence.service.value ?? undefined) : targets.destinationService) : undefined;
  const serviceGone = kind === 'service' && evidence.service?.ok === true && evidence.service.value === null;
  const serviceKind: EndpointsAnalysis['serviceKind'] = service
    ? service.spec?.type === 'ExternalName'
      ? 'ExternalName'
      : service.spec?.clusterIP === 'None'
        ? 'Headless'
        : 'ClusterIP'
    : undefined;
  const resolvedPort = service ? resolveServicePort(service, port) : undefined;
  const servicePort = resolvedPort?.servicePort;
  const backendPods = fetchedValue(evidence.backendPods) ?? targets.destinationPods;
  const backends: Backend[] = backendPods.map((pod) => {
    let resolved: number | undefined;
    let declared = false;
    const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
    const declares = (number: number) => containers.some((container) => (container.ports ?? []).some((p) => p.containerPort === number && (p.protocol ?? 'TCP') === (servicePort?.protocol ?? transport)));
    if (kind === 'service') {
      const target = servicePort ? (servicePort.targetPort ?? servicePort.port) : undefined;
      if (typeof target === 'number' || (typeof target === 'string' && /^\d+$/.test(target))) {
        resolved = Number(target);
        declared = declares(resolved);
      } else if (typeof target === 'string') {
        resolved = containerPortByName(pod, target);
        declared = resolved !== undefined;
      }
    } else if (kind === 'pod') {
      if (typeof port === 'number') {
        resolved = port;
        declared = declares(port);
      } else if (typeof port === 'string') {
        resolved = containerPortByName(pod, port);
        declared = resolved !== undefined;
      }
    }
    return {
      pod,
      name: pod.metadata?.name ?? '<unnamed>',
      ip: podIPs(pod)[0],
      node: pod.spec?.nodeName || undefined,
      ready: isPodReady(pod),
      port: resolved,
      portDeclared: declared,
    };
  });
  const backendByIP = (ip: string): Backend | undefined => backends.find((backend) => podIPs(backend.pod).includes(ip));

  const sliceList = fetchedValue(evidence.endpointSlices);
  const sliceAddresses: SliceAddress[] = (sliceList ?? []).flatMap((slice: V1EndpointSlice) =>
    (slice.endpoints ?? []).flatMap((endpoint) =>
      endpoint.addresses.map((ip) => ({
        ip,
        // EndpointSlice: a nil ready condition means ready (unknown state is treated as ready).
        ready: endpoint.conditions?.ready !== false,
        node: endpoint.nodeName,
        pod: endpoint.targetRef?.kind === 'Pod' ? endpoint.targetRef.name : undefined,
      })),
    ),
  );
  const uniqueAddresses = [...new Map(sliceAddresses.map((address) => [address.ip, address])).values()];
  // kube-proxy pairs a Service port with the slice port of the SAME NAME: addresses published in
  // slices without that port (a named targetPort no pod declares) serve nothing on it.
  const wantedPortName = servicePort?.name ?? '';
  const servingSlices = (sliceList ?? []).filter((slice) => !servicePort || (slice.ports ?? []).some((p) => (p.name ?? '') === wantedPortName));
  const servingIPs = new Set(servingSlices.flatMap((slice) => (slice.endpoints ?? []).flatMap((endpoint) => endpoint.addresses)));
  const portlessAddresses = uniqueAddresses.filter((address) => !servingIPs.has(address.ip));
  const servingAddresses = uniqueAddresses.filter((address) => servingIPs.has(address.ip));
  const slices = sliceList
    ? { ready: servingAddresses.filter((a) => a.ready), notReady: servingAddresses.filter((a) => !a.ready), withoutPort: portlessAddresses }
    : undefined;
  const nodeOfIP = (ip: string): string | undefined => backendByIP(ip)?.node ?? uniqueAddresses.find((address) => address.ip === ip)?.node;

  // --- Probe sections per vantage -------------------------------------------------------------------
  const podOutcomes: PodOutcome[] = [];
  const serviceAttempts: ServiceAttempt[] = [];
  const icmp: Analysis['icmp'] = [];
  const mtuResults: MtuAnalysis['results'] = [];
  const lookups: DnsLookup[] = [];
  const connectIsPod = kind === 'pod' || serviceKind === 'Headless';
  for (const vantage of vantages) {
    const result = vantage.result;
    const outcome = (item: EndpointResult): PodOutcome => {
      const backend = backendByIP(item.ip);
      const node = nodeOfIP(item.ip);
      return {
        vantage,
        ip: item.ip,
        port: item.port,
        status: item.status,
        ms: item.ms,
        err: item.err,
        pod: backend?.pod,
        node,
        sameNode: vantage.node && node ? vantage.node === node : undefined,
      };
    };
    if (result.dns) lookups.push({ vantage, dns: result.dns, resolv: result.resolv });
    if (connectIsPod && isConnectResult(result.connect)) podOutcomes.push(outcome(result.connect));
    for (const item of result.endpoints?.items ?? []) {
      if (!podOutcomes.some((existing) => existing.vantage === vantage && existing.ip === item.ip && existing.port === item.port)) podOutcomes.push(outcome(item));
    }
    if (!connectIsPod && (result.connect || result.http)) {
      serviceAttempts.push({
        vantage,
        connect: isConnectResult(result.connect) ? result.connect : undefined,
        skipped: result.connect && !isConnectResult(result.connect) ? result.connect : undefined,
        http: result.http,
      });
    }
    if (isIcmpResult(result.icmp)) icmp.push({ vantage, icmp: result.icmp });
    if (result.mtu) mtuResults.push({ vantage, mtu: result.mtu });
  }
  const failedStatus = (status: ConnectStatus) => status !== 'ok' && status !== 'noReply';
  const podFailed = podOutcomes.filter((outcome) => failedStatus(outcome.status));
  const connectFailed = serviceAttempts.filter((attempt) => attempt.skipped || (attempt.connect && failedStatus(attempt.connect.status)));
  const httpFailed = serviceAttempts.filter((attempt) => attempt.connect?.status === 'ok' && attempt.http && attempt.http.status !== 'ok');
  // Pod destinations and headless Services: the HTTP exchange is with a pod.
  const podHttpFailed = connectIsPod
    ? vantages
        .filter((vantage) => vantage.result.http && vantage.result.http.status !== 'ok' && isConnectResult(vantage.result.connect) && vantage.result.connect.status === 'ok')
        .map((vantage) => ({ vantage, connect: vantage.result.connect as ConnectResult, http: vantage.result.http }))
    : [];

  // --- Layers ----------------------------------------------------------------------------------------
  const dns = analyseDns(evidence, lookups, source, namespaceObject, options);
  const endpoints: EndpointsAnalysis = analyseEndpoints(evidence, kind, service, serviceGone, serviceKind, servicePort, resolvedPort?.error, backends, slices, destNamespace);
  // attempts hold the connection to the destination address itself: the ClusterIP, or a host's
  // address (host destinations and ExternalName aliases); pod addresses are in podOutcomes.
  const attempts = { attempts: serviceAttempts, connectFailed, httpFailed };
  const serviceAnalysis: ServiceAnalysis =
    kind !== 'service'
      ? { applicable: false, notApplicable: `the destination is ${kind === 'pod' ? 'a pod' : 'a host'}, no Service is in the path`, ...attempts }
      : serviceKind === 'Headless'
        ? { applicable: false, notApplicable: 'the Service is headless (clusterIP None): clients connect to the pod IPs DNS returns, no service proxy is involved', ...attempts }
        : serviceKind === 'ExternalName'
          ? { applicable: false, notApplicable: `the Service is an ExternalName alias for ${service?.spec?.externalName}: DNS returns a CNAME, no service proxy is involved`, ...attempts }
          : { applicable: true, clusterIP: service?.spec?.clusterIP, ...attempts };
  const policy = analysePolicy(evidence, input, kind, source, backends, serviceAttempts, vantages, namespaceObject, options);
  const nodeAnalysis = analyseNodes(evidence, outputs.nodeProbes, nodes, source, backends, podOutcomes, service, options);
  const cni = analyseCni(evidence, nodes, nodeAnalysis.involvedNodes, podOutcomes);
  const mtuBroken = mtuResults.find((entry): entry is { vantage: Vantage; mtu: MtuResult } => isMtuResult(entry.mtu) && (entry.mtu.status === 'blackhole' || entry.mtu.status === 'fragNeeded'));
  const mtu: MtuAnalysis = { results: mtuResults, ...(mtuBroken ? { broken: mtuBroken } : {}) };
  const northSouth = analyseNorthSouth(evidence, kind, service, kind === 'host' ? destination.host : serviceKind === 'ExternalName' ? service?.spec?.externalName : undefined);
  const repro: ReproContext = {
    namespace,
    sourcePod: sourceKind === 'pod' ? (vantages[0]?.sourcePod ?? sourcePods[0])?.metadata?.name : undefined,
    sourceNode: sourceKind === 'node' ? sourceNode : undefined,
    newPodLabels: sourceKind === 'newPod' ? (spec.source.newPod?.labels ?? {}) : undefined,
    // The image the check's probe pods used: the check's own, else the operator's default.
    image: spec.probe?.image ?? options.probeImage ?? DEFAULT_PROBE_IMAGE,
    timeoutSeconds: spec.timeoutSeconds,
  };

  const base = {
    input,
    evidence,
    options,
    generation,
    namespace,
    destNamespace,
    kind,
    protocol: spec.protocol,
    transport,
    expect: spec.expect,
    destinationText,
    probeProblem: outputs.problem,
    probeNotes: outputs.notes,
    vantages,
    source,
    dns,
    endpoints,
    service: serviceAnalysis,
    pods: { outcomes: podOutcomes, failed: podFailed },
    podHttpFailed,
    icmp,
    policy,
    node: nodeAnalysis,
    cni,
    mtu,
    northSouth,
    repro,
  };
  return { ...base, findings: layerFindings(base) };
}

// ---------------------------------------------------------------------------------------------------
// DNS.

function dotCount(name: string): number {
  return (name.replace(/\.$/, '').match(/\./g) ?? []).length;
}

function analyseDns(
  evidence: Evidence,
  lookups: DnsLookup[],
  source: SourceAnalysis,
  namespaceObject: (name: string) => V1Namespace | undefined,
  options: DiagnosisOptions,
): DnsAnalysis {
  const name = lookups[0]?.dns.name;
  const failed = lookups.find((lookup) => lookup.dns.status !== 'ok');
  const wastedThreshold = options.wastedQueriesWarning ?? DEFAULT_WASTED_QUERIES;
  let amplification: DnsAnalysis['amplification'];
  for (const lookup of lookups) {
    const { dns, resolv } = lookup;
    if (dns.status !== 'ok' || !resolv || dns.name.endsWith('.')) continue;
    const absolute = `${dns.name}.`;
    const wasted = dns.queries - 1;
    if (dotCount(dns.name) < resolv.ndots && resolv.search.length > 0 && dns.qname === absolute && wasted >= wastedThreshold) {
      amplification = { ...lookup, wasted };
      break;
    }
  }

  let servers: DnsServers | undefined;
  if (evidence.dns) {
    const pods = fetchedValue(evidence.dns.pods) ?? [];
    const dnsService = fetchedValue(evidence.dns.service);
    const dnsSlices = fetchedValue(evidence.dns.endpointSlices);
    const addresses = new Map<string, boolean>();
    for (const slice of dnsSlices ?? []) for (const endpoint of slice.endpoints ?? []) for (const ip of endpoint.addresses) addresses.set(ip, endpoint.conditions?.ready !== false || addresses.get(ip) === true);
    const errors = [fetchedError(evidence.dns.pods), fetchedError(evidence.dns.service), fetchedError(evidence.dns.endpointSlices)].filter((e): e is string => Boolean(e));
    const podsReady = pods.filter(isPodReady);
    const endpointsReady = [...addresses.values()].filter(Boolean).length;
    const reasons: string[] = [];
    if (evidence.dns.pods.ok && podsReady.length === 0) {
      reasons.push(pods.length === 0 ? `no DNS pods (${DNS_POD_LABEL.key}=${DNS_POD_LABEL.value}) exist in kube-system` : `none of the ${plural(pods.length, 'DNS pod')} is ready (${listText(pods.map((pod) => `${pod.metadata?.name} ${podStateText(pod)}`), 3)})`);
    }
    if (evidence.dns.service.ok && dnsService === null) reasons.push('the kube-dns Service does not exist');
    else if (evidence.dns.endpointSlices.ok && endpointsReady === 0) reasons.push('the kube-dns Service has no ready endpoints');
    servers = {
      error: errors.length > 0 ? errors.join('; ') : undefined,
      podsTotal: pods.length,
      podsReady: podsReady.length,
      notReadyPods: pods.filter((pod) => !isPodReady(pod)).map((pod) => `${pod.metadata?.name} ${podStateText(pod)}`),
      serviceIP: dnsService?.spec?.clusterIP,
      serviceMissing: evidence.dns.service.ok && dnsService === null,
      endpointsReady,
      endpointsNotReady: [...addresses.values()].filter((ready) => !ready).length,
      pods,
      unavailable: reasons.length > 0 ? reasons.join(', and ') : undefined,
    };
  }

  let egress: DnsEgressVerdict | undefined;
  let egressError: string | undefined;
  if (lookups.length > 0 && source.endpoint) {
    const policies = fetchedValue(evidence.networkPolicies);
    if (!policies) egressError = fetchedError(evidence.networkPolicies);
    else if (servers && evidence.dns?.pods.ok) {
      const dnsService = fetchedValue(evidence.dns.service);
      const dnsPort = dnsService?.spec?.ports?.find((p) => p.port === 53 && (p.protocol ?? 'TCP') === 'UDP')?.targetPort;
      egress = evaluateDnsEgress({
        source: source.endpoint,
        dnsPods: servers.pods.filter((pod) => pod.status?.podIP).map((pod) => podEndpoint(pod, namespaceObject(pod.metadata?.namespace ?? 'kube-system'))),
        policies,
        namespaces: fetchedValue(evidence.namespaces) ?? [],
        port: typeof dnsPort === 'number' ? dnsPort : undefined,
        options: { ipBlockMatchesPodIPs: options.ipBlockMatchesPodIPs },
      });
    } else egressError = servers?.error ?? 'the DNS pods were not read';
  }

  return {
    applicable: lookups.length > 0,
    name,
    lookups,
    ...(failed ? { failed } : {}),
    ...(amplification ? { amplification } : {}),
    ...(servers ? { servers } : {}),
    ...(egress ? { egress } : {}),
    ...(egressError ? { egressError } : {}),
    sourceDnsPolicy: source.pods[0]?.spec?.dnsPolicy,
  };
}

// ---------------------------------------------------------------------------------------------------
// Endpoints.

function analyseEndpoints(
  evidence: Evidence,
  kind: DestinationKind,
  service: V1Service | undefined,
  serviceGone: boolean,
  serviceKind: EndpointsAnalysis['serviceKind'],
  servicePort: V1ServicePort | undefined,
  portError: string | undefined,
  backends: Backend[],
  slices: EndpointsAnalysis['slices'],
  destNamespace: string,
): EndpointsAnalysis {
  const empty = { selectorless: false, backends, status: 'na' as const };
  if (kind !== 'service') return { ...empty, applicable: false, notApplicable: `the destination is ${kind === 'pod' ? 'a pod' : 'a host'}, not a Service` };
  if (!service) {
    return {
      ...empty,
      applicable: true,
      status: 'unknown',
      serviceError: serviceGone ? `Service ${destNamespace} no longer exists` : (fetchedError(evidence.service) ?? 'the Service was not read'),
    };
  }
  if (serviceKind === 'ExternalName') {
    return { ...empty, applicable: false, service, serviceKind, notApplicable: `ExternalName Service: an alias for ${service.spec?.externalName}, without endpoints` };
  }
  const selector = service.spec?.selector;
  const selectorless = !selector || Object.keys(selector).length === 0;
  const backendsError = fetchedError(evidence.backendPods);
  const slicesError = fetchedError(evidence.endpointSlices);
  let selectorReport: SelectorMatchReport | undefined;
  if (!selectorless && !backendsError && backends.length === 0) {
    const candidates = fetchedValue(evidence.namespacePods);
    if (candidates) selectorReport = explainServiceSelector(selector, candidates.filter((pod) => !isProbePod(pod)));
  }

  let targetPortProblem: string | undefined;
  if (servicePort && backends.length > 0) {
    const target = servicePort.targetPort ?? servicePort.port;
    const named = typeof target === 'string' && !/^\d+$/.test(target);
    const readyBackends = backends.filter((backend) => backend.ready);
    const considered = readyBackends.length > 0 ? readyBackends : backends;
    const undeclared = considered.filter((backend) => !backend.portDeclared);
    // Declaring container ports is optional: a numeric targetPort is only "wrong" when the pods do
    // declare ports and none of them is it. A named one must resolve.
    const declaresAny = considered.some((backend) => [...(backend.pod.spec?.containers ?? []), ...(backend.pod.spec?.initContainers ?? [])].some((c) => (c.ports ?? []).length > 0));
    if (undeclared.length === considered.length && (named || declaresAny)) {
      const declared = uniq(considered.flatMap((backend) => [...(backend.pod.spec?.containers ?? [])].flatMap((c) => (c.ports ?? []).map((p) => `${p.name ? `${p.name}=` : ''}${p.containerPort}/${p.protocol ?? 'TCP'}`))));
      targetPortProblem = named
        ? `targetPort ${target} names no container port of the backend pods (they declare ${declared.length ? declared.join(', ') : 'no ports'})`
        : `targetPort ${target} is not among the ports the backend containers declare (${declared.length ? declared.join(', ') : 'no ports declared'})`;
    }
  }

  let status: EndpointsAnalysis['status'];
  const readyCount = slices ? slices.ready.length : backends.filter((backend) => backend.ready && backend.ip).length;
  if (!selectorless && backendsError && !slices) status = 'unknown';
  else if (!selectorless && !backendsError && backends.length === 0) status = selectorReport && selectorReport.candidateCount > 0 ? 'selectorMismatch' : 'noPods';
  else if (readyCount === 0) status = (slices && slices.notReady.length > 0) || backends.some((backend) => !backend.ready) ? 'notReady' : 'none';
  else if ((slices && slices.notReady.length > 0) || backends.some((backend) => !backend.ready)) status = 'partial';
  else status = 'ok';

  return {
    applicable: true,
    service,
    serviceKind,
    selectorless,
    ...(servicePort ? { servicePort } : {}),
    ...(portError ? { portError } : {}),
    backends,
    ...(backendsError ? { backendsError } : {}),
    ...(selectorReport ? { selectorReport } : {}),
    ...(slices ? { slices } : {}),
    ...(slicesError ? { slicesError } : {}),
    ...(targetPortProblem ? { targetPortProblem } : {}),
    status,
  };
}

// ---------------------------------------------------------------------------------------------------
// NetworkPolicy.

function analysePolicy(
  evidence: Evidence,
  input: DiagnosisInput,
  kind: DestinationKind,
  source: SourceAnalysis,
  backends: Backend[],
  attempts: ServiceAttempt[],
  vantages: Vantage[],
  namespaceObject: (name: string) => V1Namespace | undefined,
  options: DiagnosisOptions,
): PolicyAnalysis {
  const protocol = input.spec.protocol;
  const none = { flows: [], denied: [], policies: 0 };
  if (protocol === 'DNS') return { ...none, applicable: false, notApplicable: 'a DNS check: only the DNS egress rules apply (see DNSResolved)' };
  const policies = fetchedValue(evidence.networkPolicies);
  if (!policies) return { ...none, applicable: true, error: fetchedError(evidence.networkPolicies) };
  if (!source.endpoint) return { ...none, applicable: false, notApplicable: 'the source is not known' };
  const l4: L4Protocol = protocol === 'UDP' ? 'UDP' : protocol === 'ICMP' ? ('ICMP' as L4Protocol) : 'TCP';
  const context = { policies, namespaces: fetchedValue(evidence.namespaces) ?? [], options: { ipBlockMatchesPodIPs: options.ipBlockMatchesPodIPs } };
  const flows: PolicyFlow[] = [];
  if (kind === 'host') {
    const ips = uniq(
      vantages.flatMap((vantage) => [
        isConnectResult(vantage.result.connect) ? vantage.result.connect.ip : undefined,
        isIcmpResult(vantage.result.icmp) ? vantage.result.icmp.ip : undefined,
        ...(vantage.result.dns?.answers.slice(0, 1) ?? []),
      ]).filter((ip): ip is string => Boolean(ip)),
    );
    const port = attempts[0]?.connect?.port ?? (typeof defaultPort(input.spec) === 'number' ? (defaultPort(input.spec) as number) : 0);
    for (const ip of ips.slice(0, 4)) {
      const destination = externalEndpoint(ip, input.spec.destination.host);
      flows.push({ target: hostPort(ip, port), verdict: evaluateFlow({ source: source.endpoint, destination, port, protocol: l4 }, context) });
    }
  } else {
    const candidates = backends.filter((backend) => backend.ip && (protocol === 'ICMP' || backend.port !== undefined));
    const ready = candidates.filter((backend) => backend.ready);
    for (const backend of (ready.length > 0 ? ready : candidates).slice(0, 16)) {
      const port = protocol === 'ICMP' ? 0 : (backend.port as number);
      const destination = podEndpoint(backend.pod, namespaceObject(backend.pod.metadata?.namespace ?? 'default'));
      flows.push({ target: protocol === 'ICMP' ? (backend.ip as string) : hostPort(backend.ip as string, port), backend, verdict: evaluateFlow({ source: source.endpoint, destination, port, protocol: l4 }, context) });
    }
  }
  return { applicable: true, flows, denied: flows.filter((flow) => !flow.verdict.allowed), policies: policies.length };
}

/** The policies whose default-deny blocks the given flows, named. */
export function denyingPolicies(flows: readonly PolicyFlow[]): PolicyRef[] {
  const refs = flows.flatMap((flow) => [...(flow.verdict.egress.allowed ? [] : flow.verdict.egress.defaultDenyPolicies), ...(flow.verdict.ingress.allowed ? [] : flow.verdict.ingress.defaultDenyPolicies)]);
  return [...new Map(refs.map((ref) => [`${ref.namespace}/${ref.name}`, ref])).values()];
}

// ---------------------------------------------------------------------------------------------------
// Nodes.

function analyseNodes(
  evidence: Evidence,
  probes: NodeAnalysis['probes'],
  nodes: V1Node[],
  source: SourceAnalysis,
  backends: Backend[],
  outcomes: PodOutcome[],
  service: V1Service | undefined,
  options: DiagnosisOptions,
): NodeAnalysis {
  const involved = uniq(
    [source.node, ...source.pods.map((pod) => pod.spec?.nodeName), ...backends.map((backend) => backend.node), ...outcomes.map((outcome) => outcome.node), ...outcomes.map((outcome) => outcome.vantage.node), ...probes.map((probe) => probe.node)].filter(
      (name): name is string => Boolean(name),
    ),
  ).sort();
  const ratio = options.conntrackFullRatio ?? DEFAULT_CONNTRACK_FULL_RATIO;
  const ipForwardOff: NodeIssue[] = [];
  const bridgeNetfilterOff: NodeIssue[] = [];
  const conntrackFull: NodeIssue[] = [];
  const serviceRulesMissing: NodeIssue[] = [];
  const notes: string[] = [];
  const clusterIP = service?.spec?.clusterIP && service.spec.clusterIP !== 'None' ? service.spec.clusterIP : undefined;
  for (const probe of probes) {
    const node = probe.node ?? 'the source node';
    const result = probe.result;
    if (result.ipForward === 0) ipForwardOff.push({ node, text: `net.ipv4.ip_forward=0 on node ${node}` });
    if (result.bridgeNfCallIptables === 0) bridgeNetfilterOff.push({ node, text: `net.bridge.bridge-nf-call-iptables=0 on node ${node}` });
    if (result.conntrackCount !== null && result.conntrackMax) {
      if (result.conntrackCount >= result.conntrackMax * ratio) {
        conntrackFull.push({ node, text: `conntrack table on node ${node} holds ${result.conntrackCount} of ${result.conntrackMax} entries` });
      }
    }
    if (result.svc && clusterIP && result.svc.ip === clusterIP) {
      if (result.svc.rules === 0) {
        serviceRulesMissing.push({ node, text: `no KUBE-SERVICES rule for ${clusterIP} on node ${node} (proxy mode ${result.proxyMode})` });
      } else {
        notes.push(`node ${node}: ${plural(result.svc.rules, 'rule')} for ${clusterIP} (${plural(result.svc.endpoints, 'endpoint')} in ${listText(result.svc.chains, 2)}${result.svc.rejectRules > 0 ? `, ${plural(result.svc.rejectRules, 'REJECT rule')}: kube-proxy thinks it has no endpoints` : ''}), proxy mode ${result.proxyMode}`);
      }
    } else if (result.proxyMode === 'none' && clusterIP) {
      serviceRulesMissing.push({ node, text: `no kube-proxy rules at all on node ${node} (no iptables KUBE-SERVICES chain, no IPVS, no nftables table)` });
    }
    if (result.err) notes.push(`node ${node} inspection: ${result.err}`);
  }
  const notReady: NodeIssue[] = [];
  for (const name of involved) {
    const node = nodes.find((candidate) => candidate.metadata?.name === name);
    const ready = nodeCondition(node, 'Ready');
    if (node && ready !== 'True') {
      const message = node.status?.conditions?.find((c) => c.type === 'Ready')?.message;
      notReady.push({ node: name, text: `node ${name} is not Ready (Ready=${ready ?? 'missing'}${message ? `: ${message}` : ''})` });
    }
  }

  const proxyList = evidence.agentPods.find((entry) => entry.selector.includes(KUBE_PROXY_LABEL.value));
  const proxyPods = (fetchedValue(proxyList?.pods) ?? []).filter((pod) => pod.metadata?.labels?.[KUBE_PROXY_LABEL.key] === KUBE_PROXY_LABEL.value);
  const byNode = new Map<string, V1Pod[]>();
  for (const pod of proxyPods) {
    const node = pod.spec?.nodeName;
    if (node) byNode.set(node, [...(byNode.get(node) ?? []), pod]);
  }
  return {
    probes,
    involvedNodes: involved,
    nodesError: fetchedError(evidence.nodes),
    ipForwardOff,
    bridgeNetfilterOff,
    conntrackFull,
    notReady,
    serviceRulesMissing,
    kubeProxy: { error: fetchedError(proxyList?.pods) ?? (proxyList ? undefined : 'kube-proxy pods were not read'), byNode, anyFound: proxyPods.length > 0 },
    notes,
  };
}

/** What the API says about kube-proxy on a node, hedged: it may run outside Kubernetes. */
export function kubeProxyText(analysis: NodeAnalysis, node: string | undefined): string | undefined {
  if (!node) return undefined;
  if (analysis.kubeProxy.error) return `kube-proxy pods could not be read (${analysis.kubeProxy.error})`;
  const pods = analysis.kubeProxy.byNode.get(node) ?? [];
  if (pods.length === 0) {
    return analysis.kubeProxy.anyFound
      ? `no kube-proxy pod on node ${node}, although other nodes run one`
      : `no kube-proxy pod found on node ${node} (it may run outside Kubernetes)`;
  }
  const pod = pods[0];
  return isPodReady(pod) ? `kube-proxy pod ${pod.metadata?.name} is Running on node ${node}` : `kube-proxy pod ${pod.metadata?.name} on node ${node} is ${podStateText(pod)}`;
}

/** kube-proxy is positively missing or broken on the node (absent while other nodes have one, or not ready). */
export function kubeProxyBroken(analysis: NodeAnalysis, node: string | undefined): boolean {
  if (!node || analysis.kubeProxy.error) return false;
  const pods = analysis.kubeProxy.byNode.get(node) ?? [];
  return pods.length === 0 ? analysis.kubeProxy.anyFound : !pods.some(isPodReady);
}

// ---------------------------------------------------------------------------------------------------
// CNI.

function analyseCni(evidence: Evidence, nodes: V1Node[], involved: string[], outcomes: PodOutcome[]): CniAnalysis {
  const errors: string[] = [];
  const detected: string[] = [];
  const agentProblems: NodeIssue[] = [];
  for (const entry of evidence.agentPods) {
    if (!entry.pods.ok) errors.push(entry.pods.error);
  }
  const allPods = evidence.agentPods.flatMap((entry) => fetchedValue(entry.pods) ?? []);
  for (const agent of CNI_AGENTS) {
    const pods = allPods.filter((pod) => pod.metadata?.labels?.[agent.key] === agent.value);
    if (pods.length === 0) continue;
    detected.push(agent.name);
    for (const node of involved) {
      const onNode = pods.filter((pod) => pod.spec?.nodeName === node);
      if (onNode.length === 0) agentProblems.push({ node, text: `no ${agent.name} agent pod on node ${node} (other nodes run one)` });
      else if (!onNode.some(isPodReady)) agentProblems.push({ node, text: `${agent.name} agent ${onNode[0].metadata?.name} on node ${node} is ${podStateText(onNode[0])}` });
    }
  }
  const networkUnavailable: NodeIssue[] = [];
  const overlayAddressMismatch: NodeIssue[] = [];
  for (const name of involved) {
    const node = nodes.find((candidate) => candidate.metadata?.name === name);
    if (!node) continue;
    const unavailable = node.status?.conditions?.find((c) => c.type === 'NetworkUnavailable');
    if (unavailable?.status === 'True') networkUnavailable.push({ node: name, text: `node ${name} has NetworkUnavailable=True${unavailable.reason ? ` (${unavailable.reason})` : ''}` });
    const internalIP = nodeInternalIP(node);
    for (const annotation of OVERLAY_ADDRESS_ANNOTATIONS) {
      const value = node.metadata?.annotations?.[annotation];
      if (!value || !internalIP) continue;
      const address = value.split('/')[0];
      if (address !== internalIP) {
        overlayAddressMismatch.push({ node: name, text: `node ${name} encapsulates overlay traffic from ${address} (${annotation}) but its InternalIP is ${internalIP}` });
      }
    }
  }
  const failed = (outcome: PodOutcome) => outcome.status === 'timeout' || outcome.status === 'unreachable';
  const sameNodeOk = outcomes.filter((o) => o.sameNode === true && o.status === 'ok');
  const sameNodeFailed = outcomes.filter((o) => o.sameNode === true && failed(o));
  const crossNodeOk = outcomes.filter((o) => o.sameNode === false && o.status === 'ok');
  const crossNodeFailed = outcomes.filter((o) => o.sameNode === false && failed(o));
  return {
    agentsError: errors.length > 0 ? errors.join('; ') : undefined,
    detected,
    agentProblems,
    networkUnavailable,
    overlayAddressMismatch,
    sameNodeOk,
    sameNodeFailed,
    crossNodeOk,
    crossNodeFailed,
    overlaySuspect: sameNodeOk.length > 0 && sameNodeFailed.length === 0 && crossNodeFailed.length > 0,
  };
}

// ---------------------------------------------------------------------------------------------------
// North-south.

function analyseNorthSouth(evidence: Evidence, kind: DestinationKind, service: V1Service | undefined, host: string | undefined): NorthSouthAnalysis {
  const ingresses = fetchedValue(evidence.ingresses) ?? [];
  const names = ingresses.map((ingress) => `${ingress.metadata?.namespace}/${ingress.metadata?.name}`);
  let controllers: NorthSouthAnalysis['controllers'];
  if (evidence.ingressControllerPods) {
    const pods = fetchedValue(evidence.ingressControllerPods.pods) ?? [];
    controllers = {
      error: fetchedError(evidence.ingressControllerPods.pods),
      total: pods.length,
      ready: pods.filter(isPodReady).length,
      names: pods.map((pod) => `${podRef(pod)} ${podStateText(pod)}`),
    };
  }
  let loadBalancer: NorthSouthAnalysis['loadBalancer'];
  if (kind === 'service' && service?.spec?.type === 'LoadBalancer') {
    const addresses = (service.status?.loadBalancer?.ingress ?? []).map((entry) => entry.ip ?? entry.hostname ?? '').filter(Boolean);
    loadBalancer = { pending: addresses.length === 0, addresses };
  }
  return {
    ...(loadBalancer ? { loadBalancer } : {}),
    ingresses: names,
    ingressesError: fetchedError(evidence.ingresses),
    ...(controllers ? { controllers } : {}),
    ...(host ? { external: { host, viaIngress: kind === 'host' && names.length > 0, internal: isClusterName(host) } } : {}),
  };
}

/** A name only the cluster DNS serves: a Service or pod name, never an address outside the cluster. */
export function isClusterName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return /(^|\.)svc(\.cluster\.local)?$/.test(name) || name.endsWith('.cluster.local') || /\.pod(\.cluster\.local)?$/.test(name);
}

/** Why the ingress controllers cannot serve, or undefined when some controller pod is ready. */
export function ingressControllersDown(northSouth: NorthSouthAnalysis): string | undefined {
  const controllers = northSouth.controllers;
  if (!controllers || controllers.error || northSouth.ingresses.length === 0) return undefined;
  if (controllers.total === 0) return 'no ingress controller pods were found (by app.kubernetes.io/name; the controller may run outside Kubernetes or use other labels)';
  if (controllers.ready === 0) return `none of the ${plural(controllers.total, 'ingress controller pod')} is ready (${listText(controllers.names, 3)})`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Conditions.

type AnalysisBase = Omit<Analysis, 'findings'>;

function finding(layer: LayerName, status: LayerFinding['status'], reason: string, message: string): LayerFinding {
  return { layer, status, reason, message: clip(message) };
}

function layerFindings(a: AnalysisBase): LayerFinding[] {
  return LADDER.map((layer) => {
    switch (layer) {
      case Layer.Source:
        return sourceFinding(a);
      case Layer.DNS:
        return dnsFinding(a);
      case Layer.Endpoints:
        return endpointsFinding(a);
      case Layer.Service:
        return serviceFinding(a);
      case Layer.PodIP:
        return podFinding(a);
      case Layer.NetworkPolicy:
        return policyFinding(a);
      case Layer.Node:
        return nodeFinding(a);
      case Layer.CNI:
        return cniFinding(a);
      case Layer.MTU:
        return mtuFinding(a);
      case Layer.NorthSouth:
        return northSouthFinding(a);
    }
  });
}

function sourceFinding(a: AnalysisBase): LayerFinding {
  const { source } = a;
  const where = (vantages: Vantage[]) => listText(uniq(vantages.map((v) => v.node).filter((n): n is string => Boolean(n))).map((n) => `node ${n}`));
  if (source.kind === 'node') {
    const ready = nodeCondition(source.nodeObject, 'Ready');
    if (source.nodeObject && ready !== 'True') return finding(Layer.Source, 'False', Cause.NodeNotReady, `Source node ${source.node} is not Ready (Ready=${ready ?? 'missing'}).`);
    return finding(Layer.Source, source.nodeObject ? 'True' : 'Unknown', source.nodeObject ? LayerReason.SourceNodeReady : LayerReason.EvidenceUnavailable, source.nodeObject ? `Source node ${source.node} is Ready; the probe ran in its host network.` : `Source node ${source.node} could not be read (${a.node.nodesError ?? 'not found'}).`);
  }
  if (source.kind === 'newPod') {
    return finding(Layer.Source, 'True', LayerReason.NewProbePod, `A new probe pod with labels ${formatLabels(source.newPodLabels)} ran in namespace ${a.namespace}${a.vantages.length ? ` on ${where(a.vantages)}` : ''}.`);
  }
  if (source.deleted.length > 0 && source.pods.length === 0) return finding(Layer.Source, 'False', Cause.SourceNotReady, `Source pod ${a.namespace}/${listText(source.deleted)} was deleted during the run.`);
  if (source.pods.length > 0 && source.notRunning.length === source.pods.length) {
    return finding(Layer.Source, 'False', Cause.SourceNotReady, `Source pod ${listText(source.notRunning.map((pod) => `${podRef(pod)} is ${podStateText(pod)}`))}; a probe needs a Running source.`);
  }
  if (source.pods.length === 0) return finding(Layer.Source, 'Unknown', LayerReason.EvidenceUnavailable, `No source pod is known${source.evidenceError ? ` (${source.evidenceError})` : ''}.`);
  const running = source.pods.filter((pod) => pod.status?.phase === 'Running');
  const ips = running.map((pod) => `${podRef(pod)} (${pod.status?.podIP ?? 'no IP'}${pod.spec?.nodeName ? ` on node ${pod.spec.nodeName}` : ''}, dnsPolicy ${pod.spec?.dnsPolicy ?? 'ClusterFirst'})`);
  const stale = source.evidenceError ? ` (could not re-read it: ${source.evidenceError}; it was Running when the run started)` : '';
  return finding(Layer.Source, 'True', LayerReason.SourcePodRunning, `Source ${running.length === 1 ? 'pod' : 'pods'} ${listText(ips)} Running${stale}.`);
}

function describeLookup(lookup: DnsLookup): string {
  const { dns, vantage } = lookup;
  const via = dns.server ? ` from ${dns.server}` : '';
  const queries = `${plural(dns.queries, 'query', 'queries')}, ${dns.ms} ms`;
  if (dns.status === 'ok') return `${dns.name} resolved to ${listText(dns.answers, 3)}${via} (${queries}${dns.qname && dns.qname !== `${dns.name}.` ? `, as ${dns.qname}` : ''}) from ${vantage.label}`;
  const tries = dns.tries.map((t) => `${t.qname} ${t.result}`).slice(0, 4);
  return `lookup of ${dns.name} from ${vantage.label}: ${dns.status.toUpperCase()}${via} after ${queries}${tries.length ? ` (${tries.join(', ')})` : ''}${dns.err ? `: ${dns.err}` : ''}`;
}

function dnsServersText(servers: DnsServers | undefined): string {
  if (!servers) return '';
  if (servers.error) return ` DNS servers: ${servers.error}.`;
  return ` DNS servers: ${servers.podsReady}/${servers.podsTotal} DNS pods ready, kube-dns${servers.serviceIP ? ` ${servers.serviceIP}` : ''} has ${plural(servers.endpointsReady, 'ready endpoint')}${servers.endpointsNotReady ? ` and ${servers.endpointsNotReady} not ready` : ''}.`;
}

function dnsFinding(a: AnalysisBase): LayerFinding {
  const { dns } = a;
  if (!dns.applicable) {
    const why = a.kind === 'host' ? `the destination ${a.input.spec.destination.host} is an IP address` : a.kind === 'pod' ? 'the destination is a pod, reached by its IP' : 'the probe did not look the name up';
    return finding(Layer.DNS, 'Unknown', LayerReason.NotApplicable, `No DNS lookup: ${why}.`);
  }
  const resolv = dns.lookups[0]?.resolv;
  const resolvText = resolv ? ` resolv.conf: nameserver ${listText(resolv.ns)}, ${plural(resolv.search.length, 'search domain')}, ndots:${resolv.ndots}.` : '';
  if (dns.failed) {
    const status = dns.failed.dns.status;
    const reason =
      status === 'nxdomain' ? Cause.NameNotFound : status === 'nodata' ? Cause.DNSNoAddress : status === 'servfail' || status === 'refused' ? Cause.DNSServerFailure : dns.egress && !dns.egress.allowed && dns.egress.status !== 'Unknown' ? Cause.DNSEgressBlockedByPolicy : dns.servers?.unavailable ? Cause.DNSServerUnavailable : Cause.DNSTimeout;
    const policyText = dns.egress && !dns.egress.allowed && dns.egress.status !== 'Unknown' ? ` ${dns.egress.message}` : '';
    return finding(Layer.DNS, 'False', reason, `The ${describeLookup(dns.failed)}.${resolvText}${dnsServersText(dns.servers)}${policyText}`);
  }
  const lookup = dns.lookups[0];
  const slow = dns.lookups.find((l) => l.dns.ms >= (a.options.slowDnsMs ?? DEFAULT_SLOW_DNS_MS));
  if (dns.amplification) {
    const amp = dns.amplification;
    return finding(
      Layer.DNS,
      'True',
      Cause.DNSSearchPathAmplification,
      `${describeLookup(amp)}: ${amp.wasted} of ${amp.dns.queries} queries were wasted on search domains (ndots:${amp.resolv?.ndots}, ${plural(amp.resolv?.search.length ?? 0, 'search domain')}) before the absolute name answered.${dnsServersText(dns.servers)}`,
    );
  }
  const others = dns.lookups.length > 1 ? ` All ${dns.lookups.length} lookups succeeded.` : '';
  return finding(Layer.DNS, 'True', LayerReason.NameResolved, `${describeLookup(lookup)}${slow ? ` (slow: ${slow.dns.ms} ms)` : ''}.${others}${dnsServersText(dns.servers)}`);
}

function addressText(address: SliceAddress): string {
  const details = [address.pod, address.node ? `node ${address.node}` : undefined].filter((detail): detail is string => Boolean(detail));
  return details.length > 0 ? `${address.ip} (${details.join(', ')})` : address.ip;
}

function addressesText(addresses: readonly SliceAddress[]): string {
  return listText(addresses.map(addressText), 4);
}

export function endpointsCause(endpoints: EndpointsAnalysis, destNamespace: string): { reason: string; message: string } | undefined {
  const service = endpoints.service;
  const name = `${destNamespace}/${service?.metadata?.name ?? '?'}`;
  const selector = formatLabels(service?.spec?.selector);
  switch (endpoints.status) {
    case 'selectorMismatch':
      return { reason: Cause.SelectorMismatch, message: `Service ${name}: ${endpoints.selectorReport?.message ?? `selector ${selector} matches no pods`}` };
    case 'noPods':
      return { reason: Cause.NoEndpoints, message: `Service ${name} selector ${selector} matches no pods: namespace ${destNamespace} has no pods it could select` };
    case 'notReady': {
      const notReady = endpoints.backends.filter((backend) => !backend.ready).map((backend) => `${backend.name} ${podStateText(backend.pod)}${backend.node ? ` on node ${backend.node}` : ''}`);
      const sliceText = endpoints.slices ? `its EndpointSlices list 0 ready and ${plural(endpoints.slices.notReady.length, 'not-ready address', 'not-ready addresses')}` : 'no pod is ready';
      return { reason: Cause.EndpointsNotReady, message: `Service ${name} has no ready endpoints: ${plural(endpoints.backends.length, 'pod')} match ${selector} but ${sliceText}${notReady.length ? ` (${listText(notReady, 3)})` : ''}` };
    }
    case 'none':
      return {
        reason: Cause.NoEndpoints,
        message: endpoints.selectorless
          ? `Service ${name} has no selector and no endpoints: its EndpointSlices must be managed by hand and list no ready address`
          : `Service ${name} has no endpoints for port ${endpoints.servicePort?.name || endpoints.servicePort?.port || '?'} although ${plural(endpoints.backends.length, 'pod')} match ${selector}${endpoints.slices?.withoutPort.length ? ` (its EndpointSlices list ${plural(endpoints.slices.withoutPort.length, 'address', 'addresses')} without that port)` : ''}${endpoints.targetPortProblem ? `: ${endpoints.targetPortProblem}` : ''}`,
      };
    default:
      return undefined;
  }
}

function endpointsFinding(a: AnalysisBase): LayerFinding {
  const { endpoints } = a;
  if (!endpoints.applicable) return finding(Layer.Endpoints, 'Unknown', LayerReason.NotApplicable, `Not evaluated: ${endpoints.notApplicable}.`);
  if (endpoints.status === 'unknown') {
    return finding(Layer.Endpoints, 'Unknown', LayerReason.EvidenceUnavailable, `Not evaluated: ${endpoints.serviceError ?? endpoints.backendsError ?? endpoints.slicesError ?? 'the endpoints could not be read'}.`);
  }
  const cause = endpointsCause(endpoints, a.destNamespace);
  if (cause) return finding(Layer.Endpoints, 'False', cause.reason, `${cause.message}.`);
  const ready = endpoints.slices?.ready ?? [];
  const notReady = endpoints.slices?.notReady ?? [];
  const port = endpoints.servicePort ? ` port ${endpoints.servicePort.port} -> targetPort ${endpoints.servicePort.targetPort ?? endpoints.servicePort.port}` : '';
  const name = `${a.destNamespace}/${endpoints.service?.metadata?.name}`;
  const text = endpoints.slices
    ? `Service ${name}${port} has ${plural(ready.length, 'ready endpoint')}: ${addressesText(ready)}`
    : `Service ${name}${port}: ${plural(endpoints.backends.filter((b) => b.ready).length, 'ready pod')} match its selector (EndpointSlices not read: ${endpoints.slicesError})`;
  const partial = notReady.length > 0 ? `; ${plural(notReady.length, 'address', 'addresses')} not ready: ${addressesText(notReady)}` : '';
  const portNote = endpoints.targetPortProblem ? `; note: ${endpoints.targetPortProblem}` : '';
  return finding(Layer.Endpoints, 'True', endpoints.status === 'partial' ? LayerReason.EndpointsPartiallyReady : LayerReason.EndpointsAvailable, `${text}${partial}${portNote}.`);
}

function symptomReason(status: ConnectStatus): string {
  return status === 'refused' ? LayerReason.ConnectionRefused : status === 'timeout' ? LayerReason.ConnectionTimedOut : status === 'unreachable' ? LayerReason.HostUnreachable : LayerReason.ConnectFailed;
}

function attemptText(a: AnalysisBase, attempt: ServiceAttempt): string {
  if (attempt.skipped) return `from ${attempt.vantage.label}: not attempted (${attempt.skipped.err ?? 'no destination address'})`;
  const parts: string[] = [];
  if (attempt.connect) parts.push(`${hostPort(attempt.connect.ip, attempt.connect.port)} ${describeConnect(attempt.connect.status, attempt.connect.ms, attempt.connect.err, a.transport)}`);
  if (attempt.http) parts.push(describeHttp(attempt.http));
  return `from ${attempt.vantage.label}: ${parts.join(', ')}`;
}

function serviceFinding(a: AnalysisBase): LayerFinding {
  const { service } = a;
  if (!service.applicable) return finding(Layer.Service, 'Unknown', LayerReason.NotApplicable, `Not evaluated: ${service.notApplicable}.`);
  if (service.attempts.length === 0) {
    return finding(Layer.Service, 'Unknown', a.protocol === 'DNS' || a.protocol === 'ICMP' ? LayerReason.NotApplicable : LayerReason.NotProbed, a.protocol === 'DNS' ? 'Not evaluated: a DNS check only resolves the name.' : a.protocol === 'ICMP' ? 'Not evaluated: a ping to a ClusterIP tests nothing about the Service (only IPVS answers it).' : 'Not evaluated: the probe did not connect to the ClusterIP.');
  }
  const failed = service.connectFailed[0] ?? service.httpFailed[0];
  if (failed) {
    const reason = failed.connect && failed.connect.status !== 'ok' ? symptomReason(failed.connect.status) : failed.http?.status === 'unexpectedStatus' ? Cause.UnexpectedHTTPStatus : failed.http?.status === 'tlsError' ? Cause.TLSError : Cause.HTTPRequestFailed;
    return finding(Layer.Service, 'False', reason, `ClusterIP ${service.clusterIP} ${attemptText(a, failed)}.`);
  }
  const udpUnconfirmed = service.attempts.find((attempt) => attempt.connect?.status === 'noReply');
  return finding(Layer.Service, 'True', udpUnconfirmed ? HealthyReason.UDPNoReply : LayerReason.ServiceConnected, `ClusterIP ${service.clusterIP} ${service.attempts.map((attempt) => attemptText(a, attempt)).join('; ')}.`);
}

function outcomeText(a: AnalysisBase, outcome: PodOutcome): string {
  const pod = outcome.pod ? `${outcome.pod.metadata?.name} ` : '';
  const node = outcome.node ? `, node ${outcome.node}${outcome.sameNode === true ? ' (same node)' : outcome.sameNode === false ? ' (other node)' : ''}` : '';
  return `${pod}${hostPort(outcome.ip, outcome.port)}${node}: ${describeConnect(outcome.status, outcome.ms, outcome.err, a.transport)}`;
}

function podFinding(a: AnalysisBase): LayerFinding {
  const { pods } = a;
  if (a.kind === 'host' || a.endpoints.serviceKind === 'ExternalName') return finding(Layer.PodIP, 'Unknown', LayerReason.NotApplicable, 'Not evaluated: the destination is outside the cluster.');
  const icmpPods = a.kind === 'pod' && a.protocol === 'ICMP' ? a.icmp : [];
  if (icmpPods.length > 0) {
    const bad = icmpPods.find((entry) => entry.icmp.status !== 'ok');
    const text = icmpPods.map((entry) => `${entry.icmp.ip}: ${entry.icmp.received}/${entry.icmp.sent} replies${entry.icmp.rtt ? `, avg ${entry.icmp.rtt.avg} ms` : ''}${entry.icmp.err ? ` (${entry.icmp.err})` : ''}`).join('; ');
    return finding(Layer.PodIP, bad ? 'False' : 'True', bad ? (bad.icmp.status === 'partialLoss' ? Cause.PacketLoss : bad.icmp.status === 'unreachable' ? LayerReason.HostUnreachable : LayerReason.ConnectionTimedOut) : LayerReason.PodsConnected, `Ping from ${icmpPods[0].vantage.label}: ${text}.`);
  }
  if (pods.outcomes.length === 0) {
    const why =
      a.protocol === 'DNS' ? 'a DNS check does not connect' : a.kind === 'service' && a.endpoints.backends.every((b) => !b.ready) ? 'no ready backend pod to connect to directly' : a.kind === 'service' && a.endpoints.backends.some((b) => b.ready && b.port === undefined) ? 'the targetPort could not be resolved on the backend pods' : 'the probe connected to no pod IP';
    return finding(Layer.PodIP, 'Unknown', LayerReason.NotProbed, `Not evaluated: ${why}.`);
  }
  const ok = pods.outcomes.filter((o) => o.status === 'ok');
  const byVantage = uniq(pods.outcomes.map((o) => o.vantage.label));
  const from = byVantage.length === 1 ? ` from ${byVantage[0]}` : ` from ${byVantage.length} sources`;
  if (pods.failed.length > 0) {
    const allRefused = pods.failed.every((o) => o.status === 'refused');
    // A refusal only blames the port when no policy denies the flow (kube-router REJECTs denied traffic).
    const deniedIPs = new Set(a.policy.denied.map((flow) => flow.backend?.ip));
    const policyRefusal = allRefused && pods.failed.some((o) => deniedIPs.has(o.ip));
    const reason = allRefused && !policyRefusal ? (a.endpoints.targetPortProblem ? Cause.TargetPortMismatch : Cause.PortNotListening) : ok.length > 0 ? LayerReason.SomeEndpointsFailing : symptomReason(pods.failed[0].status);
    return finding(Layer.PodIP, 'False', reason, `${pods.failed.length} of ${pods.outcomes.length} direct pod connections failed${from}: ${listText(pods.failed.map((o) => outcomeText(a, o)), 4)}${ok.length ? `; working: ${listText(ok.map((o) => outcomeText(a, o)), 3)}` : ''}.`);
  }
  const noReply = pods.outcomes.filter((o) => o.status === 'noReply');
  return finding(Layer.PodIP, 'True', noReply.length === pods.outcomes.length ? HealthyReason.UDPNoReply : LayerReason.PodsConnected, `${ok.length} of ${pods.outcomes.length} pod IPs answered directly${from}: ${listText(pods.outcomes.map((o) => outcomeText(a, o)), 4)}.`);
}

function policyFinding(a: AnalysisBase): LayerFinding {
  const { policy, dns } = a;
  const dnsBlocked = dns.egress && !dns.egress.allowed && dns.egress.status !== 'Unknown' ? dns.egress : undefined;
  if (!policy.applicable) {
    if (dnsBlocked) return finding(Layer.NetworkPolicy, 'False', Cause.DNSEgressBlockedByPolicy, dnsBlocked.message);
    const dnsText = dns.egress?.allowed ? ` ${dns.egress.message}` : '';
    return finding(Layer.NetworkPolicy, dns.egress?.allowed ? 'True' : 'Unknown', dns.egress?.allowed ? LayerReason.PolicyAllows : LayerReason.NotApplicable, `${dns.egress?.allowed ? '' : `Not evaluated: ${policy.notApplicable}.`}${dnsText}`.trim());
  }
  if (policy.error) return finding(Layer.NetworkPolicy, 'Unknown', LayerReason.EvidenceUnavailable, `Not evaluated: ${policy.error}.`);
  if (policy.denied.length > 0) {
    const refs = denyingPolicies(policy.denied);
    const first = policy.denied[0].verdict;
    const more = policy.denied.length > 1 ? ` (${policy.denied.length} of ${policy.flows.length} flows denied)` : '';
    return finding(Layer.NetworkPolicy, 'False', Cause.BlockedByNetworkPolicy, `${first.message}${more} Denying: ${formatPolicyRefs(refs)}.${dnsBlocked ? ` ${dnsBlocked.message}` : ''}`);
  }
  if (dnsBlocked) return finding(Layer.NetworkPolicy, 'False', Cause.DNSEgressBlockedByPolicy, dnsBlocked.message);
  if (policy.flows.length === 0) return finding(Layer.NetworkPolicy, 'Unknown', LayerReason.NotProbed, `Not evaluated: no destination pod or address to evaluate (${plural(policy.policies, 'policy', 'policies')} read).`);
  const isolated = policy.flows.some((flow) => flow.verdict.egress.isolated || flow.verdict.ingress.isolated);
  const flowText = policy.flows.length > 1 ? ` (${policy.flows.length} flows evaluated, all allowed)` : '';
  return finding(Layer.NetworkPolicy, 'True', isolated ? LayerReason.PolicyAllows : LayerReason.NotIsolated, `${policy.flows[0].verdict.message}${flowText}${dns.egress?.allowed ? ` ${dns.egress.message}` : ''}`);
}

function nodeFinding(a: AnalysisBase): LayerFinding {
  const { node } = a;
  const sourceNode = a.vantages[0]?.node ?? a.source.node;
  const proxy = a.kind === 'service' && a.service.applicable ? kubeProxyText(node, sourceNode) : undefined;
  const context = [...node.notes, ...(proxy ? [proxy] : [])];
  const contextText = context.length ? ` ${context.join('; ')}.` : '';
  const problems: { reason: string; text: string }[] = [...node.ipForwardOff.map((i) => ({ reason: Cause.IPForwardingDisabled, text: i.text })), ...node.notReady.map((i) => ({ reason: Cause.NodeNotReady, text: i.text })), ...node.conntrackFull.map((i) => ({ reason: Cause.ConntrackTableFull, text: i.text })), ...node.bridgeNetfilterOff.map((i) => ({ reason: Cause.BridgeNetfilterDisabled, text: i.text }))];
  const serviceFailed = a.service.connectFailed.length > 0;
  if (serviceFailed) problems.push(...node.serviceRulesMissing.map((i) => ({ reason: Cause.ServiceProxyMissing, text: i.text })));
  if (problems.length > 0) return finding(Layer.Node, 'False', problems[0].reason, `${problems.map((p) => p.text).join('; ')}.${contextText}`);
  if (node.probes.length === 0) {
    const many = node.involvedNodes.length > 1;
    const nodesText = node.involvedNodes.length ? ` ${many ? 'Nodes' : 'Node'} ${listText(node.involvedNodes)} ${node.nodesError ? `could not be read (${node.nodesError})` : many ? 'are Ready' : 'is Ready'}.` : '';
    return finding(Layer.Node, node.involvedNodes.length && !node.nodesError ? 'True' : 'Unknown', node.involvedNodes.length && !node.nodesError ? LayerReason.NodeHealthy : LayerReason.NotProbed, `No node inspection ran (forwarding and service rules not read).${nodesText}${contextText}`);
  }
  const probeText = node.probes.map((p) => `node ${p.node ?? '?'}: ip_forward=${p.result.ipForward ?? '?'}, bridge-nf-call-iptables=${p.result.bridgeNfCallIptables ?? 'n/a'}, conntrack ${p.result.conntrackCount ?? '?'}/${p.result.conntrackMax ?? '?'}, proxy mode ${p.result.proxyMode}`);
  const rulesNote = !serviceFailed && node.serviceRulesMissing.length ? ` ${node.serviceRulesMissing.map((i) => i.text).join('; ')} (the ClusterIP works, so another service proxy such as eBPF handles it).` : '';
  return finding(Layer.Node, 'True', LayerReason.NodeHealthy, `${probeText.join('; ')}.${contextText}${rulesNote}`);
}

function cniFinding(a: AnalysisBase): LayerFinding {
  const { cni } = a;
  const detected = cni.detected.length ? `CNI agents found: ${cni.detected.join(', ')}.` : cni.agentsError ? `CNI agent pods could not be read (${cni.agentsError}).` : 'No CNI agent pods found by their well-known labels (the CNI may run on the host, e.g. a bridge plugin).';
  const counts = `Same-node pod connections: ${cni.sameNodeOk.length} ok, ${cni.sameNodeFailed.length} failed; cross-node: ${cni.crossNodeOk.length} ok, ${cni.crossNodeFailed.length} failed.`;
  const compared = cni.sameNodeOk.length + cni.sameNodeFailed.length + cni.crossNodeOk.length + cni.crossNodeFailed.length > 0;
  if (cni.agentProblems.length) return finding(Layer.CNI, 'False', Cause.CNIAgentNotReady, `${cni.agentProblems.map((i) => i.text).join('; ')}. ${detected}`);
  if (cni.networkUnavailable.length) return finding(Layer.CNI, 'False', Cause.NodeNetworkUnavailable, `${cni.networkUnavailable.map((i) => i.text).join('; ')}. ${detected}`);
  if (cni.overlaySuspect) {
    const mismatch = cni.overlayAddressMismatch.length ? ` ${cni.overlayAddressMismatch.map((i) => i.text).join('; ')}.` : '';
    const crossText = `${counts} Cross-node: ${listText(cni.crossNodeFailed.map((o) => outcomeText(a, o)), 3)}.`;
    // A node that does not forward explains the same pattern; say so instead of blaming the overlay.
    if (a.node.ipForwardOff.length || a.node.notReady.length) {
      const nodeText = [...a.node.ipForwardOff, ...a.node.notReady].map((i) => i.text).join('; ');
      return finding(Layer.CNI, 'False', LayerReason.CrossNodeFailing, `${crossText} Explained by the node layer: ${nodeText}. ${detected}`);
    }
    const reason = cni.overlayAddressMismatch.length ? Cause.OverlaySourceAddressMismatch : Cause.OverlayBroken;
    return finding(Layer.CNI, 'False', reason, `${crossText}${mismatch} ${detected}`);
  }
  const notes = cni.overlayAddressMismatch.length ? ` Note: ${cni.overlayAddressMismatch.map((i) => i.text).join('; ')}.` : '';
  if (!compared && !cni.detected.length) return finding(Layer.CNI, 'Unknown', cni.agentsError ? LayerReason.EvidenceUnavailable : LayerReason.NotProbed, `${detected} No pod connections to compare by node.${notes}`);
  return finding(Layer.CNI, 'True', LayerReason.CNIAgentsReady, `${detected}${cni.detected.length ? ` Ready on ${listText(a.node.involvedNodes)}.` : ''}${compared ? ` ${counts}` : ''}${notes}`);
}

function mtuFinding(a: AnalysisBase): LayerFinding {
  const { mtu } = a;
  if (mtu.results.length === 0) return finding(Layer.MTU, 'Unknown', LayerReason.NotProbed, `Not measured: ${a.protocol === 'DNS' ? 'a DNS check does not measure the path MTU' : a.protocol === 'ICMP' ? 'an ICMP check does not measure the path MTU' : 'the probe took no path-MTU measurement'}.`);
  if (mtu.broken) {
    const m = mtu.broken.mtu;
    const kindText = m.status === 'blackhole' ? `DF packets above ${m.largestOk} bytes vanish without an ICMP error (a PMTU black hole)` : `routers answer "fragmentation needed" above ${m.largestOk} bytes`;
    return finding(Layer.MTU, 'False', Cause.MTUMismatch, `Path MTU to ${m.ip} from ${mtu.broken.vantage.label} is ${m.path ?? m.largestOk ?? '?'} bytes but ${m.iface ?? 'the interface'} has MTU ${m.local ?? '?'}: ${kindText} (${m.pings} DF pings).`);
  }
  const first = mtu.results[0];
  if (!isMtuResult(first.mtu)) return finding(Layer.MTU, 'Unknown', LayerReason.NotProbed, `Not measured: ${first.mtu.err ?? 'skipped'}.`);
  const m = first.mtu;
  if (m.status === 'ok') return finding(Layer.MTU, 'True', LayerReason.PathMTUOK, `Full-size ${m.local ?? '?'}-byte DF packets reach ${m.ip} via ${m.iface ?? '?'} from ${first.vantage.label} (${m.pings} DF pings).`);
  if (m.status === 'unreachable') return finding(Layer.MTU, 'Unknown', LayerReason.NotMeasurable, `Not measurable: ${m.ip} did not answer a small DF ping (ICMP may be filtered, e.g. by a NetworkPolicy that only allows TCP); local MTU ${m.local ?? '?'} on ${m.iface ?? '?'}.`);
  return finding(Layer.MTU, 'Unknown', LayerReason.NotMeasurable, `Not measurable: ${m.err ?? 'the MTU probe failed'}.`);
}

function northSouthFinding(a: AnalysisBase): LayerFinding {
  const ns = a.northSouth;
  const down = ingressControllersDown(ns);
  const ingressText = ns.ingresses.length ? ` Ingresses: ${listText(ns.ingresses)}${ns.controllers ? `; controller pods ${ns.controllers.ready}/${ns.controllers.total} ready` : ''}.` : '';
  if (ns.external?.internal) {
    return finding(Layer.NorthSouth, 'Unknown', LayerReason.NotApplicable, `Not evaluated: ${ns.external.host} is a cluster name, the traffic stays inside the cluster (spec.destination.service gives the full ladder for a Service).`);
  }
  if (ns.external) {
    if (down) return finding(Layer.NorthSouth, 'False', Cause.IngressControllerUnavailable, `${ns.external.host} is served by Ingress ${listText(ns.ingresses)}, but ${down}.`);
    const attempt = a.service.attempts[0];
    const failed = a.service.connectFailed[0];
    if (!attempt && a.icmp.length === 0) return finding(Layer.NorthSouth, 'Unknown', LayerReason.NotProbed, `The path to ${ns.external.host} was not tested.${ingressText}`);
    if (failed?.skipped) return finding(Layer.NorthSouth, 'Unknown', LayerReason.NotProbed, `The path to ${ns.external.host} was not tested: ${failed.skipped.err ?? 'no destination address'}.${ingressText}`);
    if (failed) {
      const egress = a.policy.denied[0];
      return finding(Layer.NorthSouth, 'False', Cause.EgressBlocked, `Egress to ${ns.external.host} ${attemptText(a, failed)}.${egress ? ` ${egress.verdict.message}` : ''}${ingressText}`);
    }
    return finding(Layer.NorthSouth, 'True', LayerReason.ExternalPathReady, `Egress to ${ns.external.host} works: ${attempt ? attemptText(a, attempt) : `ping ${a.icmp[0]?.icmp.status}`}.${ingressText}`);
  }
  if (ns.loadBalancer?.pending) {
    return finding(Layer.NorthSouth, 'False', Cause.LoadBalancerPending, `LoadBalancer Service ${a.destNamespace}/${a.endpoints.service?.metadata?.name} has no external address yet (status.loadBalancer is empty): no load-balancer controller has provisioned it.${ingressText}`);
  }
  if (down) return finding(Layer.NorthSouth, 'False', Cause.IngressControllerUnavailable, `Ingress ${listText(ns.ingresses)} routes to this Service, but ${down}.`);
  if (ns.loadBalancer || ns.ingresses.length) {
    return finding(Layer.NorthSouth, 'True', LayerReason.ExternalPathReady, `${ns.loadBalancer ? `LoadBalancer address ${listText(ns.loadBalancer.addresses)}.` : ''}${ingressText}`.trim());
  }
  const why = ns.ingressesError ? `Ingresses could not be read (${ns.ingressesError})` : a.kind === 'service' ? 'the Service is not a LoadBalancer and no Ingress routes to it' : 'the destination is inside the cluster';
  return finding(Layer.NorthSouth, 'Unknown', ns.ingressesError ? LayerReason.EvidenceUnavailable : LayerReason.NotApplicable, `Not evaluated: ${why}.`);
}

/** Conditions for the findings (observedGeneration from the check). */
export function findingsToConditions(findings: readonly LayerFinding[], generation: number): DesiredCondition[] {
  return findings.map((f) => condition(LayerCondition[f.layer], f.status, f.reason, f.message, generation));
}
