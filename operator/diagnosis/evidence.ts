// The API evidence collector: after a run's probe pods finished, it reads what the cluster says about
// the source, the destination and the layers in between, so that the pure ladder (ladder.ts) can
// weigh the probe results against it.
//
// Tolerant by design: every read is separate and may fail (forbidden, not found, timeout). A failed
// read is recorded as `{ ok: false, error }` and makes the layers that need it Unknown, with the error
// in the message; it never fails the diagnosis. Read-only: get and list, nothing else (the verbs are
// listed in EVIDENCE_RBAC_RULES).
//
// The evidence is plain JSON (Kubernetes objects as the API returns them), so a recorded Evidence
// document can be replayed through diagnoseFromEvidence() in tests.
import {
  CoreV1Api,
  DiscoveryV1Api,
  NetworkingV1Api,
  type KubeConfig,
  type V1EndpointSlice,
  type V1Ingress,
  type V1Namespace,
  type V1NetworkPolicy,
  type V1Node,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import { withDefaults } from '../api/defaults.ts';
import type { DiagnosisInput } from './verdict.ts';
import type { ProbeResult } from '../probe/result.ts';

/** A read that worked, or the reason it did not. `value` is null for an object that does not exist. */
export type Fetched<T> = { ok: true; value: T } | { ok: false; error: string };

export const DNS_NAMESPACE = 'kube-system';
export const DNS_SERVICE_NAME = 'kube-dns';
/** CoreDNS keeps the kube-dns label for compatibility; both deployments carry it. */
export const DNS_POD_LABEL = { key: 'k8s-app', value: 'kube-dns' } as const;
export const KUBE_PROXY_LABEL = { key: 'k8s-app', value: 'kube-proxy' } as const;
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** CNI agents by their well-known pod labels (DaemonSets, one pod per node). */
export const CNI_AGENTS: readonly { readonly name: string; readonly key: string; readonly value: string }[] = [
  { name: 'calico', key: 'k8s-app', value: 'calico-node' },
  { name: 'cilium', key: 'k8s-app', value: 'cilium' },
  { name: 'kube-router', key: 'k8s-app', value: 'kube-router' },
  { name: 'canal', key: 'k8s-app', value: 'canal' },
  { name: 'flannel', key: 'app', value: 'flannel' },
  { name: 'weave', key: 'name', value: 'weave-net' },
  { name: 'antrea', key: 'component', value: 'antrea-agent' },
];

/** Ingress controllers by the app.kubernetes.io/name their charts set. */
export const INGRESS_CONTROLLER_NAMES: readonly string[] = ['ingress-nginx', 'nginx-ingress', 'traefik', 'haproxy-ingress', 'contour', 'kong', 'envoy'];

/**
 * Node annotations naming the address a CNI uses as the overlay (VXLAN/IPIP) source. When it differs
 * from the node's InternalIP, peers may drop or misroute the encapsulated packets (seed 003 case 1).
 */
export const OVERLAY_ADDRESS_ANNOTATIONS: readonly string[] = [
  'flannel.alpha.coreos.com/public-ip',
  'projectcalico.org/IPv4Address',
];

/** The RBAC rules the collector needs (read-only). */
export const EVIDENCE_RBAC_RULES = [
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'], note: 'source and backend pods; DNS, kube-proxy and CNI agent pods in any namespace' },
  { apiGroups: [''], resources: ['services'], verbs: ['get'], note: 'the destination Service and kube-system/kube-dns' },
  { apiGroups: [''], resources: ['nodes'], verbs: ['get'], note: 'Ready and NetworkUnavailable of involved nodes, overlay address annotations' },
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get'], note: 'namespace labels for namespaceSelector' },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list'], note: 'endpoints of the Service and of kube-dns' },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['list'], note: 'policies in the source, destination and DNS namespaces' },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['list'], note: 'Ingresses routing to the Service or serving the destination host' },
] as const;

export interface LabeledPods {
  /** The label selector used, e.g. "k8s-app=calico-node". */
  readonly selector: string;
  readonly pods: Fetched<V1Pod[]>;
}

