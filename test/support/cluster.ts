// Helpers for end-to-end tests on the local cluster that test/cluster/up.sh brings up (or, for the parts
// that only use the API, any cluster a kubeconfig points at).
//
// Everything here works through the real API server, and fault injections act on the real node: iptables
// rules, interface MTUs, sysctls, the kube-proxy process. Every injection returns an async `Undo` that puts
// things back; call it in `finally`/`afterEach` so one failing test does not break the next.
//
// Contracts:
//   - up.sh writes $NETCHECK_CLUSTER_DIR/cluster.env (default /tmp/netcheck-cluster); readClusterInfo()
//     parses it. NETCHECK_KUBECONFIG, when set, overrides the kubeconfig path it names.
//   - test/cluster/versions.env pins the images; readVersions() parses it (PROBE_IMAGE, TESTSERVER_IMAGE...).
//   - Test namespaces carry the label netcheck.dev/e2e=true, so a crashed run can be swept with
//     `kubectl delete ns -l netcheck.dev/e2e=true`.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, Exec, KubeConfig, NetworkingV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { V1Container, V1NetworkPolicy, V1Pod, V1PodSpec, V1Service, V1Status } from '@kubernetes/client-node';

const execFileAsync = promisify(execFile);

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLUSTER_SCRIPTS_DIR = join(REPO_ROOT, 'test', 'cluster');
export const DEFAULT_CLUSTER_DIR = '/tmp/netcheck-cluster';
export const E2E_NAMESPACE_LABEL = 'netcheck.dev/e2e';
const FAULT_RULE_COMMENT = 'netcheck-e2e-fault';

export const CLUSTER_NOT_UP =
  'The local cluster is not up: run `bash test/cluster/up.sh` first (the e2e suite does not start it).';

/** An async function that reverts one injected fault. Safe to call more than once. */
export type Undo = () => Promise<void>;

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** One node of the local cluster. Node 1 is the host's network namespace; the others have their own. */
export interface NodeInfo {
  name: string;
  ip: string;
  podCidr: string;
  /** The node's network namespace (ip netns name), or '' for node 1 (the host's). */
  netns: string;
  containerdSocket: string;
  /** Suffix of this node's component names for component.sh: '' for node 1, '-node2', ... */
  componentSuffix: string;
}

/** The taint up.sh puts on nodes after the first, so that only pods asking for them land there. */
export const EXTRA_NODE_TAINT = 'netcheck.dev/extra-node';

/** What up.sh records about the running cluster (cluster.env). */
export interface ClusterInfo {
  clusterDir: string;
  kubeconfigPath: string;
  nodeName: string;
  nodeIp: string;
  clusterCidr: string;
  nodePodCidr: string;
  serviceCidr: string;
  dnsServiceIp: string;
  clusterDomain: string;
  podBridge: string;
  /** The bridge that holds the node addresses (the extra nodes' veths hang on it). */
  nodeBridge: string;
  containerdSocket: string;
  ctr: string;
  kubectl: string;
  componentScript: string;
  /** test/cluster/overlay.sh (rebuilds a node's VXLAN device). */
  overlayScript: string;
  /** NETCHECK_POLICY_ENFORCER of the running cluster: kube-network-policies, kube-router or ours. */
  policyEnforcer: string;
  /** How nodes reach each other's pods: 'vxlan' (flannel-style overlay) or 'routes'. */
  podNetworkMode: string;
  /** The overlay: device name, UDP port and MTU (flannel's defaults: flannel.1, 4789, 1450). */
  vxlan: { device: string; port: number; mtu: number };
  /** The MTU pods get from the CNI config. */
  podMtu: number;
  nodes: NodeInfo[];
}

/** Parses a KEY=VALUE file (shell syntax without expansions, as versions.env and cluster.env use). */
export function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (!match) continue;
    values[match[1]] = match[2].replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  }
  return values;
}

/** The pinned versions and image names (test/cluster/versions.env). */
export function readVersions(): Record<string, string> {
  return parseEnvFile(readFileSync(join(CLUSTER_SCRIPTS_DIR, 'versions.env'), 'utf8'));
}

export function readClusterInfo(clusterDir = process.env.NETCHECK_CLUSTER_DIR ?? DEFAULT_CLUSTER_DIR): ClusterInfo {
  const file = join(clusterDir, 'cluster.env');
  if (!existsSync(file)) throw new Error(`${CLUSTER_NOT_UP} (missing ${file})`);
  const env = parseEnvFile(readFileSync(file, 'utf8'));
  const need = (key: string): string => {
    const value = env[key];
    if (!value) throw new Error(`${file} has no ${key}; re-run test/cluster/up.sh`);
    return value;
  };
  return {
    clusterDir,
    kubeconfigPath: process.env.NETCHECK_KUBECONFIG ?? need('KUBECONFIG'),
    nodeName: need('NODE_NAME'),
    nodeIp: need('NODE_IP'),
    clusterCidr: need('CLUSTER_CIDR'),
    nodePodCidr: need('NODE_POD_CIDR'),
    serviceCidr: need('SERVICE_CIDR'),
    dnsServiceIp: need('DNS_SERVICE_IP'),
    clusterDomain: need('CLUSTER_DOMAIN'),
    podBridge: need('POD_BRIDGE'),
    nodeBridge: need('NODE_BRIDGE'),
    containerdSocket: need('CONTAINERD_SOCKET'),
    ctr: need('CTR'),
    kubectl: need('KUBECTL'),
    componentScript: need('COMPONENT_SCRIPT'),
    overlayScript: env.OVERLAY_SCRIPT ?? join(CLUSTER_SCRIPTS_DIR, 'overlay.sh'),
    policyEnforcer: env.POLICY_ENFORCER ?? 'ours',
    podNetworkMode: env.POD_NETWORK_MODE ?? 'routes',
    vxlan: { device: env.VXLAN_DEVICE ?? 'flannel.1', port: Number(env.VXLAN_PORT ?? 4789), mtu: Number(env.VXLAN_MTU ?? 1450) },
    podMtu: Number(env.POD_MTU ?? 1500),
    nodes: Array.from({ length: Number(env.NODE_COUNT ?? '1') }, (_, index) => ({
      name: need(`NODE_${index + 1}_NAME`),
      ip: need(`NODE_${index + 1}_IP`),
      podCidr: need(`NODE_${index + 1}_POD_CIDR`),
      netns: env[`NODE_${index + 1}_NETNS`] ?? '',
      containerdSocket: need(`NODE_${index + 1}_CONTAINERD_SOCKET`),
      componentSuffix: env[`NODE_${index + 1}_COMPONENT_SUFFIX`] ?? '',
    })),
  };
}

