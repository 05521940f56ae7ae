// The operator as the end-to-end tests run it: in this process, against the local cluster, with
// real probe pods and the real diagnosis; and a small client for the checks it reconciles.
import { ApiextensionsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../../operator/api/schema.ts';
import type { NetworkCheck, NetworkCheckSpec } from '../../operator/api/types.generated.ts';
import { Manager } from '../../operator/controller/manager.ts';
import { createDiagnose } from '../../operator/diagnosis/index.ts';
import { createLogger, silentLogger } from '../../operator/log.ts';
import { PodProbeStage } from '../../operator/probe/pods.ts';
import { defaultProbePolicy, type ProbePolicy } from '../../operator/probe/policy.ts';
import { NODE_DIAGNOSTICS_OFF, type NodeDiagnosticsSettings } from '../../operator/probe/node-inspection.ts';
import { waitFor, type TestCluster } from './cluster.ts';

export { GROUP, PLURAL, VERSION };
export const OPERATOR_NAMESPACE = 'netcheck-system';

/**
 * The probe image pinned by digest, as an operator should run it: `<tag>@sha256:<manifest digest>`
 * of the image the local cluster imported (up.sh names it by digest too), read from the node.
 */
export async function pinnedProbeImage(cluster: TestCluster): Promise<string> {
  const tag = cluster.probeImage;
  const repository = tag.slice(0, tag.lastIndexOf(':'));
  const node = await cluster.core.readNode({ name: cluster.info!.nodeName });
  const byDigest = (node.status?.images ?? []).flatMap((image) => image.names ?? []).find((name) => name.startsWith(`${repository}@sha256:`));
  if (!byDigest) throw new Error(`node ${cluster.info!.nodeName} has no ${repository}@sha256:... image (up.sh tags imported images by digest)`);
  return `${tag}${byDigest.slice(repository.length)}`;
}

/**
 * Installs the CRD, creates the operator's namespace, and starts a Manager watching `namespaces`,
 * with the probe image pinned by digest (the default policy allows only it) unless `policy` widens it,
 * and node inspection next to the probe when `nodeDiagnostics` asks for it (default Off).
 */
export async function startClusterOperator(cluster: TestCluster, namespaces: string[], policy: Partial<ProbePolicy> = {},
  nodeDiagnostics: NodeDiagnosticsSettings = NODE_DIAGNOSTICS_OFF): Promise<Manager> {
  cluster.installNetworkCheckCrd();
  try { await cluster.core.createNamespace({ body: { metadata: { name: OPERATOR_NAMESPACE } } }); } catch { /* exists */ }
  const image = await pinnedProbeImage(cluster);
  const probePolicy = { ...defaultProbePolicy(image), ...policy };
  const manager = new Manager({
    kubeConfig: cluster.kubeConfig,
    log: process.env.TEST_LOG ? createLogger('debug') : silentLogger(),
    namespaces,
    workers: 2,
    nodeSourceNamespaces: [OPERATOR_NAMESPACE],
    operatorNamespace: OPERATOR_NAMESPACE,
    probePolicy,
    nodeDiagnostics,
    stage: new PodProbeStage({
      core: cluster.core, crds: cluster.kubeConfig.makeApiClient(ApiextensionsV1Api), operatorNamespace: OPERATOR_NAMESPACE, policy: probePolicy,
      nodeInspection: nodeDiagnostics.mode !== 'Off',
    }),
    diagnose: createDiagnose(cluster.kubeConfig, { probeImage: image }),
  });
  await manager.start();
  await manager.waitForSync();
  return manager;
}

/** NetworkChecks of one namespace. */
export class CheckClient {
  readonly custom: CustomObjectsApi;
  readonly namespace: string;

  constructor(cluster: TestCluster, namespace: string) {
    this.custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    this.namespace = namespace;
  }

  async get(name: string): Promise<NetworkCheck> {
    return await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL, name }) as NetworkCheck;
  }

  async create(name: string, spec: NetworkCheckSpec): Promise<void> {
    await this.custom.createNamespacedCustomObject({
      group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL,
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'NetworkCheck', metadata: { name, namespace: this.namespace }, spec },
    });
  }

  #counter = 0;

  /** Creates a check named `<prefix>-<n>` and waits until its first run completed. */
  async run(prefix: string, spec: NetworkCheckSpec, timeoutMs = 180_000): Promise<NetworkCheck> {
    const name = `${prefix}-${++this.#counter}`;
    await this.create(name, spec);
    return this.completedRun(name, undefined, timeoutMs);
  }

  /** Waits until a run of `generation` (default: the current one) has completed. */
  completedRun(name: string, generation?: number, timeoutMs = 120_000): Promise<NetworkCheck> {
    return waitFor(`a completed run of ${name}`, async () => {
      const check = await this.get(name);
      const run = check.status?.lastRun;
      return run?.completionTime && run.generation === (generation ?? check.metadata?.generation) ? check : undefined;
    }, timeoutMs, 250);
  }
}

/** "Unhealthy/CNI/OverlayBroken: <summary>", for assertion messages. */
export function describeCheck(check: NetworkCheck): string {
  return `${check.status?.result}/${check.status?.failedLayer}/${check.status?.reason}: ${check.status?.summary}`;
}