export interface Evidence {
  /** The source pods as they are now (fresh reads of targets.sourcePods). */
  readonly sourcePods: Fetched<V1Pod[]>;
  /** The destination Service (service destinations only); null when it no longer exists. */
  readonly service?: Fetched<V1Service | null>;
  /** EndpointSlices labelled kubernetes.io/service-name=<service>. */
  readonly endpointSlices?: Fetched<V1EndpointSlice[]>;
  /** Pods the Service selects, or the destination pods of a pod destination. */
  readonly backendPods: Fetched<V1Pod[]>;
  /** All pods of the destination namespace: candidates for near misses when the selector matched none. */
  readonly namespacePods?: Fetched<V1Pod[]>;
  /** Cluster DNS (only when the destination is a name). */
  readonly dns?: {
    readonly pods: Fetched<V1Pod[]>;
    readonly service: Fetched<V1Service | null>;
    readonly endpointSlices: Fetched<V1EndpointSlice[]>;
  };
  /** kube-proxy and CNI agent pods, by label, in every namespace. */
  readonly agentPods: readonly LabeledPods[];
  /** The nodes involved: the source's, the backends', the DNS pods'. */
  readonly nodes: Fetched<V1Node[]>;
  /** The source, destination and DNS namespaces. */
  readonly namespaces: Fetched<V1Namespace[]>;
  /** NetworkPolicies of those namespaces. */
  readonly networkPolicies: Fetched<V1NetworkPolicy[]>;
  /** Ingresses routing to the Service, or serving the destination host. */
  readonly ingresses?: Fetched<V1Ingress[]>;
  readonly ingressControllerPods?: LabeledPods;
}

/** The reads the collector makes; kubeEvidenceReader() implements them with @kubernetes/client-node. */
export interface EvidenceReader {
  getPod(namespace: string, name: string): Promise<V1Pod | null>;
  /** namespace undefined: every namespace. */
  listPods(namespace: string | undefined, labelSelector?: string): Promise<V1Pod[]>;
  getService(namespace: string, name: string): Promise<V1Service | null>;
  listEndpointSlices(namespace: string, labelSelector: string): Promise<V1EndpointSlice[]>;
  getNode(name: string): Promise<V1Node | null>;
  getNamespace(name: string): Promise<V1Namespace | null>;
  listNetworkPolicies(namespace: string): Promise<V1NetworkPolicy[]>;
  /** namespace undefined: every namespace. */
  listIngresses(namespace: string | undefined): Promise<V1Ingress[]>;
}

export interface CollectOptions {
  /** Each API call is abandoned after this long (default 10 s). */
  readonly callTimeoutMs?: number;
  readonly dnsNamespace?: string;
}

const DEFAULT_CALL_TIMEOUT_MS = 10_000;

export const EvidenceError = {
  Timeout: 'no answer from the API server',
  Forbidden: 'forbidden',
  NotFound: 'not found',
} as const;

// ---------------------------------------------------------------------------------------------------
// The client-node implementation.

