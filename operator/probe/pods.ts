// Probe pods: built from a NetworkCheck, created per run, observed by label, deleted after.
// Everything user-controlled reaches the probe as environment variables; the command is the
// operator's own fixed program (netcheck-probe.sh), never a user string.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CoreV1Api, V1Container, V1EphemeralContainer, V1Pod, V1OwnerReference } from '@kubernetes/client-node';
import { DEFAULT_PROBE_IMAGE, LABEL_CHECK, LABEL_MANAGED_BY, LABEL_RUN, MANAGED_BY, defaultPort } from '../api/defaults.ts';
import { GROUP, KIND, VERSION } from '../api/schema.ts';
import type { NetworkCheck } from '../api/types.generated.ts';
import { ProbeStartError, type CollectedCapture, type ProbeOutput, type ProbeStage, type RunObservation, type RunRequest } from './stage.ts';
import type { ResolvedSpec } from '../api/defaults.ts';
import { probeEnvironment } from './env.ts';
import {
  DESTINATION_CAPTURE_TARGET_ENV, buildDestinationCaptureContainer, captureEnabled, destinationCaptureContainerName, destinationCaptureTarget,
  destinationCaptureTargets, pcapFromLog, sourceCaptureEnvironment, sourceCaptureTarget,
} from './capture.ts';

/** How long a run waits for destination capture containers to start before probing anyway. */
const DESTINATION_CAPTURE_START_TIMEOUT_MS = 20_000;
const DESTINATION_CAPTURE_SETTLE_MS = 500;
import { parseProbeResult, probeRunBudgetSeconds } from './result.ts';
import { httpStatus } from '../util/http-status.ts';

export const PROBE_SCRIPT_PATH = fileURLToPath(new URL('./netcheck-probe.sh', import.meta.url));

/** Labels a controller sets on its pods; a clone must not carry them (a ReplicaSet would adopt it). */
export const CONTROLLER_OWNED_LABELS = [
  'pod-template-hash', 'controller-revision-hash', 'pod-template-generation',
  'statefulset.kubernetes.io/pod-name', 'apps.kubernetes.io/pod-index',
  'job-name', 'batch.kubernetes.io/job-name', 'controller-uid', 'batch.kubernetes.io/controller-uid', 'batch.kubernetes.io/job-completion-index',
];

/** Container states that mean the probe pod will never run without a human. */
const STUCK_WAITING_REASONS = new Set([
  'ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError',
]);

export interface PodStageOptions {
  core: CoreV1Api;
  /** The operator's namespace: node probes (hostNetwork) run here, never in a tenant's. */
  operatorNamespace: string;
  /** Operator-wide probe image default (flag/env), overridden per check by spec.probe.image. */
  defaultImage?: string;
  /** The probe program; read once at start. */
  script?: string;
}


export function probePodName(check: NetworkCheck, runId: string, index: number): string {
  // <= 63 characters, so the name also fits a hostname and a label value.
  const base = (check.metadata?.name ?? 'check').slice(0, 40).replace(/-+$/, '');
  return `${base}-${runId}-${index}`.slice(0, 63).replace(/-+$/, '');
}

export function ownerReference(check: NetworkCheck): V1OwnerReference {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: KIND, name: check.metadata!.name!, uid: check.metadata!.uid!, controller: true, blockOwnerDeletion: false };
}

