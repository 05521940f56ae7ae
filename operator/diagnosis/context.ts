// The shared setup of a diagnosis: what every layer reads, normalised once from the API evidence
// (evidence.ts) and the probe outputs (operator/probe/result.ts). Who the source is and where its
// probes ran, what the destination is (the Service, its port, the pods behind it and their
// EndpointSlice addresses), and the probe sections sorted by what they tested: lookups, attempts on
// the destination address, direct pod connections, pings, MTU measurements, node inspections.
//
// Pure: no API calls, no clock.
import type { V1EndpointSlice, V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { DEFAULT_PROBE_IMAGE, defaultPort } from '../api/defaults.ts';
import { containerPortByName, resolveServicePort } from '../probe/env.ts';
import type { ConnectStatus, EndpointResult } from '../probe/result.ts';
import type { ProbeOutput } from '../probe/stage.ts';
import { listText, uniq } from '../util/text.ts';
import type {
  Backend,
  Context,
  DestinationFacts,
  DestinationKind,
  DiagnosisOptions,
  DnsLookup,
  IcmpOutcome,
  MtuOutcome,
  NodeProbe,
  PodHttpFailure,
  PodOutcome,
  ReproContext,
  ServiceAttempt,
  ServiceKind,
  SliceAddress,
  SliceAddresses,
  SourceAnalysis,
  SourceKind,
  Transport,
  Vantage,
} from './analysis.ts';
import { probeResultOf, type Evidence } from './evidence.ts';
import { formatLabels } from './labels.ts';
import { externalEndpoint, podEndpoint, type FlowEndpoint } from './netpol/model.ts';
import { fetchedError, fetchedValue, isConnectResult, isIcmpResult, isPodReady, nodeInternalIP, podIPs } from './objects.ts';
import { podRef } from './text.ts';
import type { DiagnosisInput } from './verdict.ts';

/** Probe sections whose absence leaves the path untested: the probe failed, not the network. */
const DECISIVE_SECTIONS = new Set(['dns', 'connect', 'http', 'icmp', 'endpoints']);

type RawVantage = Omit<Vantage, 'label' | 'sourcePod'>;

interface ProbeOutputs {
  readonly vantages: RawVantage[];
  readonly nodeProbes: NodeProbe[];
  readonly problem?: string;
  readonly notes: string[];
}

export function buildContext(evidence: Evidence, input: DiagnosisInput, options: DiagnosisOptions = {}): Context {
  const { check, spec } = input;
  const namespace = check.metadata?.namespace ?? 'default';
  const destNamespace = spec.destination.namespace ?? namespace;
  const kind: DestinationKind = spec.destination.service ? 'service' : spec.destination.host ? 'host' : 'pod';
  const transport: Transport = spec.protocol === 'UDP' ? 'UDP' : 'TCP';
  const port = defaultPort(spec);
  const outputs = readOutputs(input.outputs);
  const namespaces = fetchedValue(evidence.namespaces) ?? [];
  const namespaceObject = (name: string) => namespaces.find((ns) => ns.metadata?.name === name);
  const nodes = fetchedValue(evidence.nodes) ?? [];
  const source = sourceOf(evidence, input, outputs, namespaceObject);
  const vantages = outputs.vantages.map((vantage) => labelled(vantage, source));
  const dest = destinationOf(evidence, input, kind, transport, port);
  const sections = probeSections(vantages, dest, kind);
  return {
    input,
    evidence,
    options,
    generation: check.metadata?.generation ?? 0,
    namespace,
    destNamespace,
    kind,
    protocol: spec.protocol,
    transport,
    expect: spec.expect,
    port,
    destinationText: destinationText(input, kind, destNamespace, port),
    probeProblem: outputs.problem,
    probeNotes: outputs.notes,
    nodes,
    namespaceObject,
    source,
    vantages,
    nodeProbes: outputs.nodeProbes,
    dest,
    ...sections,
    involvedNodes: involvedNodes(source, dest.backends, sections.podOutcomes, outputs.nodeProbes),
    repro: reproContext(input, source, vantages, options),
  };
}

function destinationText(input: DiagnosisInput, kind: DestinationKind, destNamespace: string, port: number | string | undefined): string {
  const destination = input.spec.destination;
  const suffix = port !== undefined ? `:${port}` : '';
  if (kind === 'service') return `svc ${destNamespace}/${destination.service}${suffix}`;
  if (kind === 'host') return `${destination.host}${suffix}`;
  const pods = destination.pod
    ? `pod ${destNamespace}/${destination.pod}`
    : `pods ${formatLabels(destination.podSelector?.matchLabels)} in ${destNamespace}`;
  return `${pods}${suffix}`;
}

// ---------------------------------------------------------------------------------------------------
// Probe outputs: which probe pods tested the path, which inspected a node, and which failed.

function readOutputs(outputs: readonly ProbeOutput[]): ProbeOutputs {
  const vantages: RawVantage[] = [];
  const nodeProbes: NodeProbe[] = [];
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
      const unfinished = error.code === 'ProbeFailed' || error.code === 'ProbeTimeout' || error.code === 'ToolMissing';
      if (unfinished && error.probe && DECISIVE_SECTIONS.has(error.probe) && sectionMissing) {
        problems.push(`probe pod ${output.pod}: the ${error.probe} probe did not finish (${error.code}: ${error.msg})`);
      } else {
        notes.push(
          `probe pod ${output.pod}: ${error.code}${error.param ? ` ${error.param}` : ''}${error.probe ? ` (${error.probe})` : ''}: ${error.msg}`,
        );
      }
    }
    if (result.node) nodeProbes.push({ node: output.node, probePod: output.pod, result: result.node });
    if (result.proto !== null) vantages.push({ probePod: output.pod, node: output.node, result });
  }
  if (problems.length === 0 && vantages.length === 0) problems.push('no probe pod tested the path (only node inspection ran)');
  return { vantages, nodeProbes, problem: problems.length > 0 ? listText(problems, 3) : undefined, notes };
}