function statusCode(error: unknown): number | undefined {
  if (error && typeof error === 'object') {
    const code = (error as { code?: unknown; statusCode?: unknown }).code ?? (error as { statusCode?: unknown }).statusCode;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

async function orNull<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (error) {
    if (statusCode(error) === 404) return null;
    throw error;
  }
}

export function kubeEvidenceReader(kubeConfig: KubeConfig): EvidenceReader {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
  const networking = kubeConfig.makeApiClient(NetworkingV1Api);
  return {
    getPod: (namespace, name) => orNull(core.readNamespacedPod({ namespace, name })),
    listPods: async (namespace, labelSelector) =>
      (namespace ? await core.listNamespacedPod({ namespace, labelSelector }) : await core.listPodForAllNamespaces({ labelSelector })).items,
    getService: (namespace, name) => orNull(core.readNamespacedService({ namespace, name })),
    listEndpointSlices: async (namespace, labelSelector) => (await discovery.listNamespacedEndpointSlice({ namespace, labelSelector })).items,
    getNode: (name) => orNull(core.readNode({ name })),
    getNamespace: (name) => orNull(core.readNamespace({ name })),
    listNetworkPolicies: async (namespace) => (await networking.listNamespacedNetworkPolicy({ namespace })).items,
    listIngresses: async (namespace) =>
      (namespace ? await networking.listNamespacedIngress({ namespace }) : await networking.listIngressForAllNamespaces()).items,
  };
}

/** "HTTP 403: pods is forbidden: User ... cannot list ..." from an ApiException (or any error). */
export function describeApiError(error: unknown): string {
  const code = statusCode(error);
  let message: string | undefined;
  const body = (error as { body?: unknown } | undefined)?.body;
  if (typeof body === 'string') {
    try {
      message = (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      message = body;
    }
  } else if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') {
    message = (body as { message: string }).message;
  }
  message ??= error instanceof Error ? error.message.split('\n')[0] : String(error);
  const text = code === undefined ? message : `HTTP ${code}${code === 403 ? ` (${EvidenceError.Forbidden})` : ''}: ${message}`;
  return text.slice(0, 300);
}

async function fetched<T>(what: string, call: () => Promise<T>, timeoutMs: number): Promise<Fetched<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${EvidenceError.Timeout} within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
  });
  try {
    return { ok: true, value: await Promise.race([call(), timeout]) };
  } catch (error) {
    return { ok: false, error: `${what}: ${describeApiError(error)}` };
  } finally {
    clearTimeout(timer);
  }
}

/** Several reads that form one piece of evidence: all must succeed. */
async function fetchedAll<T>(parts: Promise<Fetched<T>>[]): Promise<Fetched<T[]>> {
  const results = await Promise.all(parts);
  const failed = results.filter((result): result is { ok: false; error: string } => !result.ok);
  if (failed.length > 0) return { ok: false, error: failed.map((result) => result.error).join('; ') };
  return { ok: true, value: results.map((result) => (result as { ok: true; value: T }).value) };
}

// ---------------------------------------------------------------------------------------------------
// Helpers shared with the ladder.

