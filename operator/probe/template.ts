// The probe pod template (pure): what every probe pod and ephemeral probe container looks like.
// Everything user-controlled reaches the probe as environment variables; the command is the
// operator's own fixed program (netcheck-probe.sh), never a user string.
//
// What a probe may do is the least that works (Pod Security "restricted" wherever possible):
//   - a probe runs as a non-root user without any capability; ICMP and the DF path-MTU pings use
//     unprivileged ICMP sockets, allowed by the safe sysctl net.ipv4.ping_group_range;
//   - a capturing probe runs as root with NET_RAW (and SETUID/SETGID for tcpdump's user switch),
//     which only a "privileged" namespace admits: the reconciler refuses it elsewhere beforehand;
//   - a node probe (hostNetwork, in the operator namespace) runs as root with NET_RAW and NET_ADMIN;
//   - no probe pod ever serves traffic (a readiness gate nobody sets, no service links), holds a
//     token, or runs an image, toleration or size the operator's policy does not allow.
import { createHash } from 'node:crypto';
import type { V1Container, V1EphemeralContainer, V1OwnerReference, V1Pod, V1PodSecurityContext, V1ResourceRequirements, V1SecurityContext } from '@kubernetes/client-node';
import { LABEL_CHECK, LABEL_MANAGED_BY, LABEL_RUN, MANAGED_BY, defaultPort } from '../api/defaults.ts';
import { GROUP, KIND, VERSION } from '../api/schema.ts';
import type { NetworkCheck } from '../api/types.generated.ts';
import { sourceCaptureEnvironment } from './capture.ts';
import { probeEnvironment } from './env.ts';
import { defaultProbePolicy, probeImageFor, probeResourcesFor, probeTolerationsFor, type ProbePolicy } from './policy.ts';
import { PROBE_ENV, probeRunBudgetSeconds } from './result.ts';
import { CAPTURE_ROOT_CAPABILITIES, PROBE_USER, RUNTIME_DEFAULT, restrictedContext, rootContext } from './security.ts';
import { ProbeStartError, type RunRequest } from './stage.ts';

export const PING_GROUP_SYSCTL = 'net.ipv4.ping_group_range';
/** A condition no one ever sets: a probe pod is never Ready, so never a ready endpoint of a Service. */
export const NEVER_READY_GATE = 'netcheck.dev/never-ready';
/** On node probe pods (operator namespace): the namespace of the check they belong to. */
export const LABEL_CHECK_NAMESPACE = 'netcheck.dev/check-namespace';

/** Why a probe pod runs without the ping_group_range sysctl (the program reports ICMP as not run). */
export type IcmpBlocked = 'SysctlRefused' | 'SysctlForbidden';

/** Labels a controller sets on its pods; a clone must not carry them (a ReplicaSet would adopt it). */
export const CONTROLLER_OWNED_LABELS = [
  'pod-template-hash', 'controller-revision-hash', 'pod-template-generation',
  'statefulset.kubernetes.io/pod-name', 'apps.kubernetes.io/pod-index',
  'job-name', 'batch.kubernetes.io/job-name', 'controller-uid', 'batch.kubernetes.io/controller-uid', 'batch.kubernetes.io/job-completion-index',
];

export interface TemplateOptions {
  operatorNamespace: string;
  /** The operator's probe image (the policy's, when a policy is given). */
  image: string;
  script: string;
  policy?: ProbePolicy;
  /** The owner of node probe pods, which cannot be the check (cross-namespace owners are not allowed). */
  nodeOwner?: V1OwnerReference;
  icmpBlocked?: IcmpBlocked;
}

export function probePodName(check: NetworkCheck, runId: string, index: number): string {
  // <= 63 characters, so the name also fits a hostname and a label value.
  const base = (check.metadata?.name ?? 'check').slice(0, 40).replace(/-+$/, '');
  return `${base}-${runId}-${index}`.slice(0, 63).replace(/-+$/, '');
}

/** The name of the pod that replaces one the kubelet refused for its sysctl. */
export function withoutSysctlPodName(name: string): string {
  return `${name.slice(0, 61).replace(/-+$/, '')}-u`;
}

export function ownerReference(check: NetworkCheck): V1OwnerReference {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: KIND, name: check.metadata!.name!, uid: check.metadata!.uid!, controller: true, blockOwnerDeletion: false };
}

/** A clone's labels: the source's, minus the ones its controller would adopt it by. */
export function cloneLabels(source: V1Pod): Record<string, string> {
  return Object.fromEntries(Object.entries(source.metadata?.labels ?? {}).filter(([k]) => !CONTROLLER_OWNED_LABELS.includes(k)));
}

function capturing(request: RunRequest): boolean {
  return (request.spec.capture?.when ?? 'Never') !== 'Never';
}

/** Whether the probe program will ping (ICMP checks, and the path-MTU step of connection checks). */
function pings(request: RunRequest): boolean {
  return request.spec.protocol !== 'DNS';
}