// ---------------------------------------------------------------------------------------------------
// The source.

function sourceOf(evidence: Evidence, input: DiagnosisInput, outputs: ProbeOutputs, namespaceObject: Context['namespaceObject']): SourceAnalysis {
  const { spec, targets } = input;
  const kind: SourceKind = spec.source.node ? 'node' : spec.source.newPod ? 'newPod' : 'pod';
  const fresh = fetchedValue(evidence.sourcePods);
  const pods = fresh ?? targets.sourcePods;
  const deleted = fresh
    ? targets.sourcePods.map((pod) => pod.metadata?.name ?? '').filter((name) => !fresh.some((pod) => pod.metadata?.name === name))
    : [];
  const node = targets.sourceNode ?? spec.source.node;
  const nodeObject = node ? (fetchedValue(evidence.nodes) ?? []).find((candidate) => candidate.metadata?.name === node) : undefined;
  return {
    kind,
    pods,
    deleted,
    notRunning: pods.filter((pod) => pod.status?.phase !== 'Running'),
    node,
    nodeObject,
    evidenceError: fetchedError(evidence.sourcePods),
    endpoint: sourceEndpoint(input, kind, pods, outputs, namespaceObject, nodeInternalIP(nodeObject)),
    newPodLabels: spec.source.newPod?.labels,
  };
}

/** The endpoint NetworkPolicy is evaluated for: the source pod, a pod with the new pod's labels, or the node. */
function sourceEndpoint(
  input: DiagnosisInput,
  kind: SourceKind,
  pods: V1Pod[],
  outputs: ProbeOutputs,
  namespaceObject: Context['namespaceObject'],
  nodeIP: string | undefined,
): FlowEndpoint | undefined {
  const namespace = input.check.metadata?.namespace ?? 'default';
  const node = input.targets.sourceNode ?? input.spec.source.node;
  if (kind === 'pod' && pods[0]) return podEndpoint(pods[0], namespaceObject(namespace));
  if (kind === 'newPod') {
    const labels = { ...(input.spec.source.newPod?.labels ?? {}) };
    const synthetic: V1Pod = { metadata: { name: outputs.vantages[0]?.probePod ?? 'netcheck-probe', namespace, labels } };
    return podEndpoint(synthetic, namespaceObject(namespace), '');
  }
  if (kind === 'node' && node) return externalEndpoint(nodeIP ?? '', `node ${node}`);
  return undefined;
}

