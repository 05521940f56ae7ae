// Probe pods: created per run from the template (template.ts), observed by label, deleted after.
// The stage also degrades a run whose pods the cluster refuses the ICMP sysctl (admission, or the
// kubelet's SysctlForbidden): the probe then runs without ICMP, and says so in its result.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ApiextensionsV1Api, CoreV1Api, V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { DEFAULT_PROBE_IMAGE, LABEL_CHECK, LABEL_RUN } from '../api/defaults.ts';
import { GROUP, PLURAL } from '../api/schema.ts';
import type { NetworkCheck } from '../api/types.generated.ts';
import { ProbeStartError, type CollectedCapture, type ProbeStage, type RunObservation, type RunRequest } from './stage.ts';
import type { ResolvedSpec } from '../api/defaults.ts';
import {
  DESTINATION_CAPTURE_TARGET_ENV, buildDestinationCaptureContainer, captureEnabled, destinationCaptureContainerName, destinationCaptureTarget,
  destinationCaptureTargets, pcapFromLog, sourceCaptureTarget,
} from './capture.ts';
import { defaultProbePolicy, type ProbePolicy } from './policy.ts';
import {
  LABEL_CHECK_NAMESPACE, PING_GROUP_SYSCTL, buildEphemeralContainers, buildProbePods, ephemeralContainerName, withoutSysctl, type IcmpBlocked,
} from './template.ts';
import { parseProbeResult } from './result.ts';
import { observePods, refusalMessage } from './observe.ts';
import {
  LABEL_ROLE, NODE_INSPECTION_ROLE, buildNodeInspectionPod, inspectionTargets, isNodeInspectionPod, observeNodeInspections, probesFinishedAt, type NodeInspectionPlan,
} from './node-inspection.ts';
import { httpStatus } from '../util/http-status.ts';

export { ICMP_UNAVAILABLE_REASON, isOperatorNodeProbe, observePods, refusalMessage } from './observe.ts';
export {
  CONTROLLER_OWNED_LABELS, LABEL_CHECK_NAMESPACE, NEVER_READY_GATE, buildEphemeralContainers, buildProbePods, cloneLabels, ephemeralContainerName,
  ownerReference, probePodName,
} from './template.ts';

/** How long a run waits for destination capture containers to start before probing anyway. */
const DESTINATION_CAPTURE_START_TIMEOUT_MS = 20_000;
const DESTINATION_CAPTURE_SETTLE_MS = 500;

export const PROBE_SCRIPT_PATH = fileURLToPath(new URL('./netcheck-probe.sh', import.meta.url));

/** The kubelet's pod status reason for a sysctl it does not allow. */
const SYSCTL_FORBIDDEN = 'SysctlForbidden';

export interface PodStageOptions {
  core: CoreV1Api;
  /** The operator's namespace: node probes (hostNetwork) run here, never in a tenant's. */
  operatorNamespace: string;
  /** The operator's probe image (flag/env); the policy's image when a policy is given. */
  defaultImage?: string;
  /** What checks may ask of their probe pods (image allowlist, tolerations, resource caps). */
  policy?: ProbePolicy;
  /** Reads the NetworkCheck CRD, the owner of node probe pods; without it they have none. */
  crds?: ApiextensionsV1Api;
  /** The probe program; read once at start. */
  script?: string;
  /** Whether runs may have node inspection pods (--node-diagnostics is not Off): observe lists them. */
  nodeInspection?: boolean;
}

/** Whether an API refusal is about a pod's sysctls (an admission policy that forbids them). */
export function isSysctlRefusal(err: unknown): boolean {
  return /sysctl|ping_group_range/i.test(refusalMessage(err));
}

/**
 * The owner of node probe pods. They live in the operator's namespace, and an ownerReference
 * cannot cross namespaces, so the check cannot own them. The NetworkCheck CRD can: it is
 * cluster-scoped (allowed as the owner of a namespaced object), exists wherever the operator runs
 * (in a pod or as a host process), and deleting it deletes every check, so the garbage collector
 * then removes node probes exactly as it removes the checks' own probe pods. A deleted check's
 * node probes are deleted by the operator (PodProbeStage.forget).
 */
