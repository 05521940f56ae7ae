// The world integration tests give the controller on a real API server that has no kubelet and no
// controller-manager: the operator's RBAC (config/), a namespace, a node, a Running source pod
// "web", a Service "backend" with one ready backend (its EndpointSlice written by hand) and a Service
// "no-backends" with none; and the controller itself, running as the operator's ServiceAccount with a
// probe stage stubbed at its interface. Shared by the schedule and GitOps-health tests.
import { execFile } from 'node:child_process';
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../../operator/api/schema.ts';
import type { NetworkCheck, NetworkCheckSpec } from '../../operator/api/types.generated.ts';
import { Manager } from '../../operator/controller/manager.ts';
import { createDiagnose } from '../../operator/diagnosis/index.ts';
import { createLogger, silentLogger } from '../../operator/log.ts';
import { binaries, type ControlPlane } from './apiserver.ts';
import { buildEndpointSlice, buildNode, buildPod } from './builders.ts';
import { waitFor } from './cluster.ts';
import type { StubProbeStage } from './stub-stage.ts';

export interface StubWorldOptions {
  namespace: string;
  node: string;
  nodeIP: string;
  /** The first three octets of the node's pod /24, e.g. '10.244.7': web is .10, backend-1 is .21. */
  podNet: string;
}

export class StubWorld {
  readonly namespace: string;
  readonly node: string;
  readonly kubeConfig: KubeConfig;
  /** The operator's ServiceAccount, with exactly the rules of config/rbac. */
  readonly operatorKubeConfig: KubeConfig;
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;
  private readonly plane: ControlPlane;

  private constructor(plane: ControlPlane, options: StubWorldOptions) {
    this.plane = plane;
    this.namespace = options.namespace;
    this.node = options.node;
    this.kubeConfig = plane.kubeConfig();
    this.custom = this.kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = this.kubeConfig.makeApiClient(CoreV1Api);
    this.operatorKubeConfig = plane.userKubeConfig('system:serviceaccount:netcheck-system:netcheck-operator', ['system:serviceaccounts', 'system:serviceaccounts:netcheck-system', 'system:authenticated']);
  }

  static async create(plane: ControlPlane, options: StubWorldOptions): Promise<StubWorld> {
    const deployed = plane.kubectl(['apply', '--server-side', '-k', 'config/']);
    if (deployed.code !== 0) throw new Error(`kubectl apply -k config/ failed: ${deployed.stderr}`);
    plane.kubectl(['create', 'namespace', options.namespace]);
    const world = new StubWorld(plane, options);
    const { namespace, node, podNet } = options;
    await world.core.createNode({ body: buildNode(node, { internalIP: options.nodeIP, podCIDR: `${podNet}.0/24` }) });
    await world.createRunningPod(buildPod('web', { namespace, labels: { app: 'web' }, ip: `${podNet}.10`, nodeName: node }));
    await world.createRunningPod(buildPod('backend-1', { namespace, labels: { app: 'backend' }, ip: `${podNet}.21`, nodeName: node, ports: [{ containerPort: 8080, name: 'http' }] }));
    await world.core.createNamespacedService({ namespace, body: { metadata: { name: 'backend', namespace }, spec: { selector: { app: 'backend' }, ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }] } } });
    await world.kubeConfig.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({ namespace, body: buildEndpointSlice('backend', namespace, [{ ip: `${podNet}.21`, nodeName: node, podName: 'backend-1' }], [{ port: 8080, name: 'http' }]) });
    await world.core.createNamespacedService({ namespace, body: { metadata: { name: 'no-backends', namespace }, spec: { selector: { app: 'nothing' }, ports: [{ port: 8080, targetPort: 8080, protocol: 'TCP' }] } } });
    return world;
  }

  /** The controller as the operator's ServiceAccount, with the stubbed stage and the real diagnosis. */
  async startOperator(stage: StubProbeStage): Promise<Manager> {
    const manager = new Manager({
      kubeConfig: this.operatorKubeConfig, log: process.env.TEST_LOG ? createLogger('debug') : silentLogger(), stage,
      diagnose: createDiagnose(this.operatorKubeConfig), namespaces: [this.namespace], workers: 4,
    });
    await manager.start();
    await manager.waitForSync();
    return manager;
  }

  async stop(): Promise<void> {
    await this.core.deleteNode({ name: this.node }).catch(() => undefined);
  }

  /** A pod as a kubelet would have it: created, then its status written through the status subresource. */
  async createRunningPod(pod: V1Pod): Promise<void> {
    const { status, ...withoutStatus } = pod;
    await this.core.createNamespacedPod({ namespace: this.namespace, body: withoutStatus });
    const current = await this.core.readNamespacedPod({ name: pod.metadata!.name!, namespace: this.namespace });
    current.status = status;
    await this.core.replaceNamespacedPodStatus({ name: pod.metadata!.name!, namespace: this.namespace, body: current });
  }

  /** A check from web to backend:8080 unless `spec` says otherwise. */
  async createCheck(name: string, spec: Partial<NetworkCheckSpec> = {}): Promise<void> {
    const body = {
      apiVersion: `${GROUP}/${VERSION}`, kind: 'NetworkCheck', metadata: { name, namespace: this.namespace },
      spec: { source: { pod: 'web' }, destination: { service: 'backend', port: 8080 }, ...spec },
    };
    // A just-established CRD answers 429 "storage is (re)initializing" for a moment when a file runs alone.
    await waitFor(`create ${name}`, async () => {
      try {
        await this.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL, body });
        return true;
      } catch (err) {
        if ((err as { code?: number }).code === 429) return undefined;
        throw err;
      }
    }, 30_000, 200);
  }

  async getCheck(name: string): Promise<NetworkCheck> {
    return await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL, name }) as NetworkCheck;
  }

  async patchCheck(name: string, body: unknown): Promise<void> {
    await this.custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL, name, body });
  }

  /** kubectl as a child process: a synchronous call would block the controller running in this process. */
  kubectl(args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string; elapsedMs: number }> {
    const started = Date.now();
    return new Promise((resolve) => {
      execFile(binaries().kubectl, ['--kubeconfig', this.plane.kubeconfigPath, ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, elapsedMs: Date.now() - started });
      });
    });
  }
}