function labelled(vantage: RawVantage, source: SourceAnalysis): Vantage {
  const pods = source.pods;
  const sourcePod = source.kind === 'pod' ? (pods.find((pod) => pod.spec?.nodeName && pod.spec.nodeName === vantage.node) ?? pods[0]) : undefined;
  const where = vantage.node ? ` on node ${vantage.node}` : '';
  const label =
    source.kind === 'node'
      ? `node ${vantage.node ?? source.node}`
      : source.kind === 'newPod'
        ? `a new pod${where}`
        : `pod ${sourcePod ? podRef(sourcePod) : vantage.probePod}${where}`;
  return { ...vantage, sourcePod, label };
}

// ---------------------------------------------------------------------------------------------------
// The destination: the Service, the pods behind it, their EndpointSlice addresses.

function destinationOf(
  evidence: Evidence,
  input: DiagnosisInput,
  kind: DestinationKind,
  transport: Transport,
  port: number | string | undefined,
): DestinationFacts {
  const read = evidence.service;
  const service = kind === 'service' ? (read?.ok ? (read.value ?? undefined) : input.targets.destinationService) : undefined;
  const resolved = service ? resolveServicePort(service, port) : undefined;
  const servicePort = resolved?.servicePort;
  const pods = fetchedValue(evidence.backendPods) ?? input.targets.destinationPods;
  const backends = pods.map((pod) => backendOf(pod, kind, servicePort, transport, port));
  return {
    service,
    serviceGone: kind === 'service' && read?.ok === true && read.value === null,
    serviceKind: serviceKindOf(service),
    servicePort,
    portError: resolved?.error,
    backends,
    slices: sliceAddresses(fetchedValue(evidence.endpointSlices), servicePort),
  };
}

function serviceKindOf(service: V1Service | undefined): ServiceKind | undefined {
  if (!service) return undefined;
  if (service.spec?.type === 'ExternalName') return 'ExternalName';
  return service.spec?.clusterIP === 'None' ? 'Headless' : 'ClusterIP';
}

