// Node inspection next to the pod probe (--node-diagnostics): while a check's probe tests the path
// from a pod, the operator reads the nodes that path crosses (the source pods' nodes and the
// destination pods' nodes) with the probe program's node mode: ip_forward, bridge netfilter,
// conntrack fill, the kube-proxy mode and, on the source nodes, the Service's rules. Only the node
// can tell these; the pod probe sees only that packets got no answer.
//
// Why it is safe to do for a tenant's check (README "Security"):
//   - a cluster admin turns it on (default Off) and may limit it to some namespaces;
//   - the pod is the operator's alone: its namespace, its image, its fixed program and parameters
//     (node mode, a fixed timeout, the Service's ClusterIP, which the check's author can read); nothing
//     from spec.probe (image, tolerations, resources) and no capture;
//   - it reads the nodes the author's own pods (and the destination's, which they can read) run on,
//     at most MAX_INSPECTED_NODES per run, and the tenant sees only the findings in status;
//   - it is hostNetwork and privileged, so it runs only where Pod Security admits that (else the
//     Node layer says why no inspection ran), and never outlives the run (deleted with the run's pods,
//     bounded by activeDeadlineSeconds, owned by the CRD and deleted when its check is).
// Pure: the plan, the pod and the observation; PodProbeStage creates and deletes the pods.
import { createHash } from 'node:crypto';
import type { V1Namespace, V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { LABEL_CHECK, LABEL_MANAGED_BY, LABEL_RUN, MANAGED_BY, type ResolvedSpec } from '../api/defaults.ts';
import type { NetworkCheck } from '../api/types.generated.ts';
import { observePods } from './observe.ts';
import { DEFAULT_PROBE_LIMITS, DEFAULT_PROBE_REQUESTS } from './policy.ts';
import { ENFORCE_LABEL, admits, enforcedLevel } from './podsecurity.ts';
import { PROBE_ENV, probeRunBudgetSeconds } from './result.ts';
import { RUNTIME_DEFAULT, rootContext } from './security.ts';
import type { NodeInspectionObservation, ProbeOutput, ResolvedTargets } from './stage.ts';
import { LABEL_CHECK_NAMESPACE, NEVER_READY_GATE, PROBE_TMP_VOLUME, programContainer } from './template.ts';

export const NODE_DIAGNOSTICS_MODES = ['Off', 'OnFailure', 'Always'] as const;
/**
 * Off: never. OnFailure: inspection pods start with the probe; a healthy verdict neither waits for
 * them nor reads them, a failing one waits (bounded) and is diagnosed with the node view. Always:
 * every verdict waits for the node view.
 */
export type NodeDiagnosticsMode = (typeof NODE_DIAGNOSTICS_MODES)[number];

export interface NodeDiagnosticsSettings {
  mode: NodeDiagnosticsMode;
  /** Namespaces whose checks get node inspection; ['*'] for every watched namespace. */
  namespaces: string[];
}

export const NODE_DIAGNOSTICS_OFF: NodeDiagnosticsSettings = { mode: 'Off', namespaces: ['*'] };

/** At most this many nodes are inspected per run (privileged pods per run are bounded). */
export const MAX_INSPECTED_NODES = 4;
/** The label that tells an inspection pod from the run's probe pods. */
export const LABEL_ROLE = 'netcheck.dev/role';
export const NODE_INSPECTION_ROLE = 'node-inspection';
/** NETCHECK_TIMEOUT of inspection pods: the operator's, not the check's (each node command has its own 5 s limit). */
export const NODE_INSPECTION_TIMEOUT_SECONDS = 2;
/** How long a finished probe's verdict waits for inspection pods still running. */
export const NODE_INSPECTION_GRACE_MS = 10_000;

/** What a run inspects. The nodes of the pods the run probes from are added as they become known. */
export interface NodeInspectionPlan {
  /** Source nodes known before the run (clones and ephemeral probes sit on their source's node). */
  sourceNodes: string[];
  /** A new pod's node is known once it is scheduled: a slot is kept for it. */
  awaitSourceNode: boolean;
  /** Nodes of the destination pods the probe connects to. */
  destinationNodes: string[];
  /**
   * The Service's ClusterIP, whose rules every inspection reads. They matter on the source nodes (where
   * kube-proxy translates it; the Node layer counts only those), but a new pod may land on a node already
   * inspected as a destination, and one pod per run and node must serve both.
   */
  serviceIp?: string;
  /** Nodes the run's own probe already inspects (a node source). */
  covered: string[];
}

export type NodeInspectionDecision =
  | { kind: 'off' }
  /** Allowed but impossible here; the Node layer says why. */
  | { kind: 'skipped'; note: string }
  | { kind: 'planned'; plan: NodeInspectionPlan };

export interface PlanInput {
  settings: NodeDiagnosticsSettings;
  check: NetworkCheck;
  spec: ResolvedSpec;
  targets: ResolvedTargets;
  operatorNamespace: string;
  /** The operator's namespace object (its Pod Security level), when known. */
  operatorNamespaceObject?: V1Namespace;
}

export function nodeDiagnosticsEnabledFor(settings: NodeDiagnosticsSettings, namespace: string): boolean {
  return settings.mode !== 'Off' && (settings.namespaces.includes('*') || settings.namespaces.includes(namespace));
}

/** Pure: whether and what a run of this check inspects. */
export function planNodeInspection(input: PlanInput): NodeInspectionDecision {
  const { settings, spec, targets } = input;
  if (!nodeDiagnosticsEnabledFor(settings, input.check.metadata?.namespace ?? '')) return { kind: 'off' };
  const level = enforcedLevel(input.operatorNamespaceObject);
  if (!admits(level, 'privileged')) {
    return {
      kind: 'skipped',
      note: `node inspection is enabled, but namespace ${input.operatorNamespace} enforces Pod Security "${level}" (${ENFORCE_LABEL}) and an ` +
        'inspection pod needs hostNetwork and NET_ADMIN ("privileged")',
    };
  }
  const service = targets.destinationService;
  const clusterIP = service?.spec?.clusterIP;
  const serviceIp = clusterIP && clusterIP !== 'None' && service?.spec?.type !== 'ExternalName' ? clusterIP : undefined;
  const probedPods = spec.destination.service ? targets.destinationPods.filter(isReady) : targets.destinationPods;
  return {
    kind: 'planned',
    plan: {
      sourceNodes: spec.source.node ? [] : uniq(targets.sourcePods.map((pod) => pod.spec?.nodeName)),
      awaitSourceNode: Boolean(spec.source.newPod),
      destinationNodes: uniq(probedPods.map((pod) => pod.spec?.nodeName)),
      ...(serviceIp ? { serviceIp } : {}),
      covered: spec.source.node ? [spec.source.node] : [],
    },
  };
}

export interface InspectionTarget {
  node: string;
  serviceIp?: string;
}

/** Pure: the nodes to inspect, source nodes first, given where the run's probe pods are now. */
export function inspectionTargets(plan: NodeInspectionPlan, runPodNodes: string[]): InspectionTarget[] {
  const covered = new Set(plan.covered);
  const sources = uniq([...plan.sourceNodes, ...runPodNodes]).filter((node) => !covered.has(node)).slice(0, MAX_INSPECTED_NODES);
  const slots = MAX_INSPECTED_NODES - Math.max(sources.length, plan.awaitSourceNode && runPodNodes.length === 0 ? 1 : 0);
  const destinations = plan.destinationNodes.filter((node) => !covered.has(node) && !sources.includes(node)).slice(0, Math.max(0, slots));
  return [...sources, ...destinations].map((node) => ({ node, ...(plan.serviceIp ? { serviceIp: plan.serviceIp } : {}) }));
}

/** One pod per run and node, so creating it again (after a restart) is an AlreadyExists. */
export function nodeInspectionPodName(check: NetworkCheck, runId: string, node: string): string {
  const base = (check.metadata?.name ?? 'check').slice(0, 35).replace(/-+$/, '');
  const digest = createHash('sha256').update(node).digest('hex').slice(0, 8);
  return `${base}-${runId}`.slice(0, 53).replace(/-+$/, '') + `-n${digest}`;
}

export interface InspectionPodOptions {
  operatorNamespace: string;
  /** The operator's own probe image (never spec.probe.image). */
  image: string;
  script: string;
  /** The NetworkCheck CRD (an ownerReference cannot cross namespaces). */
  owner?: V1OwnerReference;
}

/** Pure: the inspection pod for one node. Nothing in it comes from the check but names and the ClusterIP. */
export function buildNodeInspectionPod(check: NetworkCheck, runId: string, target: InspectionTarget, options: InspectionPodOptions): V1Pod {
  const env = [
    { name: PROBE_ENV.mode, value: 'node' },
    { name: PROBE_ENV.timeoutSeconds, value: String(NODE_INSPECTION_TIMEOUT_SECONDS) },
    ...(target.serviceIp ? [{ name: PROBE_ENV.serviceIp, value: target.serviceIp }] : []),
  ];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: nodeInspectionPodName(check, runId, target.node),
      namespace: options.operatorNamespace,
      labels: {
        [LABEL_CHECK]: check.metadata!.name!, [LABEL_RUN]: runId, [LABEL_MANAGED_BY]: MANAGED_BY,
        [LABEL_CHECK_NAMESPACE]: check.metadata!.namespace!, [LABEL_ROLE]: NODE_INSPECTION_ROLE,
      },
      annotations: { 'netcheck.dev/source': `node/${target.node}` },
      ...(options.owner ? { ownerReferences: [options.owner] } : {}),
    },
    spec: {
      nodeName: target.node,
      hostNetwork: true,
      restartPolicy: 'Never',
      activeDeadlineSeconds: probeRunBudgetSeconds(NODE_INSPECTION_TIMEOUT_SECONDS) + 30,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      readinessGates: [{ conditionType: NEVER_READY_GATE }],
      terminationGracePeriodSeconds: 1,
      // The node the check's path crosses must be read whatever its taints.
      tolerations: [{ operator: 'Exists' }],
      securityContext: { seccompProfile: RUNTIME_DEFAULT },
      volumes: [PROBE_TMP_VOLUME],
      containers: [programContainer({
        image: options.image, imagePullPolicy: 'IfNotPresent', script: options.script, env,
        resources: { requests: { ...DEFAULT_PROBE_REQUESTS }, limits: { ...DEFAULT_PROBE_LIMITS } },
        // iptables-save and ipvsadm need NET_ADMIN, iptables-legacy NET_RAW.
        securityContext: rootContext(['NET_RAW', 'NET_ADMIN']),
      })],
    },
  };
}