/** Runs a host command without a shell: arguments are passed as they are, never interpreted. */
export async function runHost(command: string, args: string[], options: { allowFailure?: boolean; timeoutMs?: number } = {}): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 });
    return { exitCode: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    const result = { exitCode: typeof failure.code === 'number' ? failure.code : -1, stdout: failure.stdout ?? '', stderr: failure.stderr ?? failure.message };
    if (options.allowFailure) return result;
    throw new Error(`${command} ${args.join(' ')} failed (${result.exitCode}): ${result.stderr.trim()}`);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value other than undefined/false, or throws after the timeout. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
    }
    await sleep(intervalMs);
  }
}

const isNotFound = (error: unknown): boolean => (error as { code?: number })?.code === 404;

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface BackendOptions {
  namespace: string;
  name?: string;
  replicas?: number;
  /** Labels of the backend pods (the Service selects them); default { app: <name> }. */
  labels?: Record<string, string>;
  image?: string;
  /** Extra environment of the test server, e.g. { HTTP_STATUS: '503' }. */
  env?: Record<string, string>;
  /** Create the Service (default true). */
  service?: boolean;
  /** Run the pods on this node (tolerating the extra-node taint); default: wherever the scheduler puts them. */
  node?: string;
  timeoutMs?: number;
}

export interface Backend {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  /** The ClusterIP of the Service (undefined without a Service). */
  clusterIp?: string;
  /** The fully-qualified Service name, e.g. backend.ns.svc.cluster.local. */
  fqdn: string;
  podNames: string[];
  podIps: string[];
}

/** Ports of the test server (images/testserver.c) and of the Service in front of it. */
export const BACKEND_PORTS = {
  http: { service: 80, container: 8080 },
  tcpEcho: { service: 9000, container: 9000 },
  udpEcho: { service: 9001, container: 9001 },
} as const;

export interface PodOptions {
  namespace: string;
  name: string;
  image?: string;
  command?: string[];
  labels?: Record<string, string>;
  /** Extra Linux capabilities, e.g. ['NET_ADMIN', 'NET_RAW'] for tcpdump/iptables inside the pod. */
  capabilities?: string[];
  hostNetwork?: boolean;
  /** Run the pod on this node (tolerating the extra-node taint); default: wherever the scheduler puts it. */
  node?: string;
  timeoutMs?: number;
}

/** nodeSelector + toleration that place a pod on one node, the extra nodes included. */
export function placementOn(node: string | undefined): Pick<V1PodSpec, 'nodeSelector' | 'tolerations'> {
  if (!node) return {};
  return {
    nodeSelector: { 'kubernetes.io/hostname': node },
    tolerations: [{ key: EXTRA_NODE_TAINT, operator: 'Exists', effect: 'NoSchedule' }],
  };
}

/** A connection to the cluster with the typed clients, plus namespace/workload helpers and fault injections. */
export class TestCluster {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly networking: NetworkingV1Api;
  readonly discovery: DiscoveryV1Api;
  /** Host-side facts of the local cluster; undefined when connected to another cluster by kubeconfig. */
  readonly info: ClusterInfo | undefined;
  readonly versions: Record<string, string>;

  constructor(kubeConfig: KubeConfig, info?: ClusterInfo) {
    this.kubeConfig = kubeConfig;
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
    this.networking = kubeConfig.makeApiClient(NetworkingV1Api);
    this.discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
    this.info = info;
    this.versions = readVersions();
  }

  /** Connects to the local cluster and checks that the API server answers; throws CLUSTER_NOT_UP otherwise. */
  static async connect(clusterDir?: string): Promise<TestCluster> {
    const info = readClusterInfo(clusterDir);
    if (!existsSync(info.kubeconfigPath)) throw new Error(`${CLUSTER_NOT_UP} (missing ${info.kubeconfigPath})`);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(info.kubeconfigPath);
    const cluster = new TestCluster(kubeConfig, info);
    try {
      await cluster.core.readNode({ name: info.nodeName });
    } catch (error) {
      throw new Error(`${CLUSTER_NOT_UP} (API server at ${kubeConfig.getCurrentCluster()?.server} did not answer: ${(error as Error).message})`);
    }
    return cluster;
  }

  get probeImage(): string {
    return this.versions.PROBE_IMAGE;
  }

  get testServerImage(): string {
    return this.versions.TESTSERVER_IMAGE;
  }