/** The container's security context for a pod source (clone, newPod, ephemeral). */
function tenantContext(request: RunRequest, readOnlyRootFilesystem = true): V1SecurityContext {
  return capturing(request) ? rootContext(CAPTURE_ROOT_CAPABILITIES, readOnlyRootFilesystem) : restrictedContext(readOnlyRootFilesystem);
}

function podSecurityContext(request: RunRequest, options: TemplateOptions, hostNetwork: boolean): V1PodSecurityContext {
  if (hostNetwork || capturing(request)) return { seccompProfile: RUNTIME_DEFAULT };
  const sysctls = pings(request) && !options.icmpBlocked ? [{ name: PING_GROUP_SYSCTL, value: `${PROBE_USER} ${PROBE_USER}` }] : undefined;
  return { runAsNonRoot: true, runAsUser: PROBE_USER, runAsGroup: PROBE_USER, seccompProfile: RUNTIME_DEFAULT, ...(sysctls ? { sysctls } : {}) };
}

function probeEnv(request: RunRequest, options: TemplateOptions, mode: 'pod' | 'node', sourceNode?: string): { name: string; value: string }[] {
  const env = probeEnvironment(request, { mode, port: defaultPort(request.spec), sourceNode });
  const capture = sourceCaptureEnvironment(request.spec, env);
  // The reconciler refuses a bad capture spec before a run starts (Stalled); this is the backstop.
  if (!capture.ok) throw new ProbeStartError(capture.error);
  const blocked = options.icmpBlocked && mode === 'pod' ? [{ name: PROBE_ENV.icmpBlocked, value: options.icmpBlocked }] : [];
  return [...env, ...capture.env, ...blocked];
}

function probeContainer(request: RunRequest, options: TemplateOptions, image: string, env: { name: string; value: string }[], securityContext: V1SecurityContext): V1Container {
  return programContainer({ image, imagePullPolicy: request.spec.probe?.imagePullPolicy ?? 'IfNotPresent', script: options.script, env, resources: probeResourcesFor(request.spec), securityContext });
}

/** The probe program's scratch space (readOnlyRootFilesystem): an emptyDir named tmp. */
const PROBE_TMP_MOUNT = '/tmp';
export const PROBE_TMP_VOLUME = { name: 'tmp', emptyDir: { sizeLimit: '16Mi' } };

/** The container that runs the probe program: every probe pod's (and node inspection's) only container. */
export function programContainer(o: { image: string; imagePullPolicy: string; script: string; env: { name: string; value: string }[]; resources: V1ResourceRequirements; securityContext: V1SecurityContext }): V1Container {
  return {
    name: 'probe',
    image: o.image,
    imagePullPolicy: o.imagePullPolicy,
    command: ['/bin/bash', '-c', o.script, 'netcheck-probe'],
    env: o.env,
    resources: o.resources,
    securityContext: o.securityContext,
    terminationMessagePolicy: 'File',
    volumeMounts: [{ name: 'tmp', mountPath: PROBE_TMP_MOUNT }],
  };
}

function podBase(request: RunRequest, options: TemplateOptions, name: string, labels: Record<string, string>, hostNetwork = false): V1Pod {
  const { check, spec, runId } = request;
  const policy = options.policy ?? defaultProbePolicy(options.image);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name, namespace: check.metadata!.namespace!,
      labels: { ...labels, [LABEL_CHECK]: check.metadata!.name!, [LABEL_RUN]: runId, [LABEL_MANAGED_BY]: MANAGED_BY },
      ownerReferences: [ownerReference(check)], annotations: { 'netcheck.dev/source': '' },
    },
    spec: {
      restartPolicy: 'Never',
      // Each probe step has its own timeout; the deadline bounds the whole program plus start-up.
      activeDeadlineSeconds: probeRunBudgetSeconds(spec.timeoutSeconds) + 30,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      readinessGates: [{ conditionType: NEVER_READY_GATE }],
      terminationGracePeriodSeconds: 1,
      tolerations: probeTolerationsFor(spec, policy),
      securityContext: podSecurityContext(request, options, hostNetwork),
      volumes: [PROBE_TMP_VOLUME],
      containers: [],
    },
  };
}

/** Builds the probe pods for a run (pure). */
export function buildProbePods(request: RunRequest, options: TemplateOptions): V1Pod[] {
  const { check, spec, runId, targets } = request;
  const namespace = check.metadata!.namespace!;
  const policy = options.policy ?? defaultProbePolicy(options.image);
  const image = probeImageFor(spec, policy);
  if (targets.sourcePods.length > 0) {
    return targets.sourcePods.map((source, index) => {
      const pod = podBase(request, options, probePodName(check, runId, index), cloneLabels(source));
      pod.metadata!.annotations = { 'netcheck.dev/source': `${namespace}/${source.metadata?.name}` };
      pod.spec!.nodeName = source.spec?.nodeName;
      pod.spec!.dnsPolicy = source.spec?.dnsPolicy;
      pod.spec!.dnsConfig = source.spec?.dnsConfig;
      pod.spec!.containers = [probeContainer(request, options, image, probeEnv(request, options, 'pod', source.spec?.nodeName), tenantContext(request))];
      return pod;
    });
  }
  if (spec.source.newPod) {
    const pod = podBase(request, options, probePodName(check, runId, 0), spec.source.newPod.labels ?? {});
    pod.metadata!.annotations = { 'netcheck.dev/source': 'newPod' };
    pod.spec!.containers = [probeContainer(request, options, image, probeEnv(request, options, 'pod'), tenantContext(request))];
    return [pod];
  }
  if (targets.sourceNode) return [buildNodeProbePod(request, options, policy)];
  return [];
}