/** Builds the probe pods for a run (pure). */
export function buildProbePods(request: RunRequest, options: { operatorNamespace: string; image: string; script: string }): V1Pod[] {
  const { check, spec, runId, targets } = request;
  const namespace = check.metadata!.namespace!;
  const baseLabels = { [LABEL_CHECK]: check.metadata!.name!, [LABEL_RUN]: runId, [LABEL_MANAGED_BY]: MANAGED_BY };
  // Raw sockets: ping for ICMP and for the DF path-MTU steps every connection probe takes, and
  // tcpdump for captures. A DNS-only probe needs neither.
  const capturing = (spec.capture?.when ?? 'Never') !== 'Never';
  const needsRaw = spec.protocol !== 'DNS' || capturing;
  // tcpdump (netshoot's, like most distributions') switches user right after opening the capture
  // socket and refuses to run when it cannot; the probe keeps it as root (-Z root, so that it can
  // still stop it without KILL), and even that switch needs SETUID and SETGID.
  const captureCapabilities = capturing ? ['SETUID', 'SETGID'] : [];
  const container = (env: { name: string; value: string }[], extraCapabilities: string[] = []): V1Container => ({
    name: 'probe',
    image: spec.probe?.image ?? options.image,
    imagePullPolicy: spec.probe?.imagePullPolicy ?? 'IfNotPresent',
    command: ['/bin/bash', '-c', options.script, 'netcheck-probe'],
    env,
    resources: {
      requests: { cpu: '10m', memory: '16Mi', ...(spec.probe?.resources?.requests as Record<string, string> | undefined) },
      limits: { cpu: '200m', memory: '64Mi', ...(spec.probe?.resources?.limits as Record<string, string> | undefined) },
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      // ping (DF path-MTU steps, ICMP checks) and tcpdump need raw sockets; tcpdump also its user switch.
      capabilities: { drop: ['ALL'], add: [...(needsRaw ? ['NET_RAW'] : []), ...captureCapabilities, ...extraCapabilities] },
    },
    terminationMessagePolicy: 'File',
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  });
  const podBase = (name: string, labels: Record<string, string>): V1Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { ...labels, ...baseLabels }, ownerReferences: [ownerReference(check)], annotations: { 'netcheck.dev/source': '' } },
    spec: {
      restartPolicy: 'Never',
      // Each probe step has its own timeout; the deadline bounds the whole program plus start-up.
      activeDeadlineSeconds: probeRunBudgetSeconds(spec.timeoutSeconds) + 30,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 1,
      tolerations: spec.probe?.tolerations,
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '16Mi' } }],
      containers: [],
    },
  });

  const pods: V1Pod[] = [];
  const envFor = (mode: 'pod' | 'node', sourceNode?: string) => {
    const env = probeEnvironment(request, { mode, port: defaultPort(spec), sourceNode });
    const capture = sourceCaptureEnvironment(spec, env);
    // The reconciler refuses a bad capture spec before a run starts (Stalled); this is the backstop.
    if (!capture.ok) throw new ProbeStartError(capture.error);
    return [...env, ...capture.env];
  };
  if (targets.sourcePods.length > 0) {
    targets.sourcePods.forEach((source, index) => {
      const labels = Object.fromEntries(Object.entries(source.metadata?.labels ?? {}).filter(([k]) => !CONTROLLER_OWNED_LABELS.includes(k)));
      const pod = podBase(probePodName(check, runId, index), labels);
      pod.metadata!.annotations = { 'netcheck.dev/source': `${namespace}/${source.metadata?.name}` };
      pod.spec!.nodeName = source.spec?.nodeName;
      pod.spec!.dnsPolicy = source.spec?.dnsPolicy;
      pod.spec!.dnsConfig = source.spec?.dnsConfig;
      pod.spec!.containers = [container(envFor('pod', source.spec?.nodeName))];
      pods.push(pod);
    });
  } else if (spec.source.newPod) {
    const pod = podBase(probePodName(check, runId, 0), spec.source.newPod.labels ?? {});
    pod.metadata!.annotations = { 'netcheck.dev/source': 'newPod' };
    pod.spec!.containers = [container(envFor('pod'))];
    pods.push(pod);
  } else if (targets.sourceNode) {
    // A node probe reads the host's network state: hostNetwork in the operator's namespace, with
    // only fixed operator parameters. It still drops every capability but NET_RAW.
    const pod = podBase(probePodName(check, runId, 0), {});
    pod.metadata!.namespace = options.operatorNamespace;
    pod.metadata!.ownerReferences = undefined; // cross-namespace owners are not allowed; cleaned up by label
    pod.metadata!.labels = { ...baseLabels, 'netcheck.dev/check-namespace': namespace };
    pod.metadata!.annotations = { 'netcheck.dev/source': `node/${targets.sourceNode}` };
    pod.spec!.nodeName = targets.sourceNode;
    pod.spec!.hostNetwork = true;
    pod.spec!.dnsPolicy = 'ClusterFirstWithHostNet';
    pod.spec!.tolerations = [{ operator: 'Exists' }];
    // iptables-save (the node's KUBE-SVC rules) needs NET_ADMIN; only this operator-written pod gets it.
    pod.spec!.containers = [container(envFor('node', targets.sourceNode), ['NET_ADMIN'])];
    pods.push(pod);
  }
  return pods;
}