export async function crdOwnerReference(crds: ApiextensionsV1Api): Promise<V1OwnerReference> {
  const crd = await crds.readCustomResourceDefinition({ name: `${PLURAL}.${GROUP}` });
  return { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: crd.metadata!.name!, uid: crd.metadata!.uid!, controller: false, blockOwnerDeletion: false };
}

export class PodProbeStage implements ProbeStage {
  private readonly o: Required<Omit<PodStageOptions, 'crds' | 'policy'>> & Pick<PodStageOptions, 'crds'>;
  private readonly policy: ProbePolicy;

  constructor(options: PodStageOptions) {
    this.o = { defaultImage: options.policy?.image ?? DEFAULT_PROBE_IMAGE, script: readFileSync(PROBE_SCRIPT_PATH, 'utf8'), nodeInspection: false, ...options };
    this.policy = options.policy ?? defaultProbePolicy(this.o.defaultImage);
  }

  private template(icmpBlocked?: IcmpBlocked, nodeOwner?: V1OwnerReference) {
    return { operatorNamespace: this.o.operatorNamespace, image: this.policy.image, script: this.o.script, policy: this.policy, icmpBlocked, nodeOwner };
  }

  async start(request: RunRequest): Promise<string[]> {
    const names = await this.startProbes(request);
    // After the probe pods, so that the healthy path never waits for them; their failures are notes, never the run's.
    if (request.nodeInspection) await this.ensureNodeInspections(request.check, request.runId, request.nodeInspection, [], []);
    return names;
  }

  private async startProbes(request: RunRequest): Promise<string[]> {
    await this.startDestinationCaptures(request);
    if (request.spec.source.via === 'Ephemeral' && request.targets.sourcePods.length > 0) return this.startEphemeral(request);
    const nodeOwner = request.targets.sourceNode && this.o.crds ? await this.nodeOwner() : undefined;
    let pods = buildProbePods(request, this.template(undefined, nodeOwner));
    if (pods.length === 0) throw new ProbeStartError('No probe pod could be built for this source.');
    for (let index = 0; index < pods.length; index++) {
      if (await this.createProbePod(pods[index]!)) continue;
      // Refused for its ICMP sysctl: this pod and the rest run without it and report ICMP as not run.
      pods = [...pods.slice(0, index), ...buildProbePods(request, this.template('SysctlRefused', nodeOwner)).slice(index)];
      index--;
    }
    return pods.map((p) => p.metadata!.name!);
  }

  /**
   * Creates the inspection pods the plan asks for that do not exist yet (idempotent: one name per run
   * and node). Returns the nodes whose pod it created, and a note per node whose pod was refused.
   */
  private async ensureNodeInspections(check: NetworkCheck, runId: string, plan: NodeInspectionPlan, runPodNodes: string[], existing: V1Pod[]):
    Promise<{ created: string[]; refused: string[] }> {
    const have = new Set(existing.map((pod) => pod.spec?.nodeName));
    const missing = inspectionTargets(plan, runPodNodes).filter((target) => !have.has(target.node));
    if (missing.length === 0) return { created: [], refused: [] };
    let owner: V1OwnerReference | undefined;
    try {
      owner = this.o.crds ? await this.nodeOwner() : undefined;
    } catch (err) {
      return { created: [], refused: missing.map((target) => `node ${target.node} was not inspected: ${(err as Error).message}`) };
    }
    const options = { operatorNamespace: this.o.operatorNamespace, image: this.policy.image, script: this.o.script, owner };
    const refusals = await Promise.all(missing.map(async (target): Promise<string | undefined> => {
      try {
        await this.o.core.createNamespacedPod({ namespace: this.o.operatorNamespace, body: buildNodeInspectionPod(check, runId, target, options) });
      } catch (err) {
        if (httpStatus(err) !== 409) return `node ${target.node} was not inspected: creating its inspection pod was refused: ${refusalMessage(err)}`;
      }
      return undefined;
    }));
    return {
      created: missing.filter((_, index) => refusals[index] === undefined).map((target) => target.node),
      refused: refusals.filter((note): note is string => note !== undefined),
    };
  }