  private requireLocal(feature: string): ClusterInfo {
    if (!this.info) throw new Error(`${feature} needs the local cluster of test/cluster/up.sh`);
    return this.info;
  }

  /** A node of the local cluster by name (default: node 1). */
  node(name?: string): NodeInfo {
    const info = this.requireLocal('node lookups');
    const node = name === undefined ? info.nodes[0] : info.nodes.find((candidate) => candidate.name === name);
    if (!node) throw new Error(`no node ${name} in the local cluster (nodes: ${info.nodes.map((n) => n.name).join(', ')})`);
    return node;
  }

  /** Runs a host binary in a node's network namespace (node 1: the host's own). */
  async runOnNode(nodeName: string | undefined, command: string[], options: { allowFailure?: boolean } = {}): Promise<CommandResult> {
    const node = this.node(nodeName);
    if (!node.netns) return runHost(command[0], command.slice(1), options);
    return runHost('nsenter', [`--net=/run/netns/${node.netns}`, '--', ...command], options);
  }

  /** Installs (or updates) the NetworkCheck CRD with the cluster's kubectl and waits until it is served. */
  installNetworkCheckCrd(): void {
    const info = this.requireLocal('installNetworkCheckCrd');
    const env = { ...process.env, KUBECONFIG: info.kubeconfigPath };
    execFileSync(info.kubectl, ['apply', '--server-side', '-f', join(REPO_ROOT, 'crds/netcheck.dev_networkchecks.yaml')], { env, stdio: 'pipe' });
    execFileSync(info.kubectl, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/networkchecks.netcheck.dev'], { env, stdio: 'pipe' });
  }

  // ------------------------------------------------------------------ namespaces

  /** Creates a namespace named `<prefix>-<random>` labelled for e2e sweeping; returns its name. */
  async createNamespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
    const name = `${prefix}-${randomBytes(3).toString('hex')}`.toLowerCase();
    await this.core.createNamespace({ body: { metadata: { name, labels: { ...labels, [E2E_NAMESPACE_LABEL]: 'true' } } } });
    // Pods cannot be created before the namespace's default ServiceAccount exists.
    await waitFor(`ServiceAccount default in ${name}`, async () => {
      await this.core.readNamespacedServiceAccount({ name: 'default', namespace: name });
      return true;
    }, 30_000);
    return name;
  }