export function isNodeInspectionPod(pod: V1Pod, operatorNamespace: string): boolean {
  return pod.metadata?.namespace === operatorNamespace && pod.spec?.hostNetwork === true && pod.metadata?.labels?.[LABEL_ROLE] === NODE_INSPECTION_ROLE;
}

/**
 * Pure: what the inspection pods say. A failed inspection never fails the run: it is a note.
 * `notCreated` are the nodes whose pod the API refused (quota, admission), with its words.
 */
export function observeNodeInspections(pods: V1Pod[], operatorNamespace: string, notCreated: string[] = []): NodeInspectionObservation {
  const outputs: ProbeOutput[] = [];
  const pending: string[] = [];
  const failed = [...notCreated];
  for (const pod of pods) {
    const node = pod.spec?.nodeName ?? '?';
    const observed = observePods([pod], undefined, operatorNamespace);
    if (observed.state === 'Completed') outputs.push(...observed.outputs);
    else if (observed.state === 'Running') pending.push(node);
    else if (observed.state === 'Failed') failed.push(`node ${node} was not inspected: ${observed.message}`);
  }
  return { outputs, pending, failed };
}

/** When the run's probe containers finished (their finishedAt), for the inspection grace. */
export function probesFinishedAt(pods: V1Pod[], container = 'probe'): number | undefined {
  const times = pods.flatMap((pod) => [...(pod.status?.containerStatuses ?? []), ...(pod.status?.ephemeralContainerStatuses ?? [])])
    .filter((status) => status.name === container)
    .map((status) => new Date(status.state?.terminated?.finishedAt ?? NaN).getTime())
    .filter((time) => Number.isFinite(time));
  return times.length ? Math.max(...times) : undefined;
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && Boolean(pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
}

function uniq(values: (string | undefined)[]): string[] {
  return [...new Set(values.filter((value): value is string => Boolean(value)))];
}