  /** The run's node inspection pods (operator namespace, hostNetwork, labelled for this check's namespace). */
  private async inspectionPods(check: NetworkCheck, runId: string): Promise<V1Pod[]> {
    const selector = `${LABEL_RUN}=${runId},${LABEL_CHECK}=${check.metadata!.name},${LABEL_CHECK_NAMESPACE}=${check.metadata!.namespace},${LABEL_ROLE}=${NODE_INSPECTION_ROLE}`;
    const listed = await this.o.core.listNamespacedPod({ namespace: this.o.operatorNamespace, labelSelector: selector });
    return listed.items.filter((pod) => isNodeInspectionPod(pod, this.o.operatorNamespace));
  }

  private async nodeOwner(): Promise<V1OwnerReference> {
    try {
      return await crdOwnerReference(this.o.crds!);
    } catch (err) {
      throw new ProbeStartError(`Reading the owner of node probe pods (CustomResourceDefinition ${PLURAL}.${GROUP}) failed: ${refusalMessage(err)}`);
    }
  }

  /**
   * Creates one probe pod: true when it exists now (AlreadyExists: created before a restart, adopt
   * it), false when admission refused it for its sysctl (a pod without one is never refused so),
   * else a ProbeStartError.
   */
  private async createProbePod(pod: V1Pod): Promise<boolean> {
    try {
      await this.o.core.createNamespacedPod({ namespace: pod.metadata!.namespace!, body: pod });
      return true;
    } catch (err) {
      if (httpStatus(err) === 409) return true;
      if (pod.spec?.securityContext?.sysctls?.length && isSysctlRefusal(err)) return false;
      throw new ProbeStartError(`Creating probe pod ${pod.metadata!.namespace}/${pod.metadata!.name} was refused: ${refusalMessage(err)}`);
    }
  }