  /** Deletes a namespace; with wait, until it is gone (pods terminated, IPs released). */
  async deleteNamespace(name: string, options: { wait?: boolean; timeoutMs?: number } = {}): Promise<void> {
    try {
      await this.core.deleteNamespace({ name, gracePeriodSeconds: 0 });
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    if (options.wait) {
      await waitFor(`namespace ${name} to be deleted`, async () => {
        try {
          await this.core.readNamespace({ name });
          return false;
        } catch (error) {
          return isNotFound(error);
        }
      }, options.timeoutMs ?? 120_000, 500);
    }
  }

  // ------------------------------------------------------------------ workloads

  /** A Deployment of the test server (HTTP 8080, TCP echo 9000, UDP echo 9001) and a ClusterIP Service
   *  (80 -> 8080, 9000, 9001/UDP), waited until every replica is ready and listed in the Service's endpoints. */
  async createBackend(options: BackendOptions): Promise<Backend> {
    const name = options.name ?? 'backend';
    const namespace = options.namespace;
    const labels = options.labels ?? { app: name };
    const replicas = options.replicas ?? 1;
    const container: V1Container = {
      name: 'server',
      image: options.image ?? this.testServerImage,
      imagePullPolicy: 'IfNotPresent',
      env: Object.entries(options.env ?? {}).map(([key, value]) => ({ name: key, value })),
      ports: [
        { name: 'http', containerPort: BACKEND_PORTS.http.container, protocol: 'TCP' },
        { name: 'tcp-echo', containerPort: BACKEND_PORTS.tcpEcho.container, protocol: 'TCP' },
        { name: 'udp-echo', containerPort: BACKEND_PORTS.udpEcho.container, protocol: 'UDP' },
      ],
      readinessProbe: { httpGet: { path: '/healthz', port: BACKEND_PORTS.http.container }, periodSeconds: 1 },
    };
    await this.apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name, labels },
        spec: {
          replicas,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [container], terminationGracePeriodSeconds: 1, ...placementOn(options.node) } },
        },
      },
    });
    let clusterIp: string | undefined;
    if (options.service !== false) {
      const service = await this.core.createNamespacedService({
        namespace,
        body: {
          metadata: { name },
          spec: {
            selector: labels,
            ports: [
              { name: 'http', port: BACKEND_PORTS.http.service, targetPort: 'http', protocol: 'TCP' },
              { name: 'tcp-echo', port: BACKEND_PORTS.tcpEcho.service, targetPort: 'tcp-echo', protocol: 'TCP' },
              { name: 'udp-echo', port: BACKEND_PORTS.udpEcho.service, targetPort: 'udp-echo', protocol: 'UDP' },
            ],
          },
        },
      });
      clusterIp = service.spec?.clusterIP;
    }
    const timeoutMs = options.timeoutMs ?? 90_000;
    await this.waitForDeploymentReady(namespace, name, timeoutMs);
    if (options.service !== false) {
      await this.waitForEndpoints(namespace, name, replicas, timeoutMs);
      if (clusterIp) await this.waitForServiceProxied(clusterIp, timeoutMs);
    }
    const pods = await this.core.listNamespacedPod({ namespace, labelSelector: selectorText(labels) });
    const running = pods.items.filter((pod) => pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp);
    return {
      namespace,
      name,
      labels,
      clusterIp,
      fqdn: `${name}.${namespace}.svc.${this.info?.clusterDomain ?? 'cluster.local'}`,
      podNames: running.map((pod) => pod.metadata?.name ?? ''),
      podIps: running.map((pod) => pod.status?.podIP ?? ''),
    };
  }

  async waitForDeploymentReady(namespace: string, name: string, timeoutMs = 90_000): Promise<void> {
    await waitFor(`deployment ${namespace}/${name} to be ready`, async () => {
      const deployment = await this.apps.readNamespacedDeployment({ name, namespace });
      const wanted = deployment.spec?.replicas ?? 1;
      const status = deployment.status;
      return (
        (status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 1) &&
        (status?.updatedReplicas ?? 0) === wanted &&
        (status?.readyReplicas ?? 0) === wanted &&
        (status?.replicas ?? 0) === wanted
      );
    }, timeoutMs, 500);
  }

  /** Waits until the Service's EndpointSlices list exactly `count` ready endpoints. */
  async waitForEndpoints(namespace: string, service: string, count: number, timeoutMs = 60_000): Promise<void> {
    await waitFor(`${count} ready endpoints for service ${namespace}/${service}`, async () => {
      return (await this.readyEndpointAddresses(namespace, service)).length === count;
    }, timeoutMs, 250);
  }

  /** On the local cluster: waits until kube-proxy has programmed the ClusterIP (a KUBE-SERVICES rule that
   *  leads to endpoints). Ready endpoints alone do not mean that: kube-proxy syncs a moment later. */
  async waitForServiceProxied(clusterIp: string, timeoutMs = 30_000, nodes?: string[]): Promise<void> {
    if (!this.info) return;
    for (const node of nodes ?? this.info.nodes.map((candidate) => candidate.name)) {
      await waitFor(`kube-proxy of ${node} to program ${clusterIp}`, () => this.serviceProxiedOn(node, clusterIp), timeoutMs, 100);
    }
  }

  private async serviceProxiedOn(node: string, clusterIp: string): Promise<boolean> {
    const nat = await this.runOnNode(node, ['iptables-save', '-t', 'nat']);
    return nat.stdout.split('\n').some((line) => line.startsWith('-A KUBE-SERVICES') && line.includes(`-d ${clusterIp}/32`) && line.includes('-j KUBE-SVC-'));
  }

  async readyEndpointAddresses(namespace: string, service: string): Promise<string[]> {
    const slices = await this.discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
    const addresses: string[] = [];
    for (const slice of slices.items) {
      for (const endpoint of slice.endpoints ?? []) {
        if (endpoint.conditions?.ready !== false) addresses.push(...endpoint.addresses);
      }
    }
    return [...new Set(addresses)];
  }

  /** Starts a long-running pod (default: the probe image sleeping) and waits until it runs. */
  async startPod(options: PodOptions): Promise<V1Pod> {
    await this.core.createNamespacedPod({ namespace: options.namespace, body: this.podManifest(options, 'Always') });
    return this.waitForPodRunning(options.namespace, options.name, options.timeoutMs ?? 60_000);
  }

  async waitForPodRunning(namespace: string, name: string, timeoutMs = 60_000): Promise<V1Pod> {
    return waitFor(`pod ${namespace}/${name} to run`, async () => {
      const pod = await this.core.readNamespacedPod({ name, namespace });
      const ready = pod.status?.containerStatuses?.every((status) => status.ready) ?? false;
      if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') throw new Error(`pod ${namespace}/${name} ended (${pod.status.phase})`);
      return pod.status?.phase === 'Running' && ready ? pod : undefined;
    }, timeoutMs, 250);
  }

  /** Runs a one-shot pod to completion and returns its exit code and logs (stdout and stderr together). */
  async runPod(options: PodOptions): Promise<CommandResult> {
    const { namespace, name } = options;
    await this.core.createNamespacedPod({ namespace, body: this.podManifest(options, 'Never') });
    const pod = await waitFor(`pod ${namespace}/${name} to finish`, async () => {
      const current = await this.core.readNamespacedPod({ name, namespace });
      return current.status?.phase === 'Succeeded' || current.status?.phase === 'Failed' ? current : undefined;
    }, options.timeoutMs ?? 120_000, 250);
    const logs = await this.core.readNamespacedPodLog({ name, namespace });
    const exitCode = pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode ?? -1;
    return { exitCode, stdout: typeof logs === 'string' ? logs : String(logs), stderr: '' };
  }

  private podManifest(options: PodOptions, restartPolicy: 'Always' | 'Never'): V1Pod {
    return {
      metadata: { name: options.name, labels: options.labels ?? {} },
      spec: {
        restartPolicy,
        hostNetwork: options.hostNetwork ?? false,
        terminationGracePeriodSeconds: 0,
        ...placementOn(options.node),
        containers: [{
          name: 'main',
          image: options.image ?? this.probeImage,
          imagePullPolicy: 'IfNotPresent',
          command: options.command ?? ['sleep', 'infinity'],
          securityContext: options.capabilities ? { capabilities: { add: options.capabilities } } : undefined,
        }],
      },
    };
  }

  /** Runs a command in a running container through the API server (kubelet exec), never through a shell
   *  on the host: pass argv, e.g. ['curl', '-s', url]. */
  async exec(namespace: string, pod: string, command: string[], options: { container?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const container = options.container ?? (await this.core.readNamespacedPod({ name: pod, namespace })).spec?.containers[0]?.name ?? 'main';
    const timeoutMs = options.timeoutMs ?? 60_000;
    const status = await new Promise<V1Status>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`exec ${command.join(' ')} in ${namespace}/${pod} timed out after ${timeoutMs} ms`)), timeoutMs);
      new Exec(this.kubeConfig)
        .exec(namespace, pod, container, command, stdout, stderr, null, false, (result) => {
          clearTimeout(timer);
          resolve(result);
        })
        .then((socket) => {
          socket.on('error', (error: Error) => { clearTimeout(timer); reject(error); });
          socket.on('close', () => setTimeout(() => { clearTimeout(timer); reject(new Error(`exec in ${namespace}/${pod} closed without a status`)); }, 2_000));
        })
        .catch((error: unknown) => { clearTimeout(timer); reject(error); });
    });
    // Let the last output chunks drain into the buffers.
    await sleep(20);
    return { exitCode: exitCodeOf(status), stdout: out, stderr: err };
  }

  /** Applies a NetworkPolicy; the undo deletes it. */
  async createNetworkPolicy(namespace: string, policy: V1NetworkPolicy): Promise<Undo> {
    const created = await this.networking.createNamespacedNetworkPolicy({ namespace, body: policy });
    const name = created.metadata?.name ?? '';
    return once(async () => {
      try {
        await this.networking.deleteNamespacedNetworkPolicy({ name, namespace });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    });
  }

  // ------------------------------------------------------------------ node-side lookups

  /** The host pid of a pod's container (its network namespace is the pod's), from containerd. */
  async containerPid(namespace: string, pod: string, container?: string): Promise<number> {
    const info = this.requireLocal('containerPid');
    const current = await this.core.readNamespacedPod({ name: pod, namespace });
    const statuses = current.status?.containerStatuses ?? [];
    const status = container ? statuses.find((candidate) => candidate.name === container) : statuses[0];
    const containerId = status?.containerID?.replace(/^containerd:\/\//, '');
    if (!containerId) throw new Error(`pod ${namespace}/${pod} has no running container${container ? ` ${container}` : ''}`);
    const node = this.node(current.spec?.nodeName);
    const tasks = await runHost(info.ctr, ['--address', node.containerdSocket, '-n', 'k8s.io', 'tasks', 'ls']);
    for (const line of tasks.stdout.split('\n').slice(1)) {
      const [id, pid, state] = line.trim().split(/\s+/);
      if (id === containerId && state === 'RUNNING') return Number(pid);
    }
    throw new Error(`containerd has no running task ${containerId} for pod ${namespace}/${pod}`);
  }

  /** Runs a host binary (ip, iptables, ...) inside a pod's network namespace. */
  async inPodNetns(namespace: string, pod: string, command: string[]): Promise<CommandResult> {
    const pid = await this.containerPid(namespace, pod);
    return runHost('nsenter', ['-t', String(pid), '-n', '--', ...command]);
  }

  // ------------------------------------------------------------------ fault injections

  /** Scales kube-system/coredns to 0 and waits for its pods to go; the undo restores the replica count
   *  and waits until CoreDNS answers again. */
  async scaleCoreDnsToZero(): Promise<Undo> {
    const namespace = 'kube-system';
    const name = 'coredns';
    const deployment = await this.apps.readNamespacedDeployment({ name, namespace });
    const replicas = deployment.spec?.replicas ?? 1;
    await this.apps.patchNamespacedDeploymentScale({ name, namespace, body: { spec: { replicas: 0 } } }, mergePatch);
    await waitFor('CoreDNS pods to terminate', async () => {
      const pods = await this.core.listNamespacedPod({ namespace, labelSelector: 'k8s-app=kube-dns' });
      return pods.items.length === 0;
    }, 60_000, 250);
    return once(async () => {
      await this.apps.patchNamespacedDeploymentScale({ name, namespace, body: { spec: { replicas } } }, mergePatch);
      await this.waitForDeploymentReady(namespace, name, 90_000);
      await this.waitForEndpoints(namespace, 'kube-dns', replicas, 60_000);
      if (this.info) await this.waitForServiceProxied(this.info.dnsServiceIp);
    });
  }

  /** The classic "selector matches no pods": points the Service's selector at a label value no backend
   *  has, so its endpoints empty out while the pods keep running. The undo restores the selector. */
  async mislabelBackends(namespace: string, service: string): Promise<Undo> {
    const current = await this.core.readNamespacedService({ name: service, namespace });
    const selector = { ...(current.spec?.selector ?? {}) };
    const keys = Object.keys(selector);
    if (keys.length === 0) throw new Error(`service ${namespace}/${service} has no selector to break`);
    const broken: Record<string, string> = { ...selector, [keys[0]]: `${selector[keys[0]]}-mislabeled` };
    await this.patchServiceSelector(namespace, service, broken);
    await this.waitForEndpoints(namespace, service, 0, 30_000);
    return once(async () => {
      await this.patchServiceSelector(namespace, service, selector);
      await waitFor(`endpoints of ${namespace}/${service} to come back`, async () => (await this.readyEndpointAddresses(namespace, service)).length > 0, 30_000);
      const clusterIp = current.spec?.clusterIP;
      if (clusterIp && clusterIp !== 'None') await this.waitForServiceProxied(clusterIp);
    });
  }

  private async patchServiceSelector(namespace: string, service: string, selector: Record<string, string>): Promise<V1Service> {
    // A JSON merge patch would merge the maps; a full replacement of spec.selector needs null for removed keys.
    const current = await this.core.readNamespacedService({ name: service, namespace });
    const patch: Record<string, string | null> = {};
    for (const key of Object.keys(current.spec?.selector ?? {})) patch[key] = null;
    Object.assign(patch, selector);
    return this.core.patchNamespacedService({ name: service, namespace, body: { spec: { selector: patch } } }, mergePatch);
  }

  /** A default-deny policy (ingress, egress or both) for the pods a selector picks (default: all). */
  async addDenyAllPolicy(namespace: string, options: { podSelector?: Record<string, string>; types?: ('Ingress' | 'Egress')[]; name?: string } = {}): Promise<Undo> {
    return this.createNetworkPolicy(namespace, {
      metadata: { name: options.name ?? `deny-${randomBytes(3).toString('hex')}` },
      spec: { podSelector: { matchLabels: options.podSelector ?? {} }, policyTypes: options.types ?? ['Ingress'] },
    });
  }

  /** Sets the MTU of an interface inside a pod's network namespace (nsenter); the undo restores it. */
  async lowerPodMtu(namespace: string, pod: string, mtu: number, device = 'eth0'): Promise<Undo> {
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new Error(`invalid MTU ${mtu}`);
    const shown = await this.inPodNetns(namespace, pod, ['ip', '-o', 'link', 'show', 'dev', device]);
    const original = Number(/ mtu (\d+)/.exec(shown.stdout)?.[1]);
    if (!original) throw new Error(`cannot read the MTU of ${device} in ${namespace}/${pod}: ${shown.stdout}`);
    const pid = await this.containerPid(namespace, pod);
    await runHost('nsenter', ['-t', String(pid), '-n', '--', 'ip', 'link', 'set', 'dev', device, 'mtu', String(mtu)]);
    return once(async () => {
      // The pod may be gone by now; then there is nothing to restore.
      const result = await runHost('nsenter', ['-t', String(pid), '-n', '--', 'ip', 'link', 'set', 'dev', device, 'mtu', String(original)], { allowFailure: true });
      if (result.exitCode !== 0 && existsSync(`/proc/${pid}`)) throw new Error(`restoring the MTU failed: ${result.stderr}`);
    });
  }

  /**
   * Drops traffic with an iptables rule; the undo deletes exactly that rule.
   *  - inside a pod: `{ pod: { namespace, name }, direction: 'ingress' | 'egress' }` adds the rule to the pod's
   *    own INPUT/OUTPUT chain (nothing else on the node is affected);
   *  - on the node: without `pod`, the rule goes into the mangle table's FORWARD chain (or `hook`), after the
   *    guard and ahead of kube-proxy's and the policy enforcer's filter rules, so nothing can ACCEPT it first.
   */
  async dropTraffic(rule: DropRule): Promise<Undo> {
    const matches: string[] = [];
    if (rule.protocol && rule.protocol !== 'all') matches.push('-p', rule.protocol);
    if (rule.source) matches.push('-s', rule.source);
    if (rule.destination) matches.push('-d', rule.destination);
    if (rule.port !== undefined) {
      if (rule.protocol !== 'tcp' && rule.protocol !== 'udp') throw new Error('a port needs protocol tcp or udp');
      matches.push('--dport', String(rule.port));
    }
    const tag = `${FAULT_RULE_COMMENT}-${randomBytes(4).toString('hex')}`;
    const spec = [...matches, '-m', 'comment', '--comment', tag, '-j', 'DROP'];
    if (rule.pod) {
      const chain = rule.direction === 'egress' ? 'OUTPUT' : 'INPUT';
      const pid = await this.containerPid(rule.pod.namespace, rule.pod.name);
      await runHost('nsenter', ['-t', String(pid), '-n', '--', 'iptables', '-w', '-I', chain, '1', ...spec]);
      return once(async () => {
        const result = await runHost('nsenter', ['-t', String(pid), '-n', '--', 'iptables', '-w', '-D', chain, ...spec], { allowFailure: true });
        if (result.exitCode !== 0 && existsSync(`/proc/${pid}`)) throw new Error(`removing the DROP rule failed: ${result.stderr}`);
      });
    }
    this.requireLocal('dropTraffic on the node');
    const hook = rule.hook ?? 'FORWARD';
    await this.runOnNode(rule.node, ['iptables', '-w', '-t', 'mangle', '-A', hook, ...spec]);
    return once(async () => {
      await this.runOnNode(rule.node, ['iptables', '-w', '-t', 'mangle', '-D', hook, ...spec], { allowFailure: true });
    });
  }

  /**
   * Stops kube-proxy. With flushRules (default true) its iptables rules are removed too (`kube-proxy
   * --cleanup`), as after a node reboot with kube-proxy down: Service IPs then lead nowhere. Without it,
   * the last programmed rules stay and only new Services/endpoints go unprogrammed.
   * The undo starts kube-proxy again and waits until it is healthy and its rules are back.
   */
  async stopKubeProxy(options: { flushRules?: boolean; node?: string } = {}): Promise<Undo> {
    const info = this.requireLocal('stopKubeProxy');
    const node = this.node(options.node);
    const component = `kube-proxy${node.componentSuffix}`;
    await runHost('bash', [info.componentScript, 'stop', component]);
    if (options.flushRules ?? true) {
      const kubeProxy = join(dirname(info.kubectl), 'kube-proxy');
      await this.runOnNode(node.name, [kubeProxy, '--cleanup'], { allowFailure: true });
    }
    return once(async () => {
      await runHost('bash', [info.componentScript, 'start', component]);
      await waitFor(`kube-proxy of ${node.name} to be healthy with its rules programmed`, async () => {
        const health = await this.runOnNode(node.name, ['curl', '-fsS', '--max-time', '1', 'http://127.0.0.1:10256/healthz'], { allowFailure: true });
        return health.exitCode === 0 && this.serviceProxiedOn(node.name, info.dnsServiceIp);
      }, 60_000, 250);
    });
  }

  /**
   * Sets net.ipv4.ip_forward=0 on the node. It has an effect on routed pod traffic: a pod reaching a
   * ClusterIP (kube-proxy DNATs it, then the host must route it back into the bridge) and anything
   * leaving the pod subnet. Pod-to-pod traffic on the same bridge is switched, not routed, and still
   * works. Note: the CNI bridge plugin turns forwarding back on whenever it wires a new pod, so create
   * the pods first. The undo restores the previous value.
   */
  async disableIpForwarding(options: { node?: string } = {}): Promise<Undo> {
    this.requireLocal('disableIpForwarding');
    const previous = (await this.runOnNode(options.node, ['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim();
    await this.runOnNode(options.node, ['sysctl', '-qw', 'net.ipv4.ip_forward=0']);
    return once(async () => {
      await this.runOnNode(options.node, ['sysctl', '-qw', `net.ipv4.ip_forward=${previous}`]);
    });
  }

  /**
   * Sets net.bridge.bridge-nf-call-iptables=0 on the node. br_netfilter's switches are per network
   * namespace (since Linux 5.3; checked on this kernel), so this acts on that node only. It has an effect
   * where a reply is bridged: a pod reaching a ClusterIP whose backend sits on the same bridge sends its
   * request through the gateway (routed, DNATed), but the backend answers it directly over the bridge,
   * so without bridge netfilter the reply is never un-DNATed and the client drops it. The undo restores it.
   */
  async disableBridgeNetfilter(options: { node?: string } = {}): Promise<Undo> {
    this.requireLocal('disableBridgeNetfilter');
    const key = 'net.bridge.bridge-nf-call-iptables';
    const previous = (await this.runOnNode(options.node, ['sysctl', '-n', key])).stdout.trim();
    await this.runOnNode(options.node, ['sysctl', '-qw', `${key}=0`]);
    return once(async () => {
      await this.runOnNode(options.node, ['sysctl', '-qw', `${key}=${previous}`]);
    });
  }

  /**
   * Deletes kube-proxy's rules for one ClusterIP on a node (the KUBE-SERVICES jumps and their KUBE-SVC
   * chains) while kube-proxy keeps running, paused with SIGSTOP: kube-proxy rewrites KUBE-SERVICES on any
   * Service or EndpointSlice change in the cluster, and a rewrite that names the missing chain fails and
   * forces a full sync, which would put the chain back within a second. Paused, it cannot (a wedged
   * kube-proxy, with someone's iptables-restore having dropped its chain). The undo resumes and restarts
   * it (a full sync) and waits until the rule is back.
   */
  async deleteServiceChain(clusterIp: string, options: { node?: string } = {}): Promise<Undo> {
    const info = this.requireLocal('deleteServiceChain');
    const node = this.node(options.node);
    const component = `kube-proxy${node.componentSuffix}`;
    const pid = readFileSync(join(info.clusterDir, 'run', `${component}.pid`), 'utf8').trim();
    await runHost('kill', ['-STOP', pid]);
    const resume = once(async () => {
      await runHost('kill', ['-CONT', pid], { allowFailure: true });
      await runHost('bash', [info.componentScript, 'stop', component]);
      await runHost('bash', [info.componentScript, 'start', component]);
      await waitFor(`kube-proxy of ${node.name} to program ${clusterIp} again`, () => this.serviceProxiedOn(node.name, clusterIp), 60_000, 250);
    });
    try {
      const nat = (await this.runOnNode(node.name, ['iptables-save', '-t', 'nat'])).stdout.split('\n');
      const jumps = nat.filter((line) => line.startsWith('-A KUBE-SERVICES ') && line.includes(`-d ${clusterIp}/32 `) && / -j KUBE-SVC-/.test(line));
      if (jumps.length === 0) throw new Error(`no KUBE-SERVICES rule for ${clusterIp} on ${node.name}`);
      const chains = [...new Set(jumps.map((line) => / -j (KUBE-SVC-[A-Z0-9]+)/.exec(line)![1]!))];
      // One iptables-restore transaction: the jumps go first, then the chains they referenced.
      const script = ['*nat', ...jumps.map((line) => line.replace(/^-A /, '-D ')), ...chains.flatMap((chain) => [`-F ${chain}`, `-X ${chain}`]), 'COMMIT', ''].join('\n');
      await this.runOnNodeWithInput(node.name, ['iptables-restore', '-w', '--noflush'], script);
    } catch (error) {
      await resume();
      throw error;
    }
    return resume;
  }

  /**
   * Fills a node's conntrack table: nf_conntrack_max lowered below the node's entry count, so the node
   * drops every new connection ("nf_conntrack: table full"). The count is per network namespace, but the
   * kernel lets only the initial namespace set the limit, which then holds for every namespace of the
   * machine (checked on this kernel). So the limit goes just above the host's own count (plus headroom:
   * node 1, the API server and other namespaces on this machine keep working), and the node's count is
   * raised above it with assured UDP entries that cannot be evicted early (conntrack -I, in a batch,
   * marked). Only for a node with its own network namespace. The undo restores the limit, then deletes
   * exactly the marked entries.
   */
  async fillConntrackTable(options: { node: string }): Promise<Undo> {
    const node = this.node(options.node);
    if (!node.netns) throw new Error(`fillConntrackTable needs a node with its own network namespace (${node.name} is the host)`);
    const read = async (on: string | undefined, key: string) => Number((await this.runOnNode(on, ['sysctl', '-n', key])).stdout.trim());
    const previousMax = await read(undefined, 'net.netfilter.nf_conntrack_max');
    const limit = (await read(undefined, 'net.netfilter.nf_conntrack_count')) + CONNTRACK_HEADROOM;
    if (limit >= previousMax) throw new Error(`the host's conntrack table is too full to leave headroom (limit ${previousMax})`);
    const extra = limit + 200 - (await read(node.name, 'net.netfilter.nf_conntrack_count'));
    const entries = Array.from({ length: Math.max(0, extra) }, (_, i) =>
      `-I -p udp -s 198.51.100.1 -d 198.51.100.2 --sport ${1024 + (i % 60_000)} --dport ${9 + Math.floor(i / 60_000)} -t 900 -u ASSURED,SEEN_REPLY -m ${CONNTRACK_FILL_MARK}`);
    const file = join(mkdtempSync(join(tmpdir(), 'netcheck-conntrack-')), 'entries');
    writeFileSync(file, `${entries.join('\n')}\n`);
    const undo = once(async () => {
      await runHost('sysctl', ['-qw', `net.netfilter.nf_conntrack_max=${previousMax}`]);
      await this.runOnNode(node.name, ['conntrack', '-D', '-m', String(CONNTRACK_FILL_MARK)], { allowFailure: true });
      rmSync(dirname(file), { recursive: true, force: true });
    });
    try {
      await this.runOnNode(node.name, ['conntrack', '-R', file]);
      await runHost('sysctl', ['-qw', `net.netfilter.nf_conntrack_max=${limit}`]);
    } catch (error) {
      await undo();
      throw error;
    }
    return undo;
  }

  /** runOnNode with text on stdin. */
  private async runOnNodeWithInput(nodeName: string, command: string[], input: string): Promise<void> {
    const node = this.node(nodeName);
    const argv = node.netns ? ['nsenter', `--net=/run/netns/${node.netns}`, '--', ...command] : command;
    await new Promise<void>((resolve, reject) => {
      const child = execFile(argv[0]!, argv.slice(1), { timeout: 30_000 }, (error, _stdout, stderr) => (error ? reject(new Error(`${argv.join(' ')}: ${stderr || error.message}`)) : resolve()));
      child.stdin!.end(input);
    });
  }

  /**
   * Removes node 1's route to another node's pod CIDR (over the overlay device, or via the node's address
   * without one), as when a CNI's routes break: node 1's pods can no longer reach that node's pods, while
   * traffic within each node still works. The undo puts the route back exactly as it was.
   */
  async removeNodeRoute(nodeName: string): Promise<Undo> {
    const node = this.node(nodeName);
    if (!node.netns) throw new Error(`${node.name} is the host itself: its pods are reached through the bridge, not a route`);
    const shown = (await runHost('ip', ['-o', 'route', 'show', node.podCidr])).stdout.trim();
    if (!shown) throw new Error(`node 1 has no route to ${node.podCidr}`);
    await runHost('ip', ['route', 'del', node.podCidr]);
    return once(async () => {
      await runHost('ip', ['route', 'replace', ...shown.split(/\s+/)]);
    });
  }
}

export interface DropRule {
  /** Drop inside this pod's network namespace instead of on the node. */
  pod?: { namespace: string; name: string };
  /** For a pod: 'ingress' (its INPUT chain, default) or 'egress' (OUTPUT). */
  direction?: 'ingress' | 'egress';
  /** For the node: the mangle chain to use (default FORWARD, which pod-to-pod and pod-to-Service traffic crosses). */
  hook?: 'FORWARD' | 'INPUT' | 'OUTPUT' | 'PREROUTING';
  /** For the node: which node (default node 1, the host). */
  node?: string;
  protocol?: 'tcp' | 'udp' | 'icmp' | 'all';
  source?: string;
  destination?: string;
  port?: number;
}

/** fillConntrackTable's limit is the host's entry count plus this. */
const CONNTRACK_HEADROOM = 2000;
/** The conntrack mark of fillConntrackTable's entries ("NC"), by which its undo deletes them. */
const CONNTRACK_FILL_MARK = 0x4e43;

/** Wraps an undo so that calling it twice does the work once. */
/** Runs, newest first, every undo the list still holds. */
export async function undoAll(undos: Undo[]): Promise<void> {
  while (undos.length > 0) await undos.pop()!();
}

/**
 * A suite's list of fault undos: drained after each test, and once more after the suite (before the
 * suite's own after hooks registered later), for faults a failed hook left behind.
 */
export function useUndos(): Undo[] {
  const undos: Undo[] = [];
  afterEach(() => undoAll(undos));
  after(() => undoAll(undos));
  return undos;
}

export function once(undo: () => Promise<void>): Undo {
  let done: Promise<void> | undefined;
  return () => (done ??= undo());
}

function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((candidate) => candidate.reason === 'ExitCode');
  if (cause?.message !== undefined) return Number(cause.message);
  throw new Error(`exec failed: ${status.message ?? JSON.stringify(status)}`);
}

function selectorText(labels: Record<string, string>): string {
  return Object.entries(labels).map(([key, value]) => `${key}=${value}`).join(',');
}