/** The ephemeral container's name in the source pod: one per run, as ephemeral containers stay. */
export function ephemeralContainerName(runId: string): string {
  return `netcheck-${runId}`.slice(0, 63);
}

/**
 * via: Ephemeral — the probe container to add to each source pod (exact network namespace). It is
 * built from the same template as a probe pod's container; ephemeral containers take no resources
 * and no new volumes, so the program writes to its own (writable) root filesystem.
 */
export function buildEphemeralContainers(request: RunRequest, options: { image: string; script: string }): { pod: V1Pod; container: V1EphemeralContainer }[] {
  return request.targets.sourcePods.map((pod) => {
    // The container a Clone probe for this one source would run: same image, program and environment.
    const [clone] = buildProbePods({ ...request, targets: { ...request.targets, sourcePods: [pod] } }, { operatorNamespace: '', image: options.image, script: options.script });
    const base = clone!.spec!.containers[0]!;
    return {
      pod,
      container: {
        name: ephemeralContainerName(request.runId),
        image: base.image, imagePullPolicy: base.imagePullPolicy, command: base.command, env: base.env,
        terminationMessagePolicy: 'File',
        securityContext: { ...base.securityContext, readOnlyRootFilesystem: false },
      },
    };
  });
}

export class PodProbeStage implements ProbeStage {
  private readonly o: Required<PodStageOptions>;

  constructor(options: PodStageOptions) {
    this.o = { defaultImage: DEFAULT_PROBE_IMAGE, script: readFileSync(PROBE_SCRIPT_PATH, 'utf8'), ...options };
  }

  async start(request: RunRequest): Promise<string[]> {
    await this.startDestinationCaptures(request);
    if (request.spec.source.via === 'Ephemeral' && request.targets.sourcePods.length > 0) return this.startEphemeral(request);
    const pods = buildProbePods(request, { operatorNamespace: this.o.operatorNamespace, image: this.o.defaultImage, script: this.o.script });
    if (pods.length === 0) throw new ProbeStartError('No probe pod could be built for this source.');
    for (const pod of pods) {
      try {
        await this.o.core.createNamespacedPod({ namespace: pod.metadata!.namespace!, body: pod });
      } catch (err) {
        if (httpStatus(err) === 409) continue; // created before a restart: adopt it
        throw new ProbeStartError(`Creating probe pod ${pod.metadata!.namespace}/${pod.metadata!.name} was refused: ${refusalMessage(err)}`);
      }
    }
    return pods.map((p) => p.metadata!.name!);
  }