export function selectorString(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

export function isIPLiteral(text: string): boolean {
  return /^[0-9.]+$/.test(text) || text.includes(':');
}

/** Whether an Ingress rule host (exact, or "*.example.com" for one label) serves host. */
export function ingressHostMatches(ruleHost: string | undefined, host: string): boolean {
  if (!ruleHost) return false;
  const wanted = host.toLowerCase().replace(/\.$/, '');
  const rule = ruleHost.toLowerCase();
  if (rule.startsWith('*.')) {
    const suffix = rule.slice(1);
    return wanted.endsWith(suffix) && !wanted.slice(0, -suffix.length).includes('.') && wanted.length > suffix.length;
  }
  return rule === wanted;
}

/** Services an Ingress sends traffic to (default backend and every path). */
export function ingressBackendServices(ingress: V1Ingress): string[] {
  const names = new Set<string>();
  const defaultBackend = ingress.spec?.defaultBackend?.service?.name;
  if (defaultBackend) names.add(defaultBackend);
  for (const rule of ingress.spec?.rules ?? []) {
    for (const path of rule.http?.paths ?? []) {
      if (path.backend?.service?.name) names.add(path.backend.service.name);
    }
  }
  return [...names];
}

function podNode(pod: V1Pod): string | undefined {
  return pod.spec?.nodeName || undefined;
}

// ---------------------------------------------------------------------------------------------------
// The collector.

/** Reads the evidence for one diagnosis. Never throws: failed reads are recorded in the evidence. */
export async function collectEvidence(reader: EvidenceReader, input: DiagnosisInput, options: CollectOptions = {}): Promise<Evidence> {
  const timeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const dnsNamespace = options.dnsNamespace ?? DNS_NAMESPACE;
  const read = <T>(what: string, call: () => Promise<T>) => fetched(what, call, timeoutMs);
  const { check, targets } = input;
  const spec = input.spec ?? withDefaults(check);
  const namespace = check.metadata?.namespace ?? 'default';
  const destination = spec.destination;
  const destNamespace = destination.namespace ?? namespace;
  const serviceName = destination.service;
  const host = destination.host;
  const dnsRelevant = Boolean(serviceName) || (host !== undefined && !isIPLiteral(host));

  // Phase 1: everything that does not depend on another read.
  // A source pod deleted since the run started is simply absent from the fresh list.
  const sourcePodsRead = fetchedAll(
    targets.sourcePods.map((pod) => {
      const name = pod.metadata?.name ?? '';
      const podNamespace = pod.metadata?.namespace ?? namespace;
      return read(`get pod ${podNamespace}/${name}`, () => reader.getPod(podNamespace, name));
    }),
  ).then((result): Fetched<V1Pod[]> => (result.ok ? { ok: true, value: result.value.filter((pod): pod is V1Pod => pod !== null) } : result));
  const serviceRead = serviceName ? read(`get service ${destNamespace}/${serviceName}`, () => reader.getService(destNamespace, serviceName)) : undefined;
  const slicesRead = serviceName
    ? read(`list endpointslices in ${destNamespace}`, () => reader.listEndpointSlices(destNamespace, `${SERVICE_NAME_LABEL}=${serviceName}`))
    : undefined;
  const dnsRead = dnsRelevant
    ? Promise.all([
        read(`list pods ${DNS_POD_LABEL.key}=${DNS_POD_LABEL.value} in ${dnsNamespace}`, () => reader.listPods(dnsNamespace, `${DNS_POD_LABEL.key}=${DNS_POD_LABEL.value}`)),
        read(`get service ${dnsNamespace}/${DNS_SERVICE_NAME}`, () => reader.getService(dnsNamespace, DNS_SERVICE_NAME)),
        read(`list endpointslices in ${dnsNamespace}`, () => reader.listEndpointSlices(dnsNamespace, `${SERVICE_NAME_LABEL}=${DNS_SERVICE_NAME}`)),
      ])
    : undefined;
  // One list per label key: kube-proxy and the k8s-app agents share one.
  const agentSelectors = new Map<string, string[]>();
  for (const { key, value } of [KUBE_PROXY_LABEL, ...CNI_AGENTS]) agentSelectors.set(key, [...(agentSelectors.get(key) ?? []), value]);
  const agentReads = [...agentSelectors.entries()].map(async ([key, values]): Promise<LabeledPods> => {
    const selector = values.length === 1 ? `${key}=${values[0]}` : `${key} in (${values.join(',')})`;
    return { selector, pods: await read(`list pods ${selector} in all namespaces`, () => reader.listPods(undefined, selector)) };
  });
  const policyNamespaces = [...new Set([namespace, destNamespace, ...(dnsRelevant ? [dnsNamespace] : [])])];
  const namespacesRead = fetchedAll(
    policyNamespaces.map((name) => read(`get namespace ${name}`, () => reader.getNamespace(name))),
  ).then((result): Fetched<V1Namespace[]> => (result.ok ? { ok: true, value: result.value.filter((ns): ns is V1Namespace => ns !== null) } : result));
  const policiesRead = fetchedAll(
    policyNamespaces.map((name) => read(`list networkpolicies in ${name}`, () => reader.listNetworkPolicies(name))),
  ).then((result): Fetched<V1NetworkPolicy[]> => (result.ok ? { ok: true, value: result.value.flat() } : result));
  const ingressesRead: Promise<Fetched<V1Ingress[]>> | undefined = serviceName
    ? read(`list ingresses in ${destNamespace}`, () => reader.listIngresses(destNamespace)).then((result) =>
        result.ok ? { ok: true, value: result.value.filter((ingress) => ingressBackendServices(ingress).includes(serviceName)) } : result,
      )
    : host && !isIPLiteral(host)
      ? read('list ingresses in all namespaces', () => reader.listIngresses(undefined)).then((result) =>
          result.ok ? { ok: true, value: result.value.filter((ingress) => (ingress.spec?.rules ?? []).some((rule) => ingressHostMatches(rule.host, host))) } : result,
        )
      : undefined;

  const service = serviceRead ? await serviceRead : undefined;
  const selector = service?.ok ? service.value?.spec?.selector : targets.destinationService?.spec?.selector;
  let backendPods: Fetched<V1Pod[]>;
  let namespacePods: Fetched<V1Pod[]> | undefined;
  if (serviceName) {
    if (selector && Object.keys(selector).length > 0) {
      const selectorText = selectorString(selector);
      backendPods = await read(`list pods ${selectorText} in ${destNamespace}`, () => reader.listPods(destNamespace, selectorText));
      if (backendPods.ok && backendPods.value.length === 0) {
        namespacePods = await read(`list pods in ${destNamespace}`, () => reader.listPods(destNamespace));
      }
    } else {
      backendPods = { ok: true, value: [] };
    }
  } else {
    backendPods = await fetchedAll(
      targets.destinationPods.map((pod) => {
        const name = pod.metadata?.name ?? '';
        const podNamespace = pod.metadata?.namespace ?? destNamespace;
        return read(`get pod ${podNamespace}/${name}`, () => reader.getPod(podNamespace, name));
      }),
    ).then((result): Fetched<V1Pod[]> => (result.ok ? { ok: true, value: result.value.filter((pod): pod is V1Pod => pod !== null) } : result));
  }

  const [sourcePods, endpointSlices, dnsParts, agentPods, namespaces, networkPolicies, ingresses] = await Promise.all([
    sourcePodsRead,
    slicesRead,
    dnsRead,
    Promise.all(agentReads),
    namespacesRead,
    policiesRead,
    ingressesRead,
  ]);
  const dns = dnsParts ? { pods: dnsParts[0], service: dnsParts[1], endpointSlices: dnsParts[2] } : undefined;

  let ingressControllerPods: LabeledPods | undefined;
  if (ingresses?.ok && ingresses.value.length > 0) {
    const controllerSelector = `app.kubernetes.io/name in (${INGRESS_CONTROLLER_NAMES.join(',')})`;
    ingressControllerPods = {
      selector: controllerSelector,
      pods: await read('list ingress controller pods in all namespaces', () => reader.listPods(undefined, controllerSelector)),
    };
  }

  // Phase 2: the nodes everything above runs on.
  const nodeNames = new Set<string>();
  const addNode = (name: string | undefined) => {
    if (name) nodeNames.add(name);
  };
  for (const pod of sourcePods.ok ? sourcePods.value : targets.sourcePods) addNode(podNode(pod));
  addNode(targets.sourceNode);
  for (const output of input.outputs) addNode(output.node);
  for (const pod of backendPods.ok ? backendPods.value : targets.destinationPods) addNode(podNode(pod));
  if (endpointSlices?.ok) for (const slice of endpointSlices.value) for (const endpoint of slice.endpoints ?? []) addNode(endpoint.nodeName);
  if (dns?.pods.ok) for (const pod of dns.pods.value) addNode(podNode(pod));
  const nodes = await fetchedAll([...nodeNames].sort().map((name) => read(`get node ${name}`, () => reader.getNode(name)))).then(
    (result): Fetched<V1Node[]> => (result.ok ? { ok: true, value: result.value.filter((node): node is V1Node => node !== null) } : result),
  );

  return {
    sourcePods,
    ...(service ? { service } : {}),
    ...(endpointSlices ? { endpointSlices } : {}),
    backendPods,
    ...(namespacePods ? { namespacePods } : {}),
    ...(dns ? { dns } : {}),
    agentPods,
    nodes,
    namespaces,
    networkPolicies,
    ...(ingresses ? { ingresses } : {}),
    ...(ingressControllerPods ? { ingressControllerPods } : {}),
  };
}

/** The probe document of an output (validated by parseProbeResult before it reached the diagnosis). */
export function probeResultOf(result: unknown): ProbeResult {
  return result as ProbeResult;
}