  /** Replaces the pods the kubelet refused for their sysctl by pods without it (ICMP reported not run). */
  private async replaceSysctlForbidden(pods: V1Pod[]): Promise<V1Pod[]> {
    const kept: V1Pod[] = [];
    for (const pod of pods) {
      if (pod.status?.reason !== SYSCTL_FORBIDDEN || !pod.spec?.securityContext?.sysctls?.length) {
        kept.push(pod);
        continue;
      }
      const replacement = withoutSysctl(pod);
      if (!(await this.createProbePod(replacement))) throw new ProbeStartError(`Creating probe pod ${replacement.metadata!.name} was refused.`);
      await this.o.core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, gracePeriodSeconds: 0 }).catch((err) => {
        if (httpStatus(err) !== 404) throw err;
      });
      if (!pods.some((p) => p.metadata?.name === replacement.metadata!.name)) kept.push(replacement);
    }
    return kept;
  }

  /**
   * spec.capture.destination: adds the capture container to each destination pod in the check's
   * namespace and waits (bounded) until they run, so that the probes' first packets are in the
   * captures. A refused or slow capture never fails the run: the status reports the point as failed.
   */
  private async startDestinationCaptures(request: RunRequest): Promise<void> {
    const { capture } = destinationCaptureTargets(request, this.policy.maxEphemeralPerPod);
    if (capture.length === 0) return;
    const namespace = request.check.metadata!.namespace!;
    const containerName = destinationCaptureContainerName(request.runId);
    const added: string[] = [];
    for (const target of capture) {
      const built = buildDestinationCaptureContainer(request, target, this.policy.image);
      if (!built.ok) throw new ProbeStartError(built.error);
      const name = target.pod.metadata!.name!;
      try {
        const current = await this.o.core.readNamespacedPod({ name, namespace });
        if (!current.spec?.ephemeralContainers?.some((c) => c.name === containerName)) {
          await this.o.core.replaceNamespacedPodEphemeralcontainers({ name, namespace, body: { ...current, spec: { ...current.spec!, ephemeralContainers: [...(current.spec?.ephemeralContainers ?? []), built.container] } } });
        }
        added.push(name);
      } catch {
        // Reported by collectCaptures: the pod has no capture container for this run.
      }
    }
    const deadline = Date.now() + DESTINATION_CAPTURE_START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const pods = await Promise.all(added.map((name) => this.o.core.readNamespacedPod({ name, namespace }).catch(() => undefined)));
      const started = pods.every((pod) => {
        const state = pod?.status?.ephemeralContainerStatuses?.find((c) => c.name === containerName)?.state;
        return !pod || state?.running || state?.terminated;
      });
      if (started) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // tcpdump opens its socket a moment after the container starts.
    await new Promise((resolve) => setTimeout(resolve, DESTINATION_CAPTURE_SETTLE_MS));
  }

  /** Destination pods carrying this run's capture container. */
  private async destinationCapturePods(check: NetworkCheck, runId: string): Promise<V1Pod[]> {
    if (!check.spec.capture?.destination || (check.spec.capture.when ?? 'Never') === 'Never') return [];
    const container = destinationCaptureContainerName(runId);
    const pods = await this.o.core.listNamespacedPod({ namespace: check.metadata!.namespace! });
    return pods.items.filter((p) => p.spec?.ephemeralContainers?.some((c) => c.name === container));
  }

  private async startEphemeral(request: RunRequest): Promise<string[]> {
    const namespace = request.check.metadata!.namespace!;
    for (const { pod, container } of buildEphemeralContainers(request, this.template())) {
      const name = pod.metadata!.name!;
      const current = await this.o.core.readNamespacedPod({ name, namespace });
      if (current.spec?.ephemeralContainers?.some((c) => c.name === container.name)) continue; // added before a restart
      try {
        // The ephemeralcontainers subresource takes the whole list: keep the ones already there.
        await this.o.core.replaceNamespacedPodEphemeralcontainers({ name, namespace, body: { ...current, spec: { ...current.spec!, ephemeralContainers: [...(current.spec?.ephemeralContainers ?? []), container] } } });
      } catch (err) {
        throw new ProbeStartError(`Adding ephemeral probe container ${container.name} to pod ${namespace}/${name} was refused: ${refusalMessage(err)}`);
      }
    }
    return request.targets.sourcePods.map((p) => p.metadata!.name!);
  }

  /** Source pods that carry this run's ephemeral container. */
  private async ephemeralRunPods(check: NetworkCheck, runId: string): Promise<V1Pod[]> {
    const container = ephemeralContainerName(runId, check.metadata!.name!);
    const pods = await this.o.core.listNamespacedPod({ namespace: check.metadata!.namespace! });
    return pods.items.filter((p) => p.spec?.ephemeralContainers?.some((c) => c.name === container));
  }

  private async runPods(check: NetworkCheck, runId: string): Promise<V1Pod[]> {
    const selector = `${LABEL_RUN}=${runId},${LABEL_CHECK}=${check.metadata!.name}`;
    const namespaces = check.spec.source.node ? [this.o.operatorNamespace] : [check.metadata!.namespace!];
    const lists = await Promise.all(namespaces.map((namespace) => this.o.core.listNamespacedPod({ namespace, labelSelector: selector })));
    return lists.flatMap((l) => l.items)
      .filter((p) => !p.spec?.hostNetwork || p.metadata?.labels?.[LABEL_CHECK_NAMESPACE] === check.metadata!.namespace)
      .filter((p) => !isNodeInspectionPod(p, this.o.operatorNamespace));
  }

  async observe(check: NetworkCheck, runId: string, plan?: NodeInspectionPlan): Promise<RunObservation> {
    const ephemeral = usesEphemeralSource(check);
    const probes = ephemeral ? await this.ephemeralRunPods(check, runId) : await this.runPods(check, runId);
    const observation = await this.observeProbes(check, runId, probes, ephemeral);
    if (!this.o.nodeInspection || observation.state === 'NotFound') return observation;
    const inspections = await this.inspectionPods(check, runId);
    // A new pod's node is known once it is scheduled: inspect it too.
    const nodes = probes.map((pod) => pod.spec?.nodeName).filter((node): node is string => Boolean(node));
    const ensured = plan ? await this.ensureNodeInspections(check, runId, plan, nodes, inspections) : { created: [], refused: [] };
    if (observation.state !== 'Completed') return observation;
    const inspected = observeNodeInspections(inspections, this.o.operatorNamespace, ensured.refused);
    const pending = [...inspected.pending, ...ensured.created];
    const finishedAt = probesFinishedAt(probes, ephemeral ? ephemeralContainerName(runId, check.metadata!.name!) : 'probe');
    return { ...observation, nodeInspection: { ...inspected, pending, ...(finishedAt !== undefined ? { probesFinishedAt: finishedAt } : {}) } };
  }

  private async observeProbes(check: NetworkCheck, runId: string, listed: V1Pod[], ephemeral: boolean): Promise<RunObservation> {
    if (ephemeral) {
      return listed.length === 0 ? { state: 'NotFound' } : this.awaitDestinationCaptures(check, runId, observePods(listed, ephemeralContainerName(runId, check.metadata!.name!)));
    }
    let pods: V1Pod[];
    try {
      pods = await this.replaceSysctlForbidden(listed);
    } catch (err) {
      if (!(err instanceof ProbeStartError)) throw err;
      return { state: 'Failed', pods: [], reason: err.reason, message: err.message };
    }
    if (pods.length === 0) return { state: 'NotFound' };
    return this.awaitDestinationCaptures(check, runId, observePods(pods, undefined, this.o.operatorNamespace));
  }

  /** A finished run still waits for destination captures that are running (not for ones that never started). */
  private async awaitDestinationCaptures(check: NetworkCheck, runId: string, observation: RunObservation): Promise<RunObservation> {
    if (observation.state !== 'Completed') return observation;
    const container = destinationCaptureContainerName(runId);
    const capturing = (await this.destinationCapturePods(check, runId))
      .filter((pod) => pod.status?.ephemeralContainerStatuses?.find((c) => c.name === container)?.state?.running)
      .map((pod) => pod.metadata!.name!);
    if (capturing.length === 0) return observation;
    return { state: 'Running', pods: observation.pods, detail: `waiting for the destination capture in ${capturing.join(', ')}` };
  }

  async collectCaptures(check: NetworkCheck, spec: ResolvedSpec, runId: string): Promise<CollectedCapture[]> {
    if (!captureEnabled(spec)) return [];
    const ephemeral = usesEphemeralSource(check);
    const container = ephemeral ? ephemeralContainerName(runId, check.metadata!.name!) : 'probe';
    const pods = ephemeral ? await this.ephemeralRunPods(check, runId) : await this.runPods(check, runId);
    const clientIps = pods.map((pod) => pod.status?.podIP).filter((ip): ip is string => Boolean(ip));
    const sources = await Promise.all(pods.map(async (pod): Promise<CollectedCapture> => {
      const probeContainer = ephemeral ? pod.spec?.ephemeralContainers?.find((c) => c.name === container) : pod.spec?.containers.find((c) => c.name === container);
      const env = (probeContainer?.env ?? []).filter((e): e is { name: string; value: string } => typeof e.value === 'string');
      const collected: CollectedCapture = { point: 'source', pod: pod.metadata!.name!, target: sourceCaptureTarget(spec, env) };
      const statuses = ephemeral ? pod.status?.ephemeralContainerStatuses : pod.status?.containerStatuses;
      const parsed = parseProbeResult(statuses?.find((c) => c.name === container)?.state?.terminated?.message ?? '');
      const reported = parsed.ok ? parsed.result.capture : undefined;
      if (reported?.status === 'failed') return { ...collected, error: reported.err ?? 'tcpdump failed' };
      const read = await this.pcapFromContainerLog(pod, container);
      if (read.state === 'Absent') {
        return { ...collected, error: reported ? `tcpdump captured ${reported.packets ?? 0} packets, but the log holds no pcap` : 'the probe reported no capture' };
      }
      return { ...collected, ...read.capture };
    }));
    const destinationContainer = destinationCaptureContainerName(runId);
    const destinations = await Promise.all((await this.destinationCapturePods(check, runId)).map(async (pod): Promise<CollectedCapture> => {
      const container = pod.spec?.ephemeralContainers?.find((c) => c.name === destinationContainer);
      const [ip, port] = (container?.env?.find((e) => e.name === DESTINATION_CAPTURE_TARGET_ENV)?.value ?? '').split(' ');
      const collected: CollectedCapture = { point: 'destination', pod: pod.metadata!.name!, target: destinationCaptureTarget(spec, ip || undefined, port ? Number(port) : undefined, clientIps) };
      const state = pod.status?.ephemeralContainerStatuses?.find((c) => c.name === destinationContainer)?.state;
      if (!state?.terminated) return { ...collected, error: `the capture container never ran${state?.waiting?.reason ? ` (${state.waiting.reason})` : ''}` };
      const read = await this.pcapFromContainerLog(pod, destinationContainer);
      if (read.state === 'Absent') return { ...collected, error: `tcpdump wrote no capture: ${read.log.trim().split('\n').slice(-2).join(' ').slice(0, 200)}` };
      return { ...collected, ...read.capture };
    }));
    return [...sources, ...destinations];
  }

  /** The pcap a container printed to its log: the capture (pcap or error), or the log when it holds none. */
  private async pcapFromContainerLog(pod: V1Pod, container: string):
    Promise<{ state: 'Read'; capture: { pcap: Uint8Array } | { error: string } } | { state: 'Absent'; log: string }> {
    const name = pod.metadata!.name!;
    let log: string;
    try {
      log = String(await this.o.core.readNamespacedPodLog({ name, namespace: pod.metadata!.namespace!, container }));
    } catch (err) {
      return { state: 'Read', capture: { error: `reading the log of ${name} failed: ${refusalMessage(err)}` } };
    }
    const found = pcapFromLog(log);
    if (found.state === 'Found') return { state: 'Read', capture: { pcap: found.pcap } };
    if (found.state === 'Invalid') return { state: 'Read', capture: { error: found.error } };
    return { state: 'Absent', log };
  }

  async forget(namespace: string, name: string): Promise<void> {
    const selector = `${LABEL_CHECK}=${name},${LABEL_CHECK_NAMESPACE}=${namespace}`;
    const pods = await this.o.core.listNamespacedPod({ namespace: this.o.operatorNamespace, labelSelector: selector });
    await this.deletePods(pods.items.filter((pod) => pod.spec?.hostNetwork));
  }

  private async deletePods(pods: V1Pod[]): Promise<void> {
    await Promise.all(pods.map(async (pod) => {
      try {
        await this.o.core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, gracePeriodSeconds: 0 });
      } catch (err) {
        if (httpStatus(err) !== 404) throw err;
      }
    }));
  }

  async cleanup(check: NetworkCheck, runId: string): Promise<void> {
    // Inspection pods go whatever --node-diagnostics says now (it may have changed since the run started).
    const inspections = await this.inspectionPods(check, runId);
    // Ephemeral containers cannot be removed from a pod (why via: Ephemeral is opt-in); they have exited.
    const probes = usesEphemeralSource(check) ? [] : await this.runPods(check, runId);
    await this.deletePods([...probes, ...inspections]);
  }
}

/** via: Ephemeral applies to pod sources only; node and newPod sources always get a probe pod. */
function usesEphemeralSource(check: NetworkCheck): boolean {
  return check.spec.source.via === 'Ephemeral' && !check.spec.source.node && !check.spec.source.newPod;
}

export type { V1Pod };