  /**
   * spec.capture.destination: adds the capture container to each destination pod in the check's
   * namespace and waits (bounded) until they run, so that the probes' first packets are in the
   * captures. A refused or slow capture never fails the run: the status reports the point as failed.
   */
  private async startDestinationCaptures(request: RunRequest): Promise<void> {
    const { capture } = destinationCaptureTargets(request);
    if (capture.length === 0) return;
    const namespace = request.check.metadata!.namespace!;
    const containerName = destinationCaptureContainerName(request.runId);
    const added: string[] = [];
    for (const target of capture) {
      const built = buildDestinationCaptureContainer(request, target, this.o.defaultImage);
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
    for (const { pod, container } of buildEphemeralContainers(request, { image: this.o.defaultImage, script: this.o.script })) {
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
    const container = ephemeralContainerName(runId);
    const pods = await this.o.core.listNamespacedPod({ namespace: check.metadata!.namespace! });
    return pods.items.filter((p) => p.spec?.ephemeralContainers?.some((c) => c.name === container));
  }

  private async runPods(check: NetworkCheck, runId: string): Promise<V1Pod[]> {
    const selector = `${LABEL_RUN}=${runId},${LABEL_CHECK}=${check.metadata!.name}`;
    const namespaces = check.spec.source.node ? [this.o.operatorNamespace] : [check.metadata!.namespace!];
    const lists = await Promise.all(namespaces.map((namespace) => this.o.core.listNamespacedPod({ namespace, labelSelector: selector })));
    return lists.flatMap((l) => l.items).filter((p) => !p.spec?.hostNetwork || p.metadata?.labels?.['netcheck.dev/check-namespace'] === check.metadata!.namespace);
  }

  async observe(check: NetworkCheck, runId: string): Promise<RunObservation> {
    if (usesEphemeralSource(check)) {
      const pods = await this.ephemeralRunPods(check, runId);
      return pods.length === 0 ? { state: 'NotFound' } : this.awaitDestinationCaptures(check, runId, observePods(pods, ephemeralContainerName(runId)));
    }
    const pods = await this.runPods(check, runId);
    if (pods.length === 0) return { state: 'NotFound' };
    return this.awaitDestinationCaptures(check, runId, observePods(pods));
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
    const container = ephemeral ? ephemeralContainerName(runId) : 'probe';
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

  async cleanup(check: NetworkCheck, runId: string): Promise<void> {
    // Ephemeral containers cannot be removed from a pod (why via: Ephemeral is opt-in); they have exited.
    if (usesEphemeralSource(check)) return;
    const pods = await this.runPods(check, runId);
    await Promise.all(pods.map(async (pod) => {
      try {
        await this.o.core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, gracePeriodSeconds: 0 });
      } catch (err) {
        if (httpStatus(err) !== 404) throw err;
      }
    }));
  }
}

/** via: Ephemeral applies to pod sources only; node and newPod sources always get a probe pod. */
function usesEphemeralSource(check: NetworkCheck): boolean {
  return check.spec.source.via === 'Ephemeral' && !check.spec.source.node && !check.spec.source.newPod;
}

/** Pure: what a run's pods say about the run. */
export function observePods(pods: V1Pod[], ephemeralContainer?: string): RunObservation {
  const names = pods.map((p) => p.metadata!.name!);
  const outputs: ProbeOutput[] = [];
  const running: string[] = [];
  for (const pod of pods) {
    const name = pod.metadata!.name!;
    const status = pod.status;
    const containerStatus = ephemeralContainer
      ? status?.ephemeralContainerStatuses?.find((c) => c.name === ephemeralContainer)
      : status?.containerStatuses?.find((c) => c.name === 'probe');
    if (ephemeralContainer && !containerStatus) {
      running.push(`${name} (ephemeral container ${ephemeralContainer} not started yet)`);
      continue;
    }
    const waiting = containerStatus?.state?.waiting;
    if (waiting?.reason && STUCK_WAITING_REASONS.has(waiting.reason)) {
      return { state: 'Failed', pods: names, reason: 'ProbeFailed', message: `Probe pod ${name} cannot start: ${waiting.reason}: ${(waiting.message ?? '').slice(0, 300)}` };
    }
    const unschedulable = status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
    if (unschedulable && !ephemeralContainer) {
      return { state: 'Failed', pods: names, reason: 'ProbeFailed', message: `Probe pod ${name} cannot be scheduled: ${(unschedulable.message ?? '').slice(0, 300)}` };
    }
    const terminated = containerStatus?.state?.terminated;
    if (!ephemeralContainer && status?.phase === 'Failed' && !terminated) {
      return { state: 'Failed', pods: names, reason: 'ProbeFailed', message: `Probe pod ${name} failed: ${status.reason ?? ''} ${(status.message ?? '').slice(0, 300)}`.trim() };
    }
    if (!terminated) {
      running.push(`${name} ${status?.phase ?? 'Pending'}${waiting?.reason ? ` (${waiting.reason})` : ''}`);
      continue;
    }
    const parsed = parseProbeResult(terminated.message ?? '');
    if (!parsed.ok) {
      return { state: 'Failed', pods: names, reason: 'ProbeOutputInvalid', message: `Probe pod ${name} exited ${terminated.exitCode} with invalid output: ${parsed.error}` };
    }
    if (parsed.result.status === 'invalidInput') {
      // The program refused a parameter the operator passed: an operator-side problem, not the network's.
      const refused = parsed.result.errors.map((e) => `${e.param ?? e.probe ?? e.code}: ${e.msg}`).join('; ');
      return { state: 'Failed', pods: names, reason: 'ProbeFailed', message: `Probe pod ${name} refused its parameters: ${refused.slice(0, 300)}` };
    }
    outputs.push({ pod: name, node: pod.spec?.nodeName, result: parsed.result });
  }
  if (running.length > 0) return { state: 'Running', pods: names, detail: `waiting for ${running.join(', ')}` };
  return { state: 'Completed', pods: names, outputs };
}

/** The API server's own words for a refused request (its Status message), cut to 400 characters. */
export function refusalMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  let message = String((err as Error).message);
  if (typeof body === 'string') {
    try { message = (JSON.parse(body) as { message?: string }).message ?? body; } catch { message = body; }
  }
  return message.slice(0, 400);
}

export type { V1Pod };