/**
 * A node probe reads the host's network state: hostNetwork in the operator's namespace, the
 * operator's own image and fixed parameters. Its owner is options.nodeOwner (see PodProbeStage).
 */
function buildNodeProbePod(request: RunRequest, options: TemplateOptions, policy: ProbePolicy): V1Pod {
  const { check, runId, targets } = request;
  const pod = podBase(request, options, probePodName(check, runId, 0), {}, true);
  pod.metadata!.namespace = options.operatorNamespace;
  pod.metadata!.ownerReferences = options.nodeOwner ? [options.nodeOwner] : undefined;
  pod.metadata!.labels = { ...pod.metadata!.labels, [LABEL_CHECK_NAMESPACE]: check.metadata!.namespace! };
  pod.metadata!.annotations = { 'netcheck.dev/source': `node/${targets.sourceNode}` };
  pod.spec!.nodeName = targets.sourceNode;
  pod.spec!.hostNetwork = true;
  pod.spec!.dnsPolicy = 'ClusterFirstWithHostNet';
  // The operator's pod on a node it was asked to inspect: it must run whatever the node's taints.
  pod.spec!.tolerations = [{ operator: 'Exists' }];
  // iptables-save (the node's KUBE-SVC rules) needs NET_ADMIN; ping NET_RAW (no ICMP sysctl with hostNetwork).
  const capabilities = ['NET_RAW', 'NET_ADMIN', ...(capturing(request) ? ['SETUID', 'SETGID'] : [])];
  pod.spec!.containers = [probeContainer(request, options, policy.image, probeEnv(request, options, 'node', targets.sourceNode), rootContext(capabilities))];
  return pod;
}

/**
 * The ephemeral container's name in the source pod: one per run of one check, as ephemeral containers
 * stay. Run ids are per generation and second, so checks created together share them: the name carries
 * a digest of the check's name too, or one check would read another's probe output from the same pods.
 */
export function ephemeralContainerName(runId: string, checkName: string): string {
  const digest = createHash('sha256').update(checkName).digest('hex').slice(0, 8);
  return `netcheck-${runId}-${digest}`.slice(0, 63);
}

/**
 * via: Ephemeral — the probe container to add to each source pod (exact network namespace). It is
 * built from the same template as a probe pod's container; ephemeral containers take no resources
 * and no new volumes, so the program writes to its own (writable) root filesystem: /dev/shm is
 * mounted noexec, and unprivileged ping runs a copy of the ping binary.
 */
export function buildEphemeralContainers(request: RunRequest, options: Omit<TemplateOptions, 'operatorNamespace'>): { pod: V1Pod; container: V1EphemeralContainer }[] {
  return request.targets.sourcePods.map((pod) => {
    // The container a Clone probe for this one source would run: same image, program and environment.
    const [clone] = buildProbePods({ ...request, targets: { ...request.targets, sourcePods: [pod] } }, { ...options, operatorNamespace: '' });
    const base = clone!.spec!.containers[0]!;
    return {
      pod,
      container: {
        name: ephemeralContainerName(request.runId, request.check.metadata!.name!),
        image: base.image, imagePullPolicy: base.imagePullPolicy, command: base.command, env: base.env,
        terminationMessagePolicy: 'File',
        securityContext: tenantContext(request, false),
      },
    };
  });
}

/** The replacement for a probe pod the kubelet refused for its sysctl (SysctlForbidden): ICMP off. */
export function withoutSysctl(pod: V1Pod): V1Pod {
  const { sysctls: _dropped, ...securityContext } = pod.spec?.securityContext ?? {};
  const containers = (pod.spec?.containers ?? []).map((container) => ({
    ...container,
    env: [...(container.env ?? []).filter((e) => e.name !== PROBE_ENV.icmpBlocked), { name: PROBE_ENV.icmpBlocked, value: 'SysctlForbidden' }],
  }));
  const { uid: _uid, resourceVersion: _rv, creationTimestamp: _ct, managedFields: _mf, generation: _gen, ...metadata } = pod.metadata ?? {};
  const { nodeName, ...spec } = pod.spec!;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { ...metadata, name: withoutSysctlPodName(pod.metadata!.name!) },
    // The node stays for clones (the source's node is the point); newPod placement is the scheduler's again.
    spec: { ...spec, ...(pod.metadata?.annotations?.['netcheck.dev/source'] === 'newPod' ? {} : { nodeName }), securityContext, containers },
  };
}