function backendOf(
  pod: V1Pod,
  kind: DestinationKind,
  servicePort: V1ServicePort | undefined,
  transport: Transport,
  port: number | string | undefined,
): Backend {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  const protocol = servicePort?.protocol ?? transport;
  const declares = (number: number) =>
    containers.some((c) => (c.ports ?? []).some((p) => p.containerPort === number && (p.protocol ?? 'TCP') === protocol));
  // The Service's targetPort for a Service, the destination port for a pod.
  const target = kind === 'service' ? (servicePort ? (servicePort.targetPort ?? servicePort.port) : undefined) : kind === 'pod' ? port : undefined;
  let resolved: number | undefined;
  let declared = false;
  // A Service's targetPort may be a number written as a string; a pod destination's string port is a name.
  if (typeof target === 'number' || (kind === 'service' && typeof target === 'string' && /^\d+$/.test(target))) {
    resolved = Number(target);
    declared = declares(resolved);
  } else if (typeof target === 'string') {
    resolved = containerPortByName(pod, target);
    declared = resolved !== undefined;
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
}

function sliceAddresses(slices: V1EndpointSlice[] | undefined, servicePort: V1ServicePort | undefined): SliceAddresses | undefined {
  if (!slices) return undefined;
  const addresses: SliceAddress[] = slices.flatMap((slice) =>
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
  const unique = [...new Map(addresses.map((address) => [address.ip, address])).values()];
  // kube-proxy pairs a Service port with the slice port of the SAME NAME: addresses published in
  // slices without that port (a named targetPort no pod declares) serve nothing on it.
  const wanted = servicePort?.name ?? '';
  const serving = slices.filter((slice) => !servicePort || (slice.ports ?? []).some((p) => (p.name ?? '') === wanted));
  const servingIPs = new Set(serving.flatMap((slice) => (slice.endpoints ?? []).flatMap((endpoint) => endpoint.addresses)));
  const servingAddresses = unique.filter((address) => servingIPs.has(address.ip));
  return {
    ready: servingAddresses.filter((a) => a.ready),
    notReady: servingAddresses.filter((a) => !a.ready),
    withoutPort: unique.filter((address) => !servingIPs.has(address.ip)),
  };
}

// ---------------------------------------------------------------------------------------------------
// Probe sections, sorted by what they tested.

type Sections = Pick<Context, 'lookups' | 'attempts' | 'podOutcomes' | 'podHttpFailed' | 'icmp' | 'mtuResults'>;

function probeSections(vantages: Vantage[], dest: DestinationFacts, kind: DestinationKind): Sections {
  const sections = { lookups: [] as DnsLookup[], attempts: [] as ServiceAttempt[], podOutcomes: [] as PodOutcome[] };
  const icmp: IcmpOutcome[] = [];
  const mtuResults: MtuOutcome[] = [];
  // Pod destinations and headless Services: the connect section is a connection to a pod.
  const connectIsPod = kind === 'pod' || dest.serviceKind === 'Headless';
  for (const vantage of vantages) {
    const result = vantage.result;
    const outcome = (item: EndpointResult) => podOutcome(vantage, item, dest);
    if (result.dns) sections.lookups.push({ vantage, dns: result.dns, resolv: result.resolv });
    if (connectIsPod && isConnectResult(result.connect)) sections.podOutcomes.push(outcome(result.connect));
    for (const item of result.endpoints?.items ?? []) {
      const known = sections.podOutcomes.some((existing) => existing.vantage === vantage && existing.ip === item.ip && existing.port === item.port);
      if (!known) sections.podOutcomes.push(outcome(item));
    }
    if (!connectIsPod && (result.connect || result.http)) {
      const connect = isConnectResult(result.connect) ? result.connect : undefined;
      const skipped = result.connect && !isConnectResult(result.connect) ? result.connect : undefined;
      sections.attempts.push({ vantage, connect, skipped, http: result.http });
    }
    if (isIcmpResult(result.icmp)) icmp.push({ vantage, icmp: result.icmp });
    if (result.mtu) mtuResults.push({ vantage, mtu: result.mtu });
  }
  return { ...sections, podHttpFailed: connectIsPod ? podHttpFailures(vantages) : [], icmp, mtuResults };
}

function podOutcome(vantage: Vantage, item: EndpointResult, dest: DestinationFacts): PodOutcome {
  const backend = backendByIP(dest.backends, item.ip);
  const node =
    backend?.node ??
    [...(dest.slices?.ready ?? []), ...(dest.slices?.notReady ?? []), ...(dest.slices?.withoutPort ?? [])].find((a) => a.ip === item.ip)?.node;
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
}

export function backendByIP(backends: readonly Backend[], ip: string): Backend | undefined {
  return backends.find((backend) => podIPs(backend.pod).includes(ip));
}

function podHttpFailures(vantages: Vantage[]): PodHttpFailure[] {
  return vantages
    .filter((vantage) => {
      const { http, connect } = vantage.result;
      return http && http.status !== 'ok' && isConnectResult(connect) && connect.status === 'ok';
    })
    .map((vantage) => ({ vantage, connect: vantage.result.connect as PodHttpFailure['connect'], http: vantage.result.http }));
}

/** Whether a connection failed (UDP noReply is not a failure by itself). */
export function connectFailed(status: ConnectStatus): boolean {
  return status !== 'ok' && status !== 'noReply';
}

function involvedNodes(source: SourceAnalysis, backends: Backend[], outcomes: PodOutcome[], probes: NodeProbe[]): string[] {
  const names = [
    source.node,
    ...source.pods.map((pod) => pod.spec?.nodeName),
    ...backends.map((backend) => backend.node),
    ...outcomes.map((outcome) => outcome.node),
    ...outcomes.map((outcome) => outcome.vantage.node),
    ...probes.map((probe) => probe.node),
  ];
  return uniq(names.filter((name): name is string => Boolean(name))).sort();
}

function reproContext(input: DiagnosisInput, source: SourceAnalysis, vantages: Vantage[], options: DiagnosisOptions): ReproContext {
  const { spec, check } = input;
  return {
    namespace: check.metadata?.namespace ?? 'default',
    sourcePod: source.kind === 'pod' ? (vantages[0]?.sourcePod ?? source.pods[0])?.metadata?.name : undefined,
    sourceNode: source.kind === 'node' ? source.node : undefined,
    newPodLabels: source.kind === 'newPod' ? (spec.source.newPod?.labels ?? {}) : undefined,
    // Always the operator's own probe image, never spec.probe.image: an admin pastes these commands
    // (some with --profile=sysadmin on a node), and the check's author must not choose what they run.
    image: options.probeImage || DEFAULT_PROBE_IMAGE,
    timeoutSeconds: spec.timeoutSeconds,
  };
}
