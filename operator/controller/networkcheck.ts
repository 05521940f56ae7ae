// The NetworkCheck reconciler. Level-triggered: every call reads the check and the world from the
// caches, derives the whole status, and writes it only when it differs from what is stored.
//
// A run's life, and why it survives restarts:
//   1. the controller decides a run is due and records status.lastRun {id, startTime} FIRST;
//   2. only then does it create the probe pods, whose names derive from the run id (so a second
//      create after a restart is an AlreadyExists, not a duplicate run);
//   3. while lastRun has no completionTime, every reconcile observes the run's pods by label;
//   4. when they finish, the verdict and history are written, then the pods are deleted.
import type { V1Namespace, V1Pod, V1Service } from '@kubernetes/client-node';
import type { Logger } from 'winston';
import {
  ConditionType, Reason, Result, mergeConditions, rfc3339, stalledBeforeProbing, type DesiredCondition, type ResultName,
} from '../api/conditions.ts';
import { ANNOTATION_RUN_NOW, LABEL_CHECK, describeTarget, withDefaults, type ResolvedSpec } from '../api/defaults.ts';
import type { HistoryEntry, NetworkCheck, NetworkCheckStatus, RunRecord } from '../api/types.generated.ts';
import type { Diagnose, Verdict } from '../diagnosis/verdict.ts';
import { probeRunBudgetSeconds } from '../probe/result.ts';
import { ProbeStartError } from '../probe/stage.ts';
import type { CollectedCapture, ProbeStage, ResolvedTargets, RunObservation } from '../probe/stage.ts';
import type { Clock } from './clock.ts';
import { planRun, type RunPlan } from './plan.ts';
import { selectSourcePods, selectorMatches } from './sources.ts';
import { appendHistory, detectTransition } from '../schedule/history.ts';
import { statusEqual } from './status.ts';
import { completedRunConditions, runningConditions, settledConditions, stallConditions } from './health.ts';
import { planCapture, pruneCaptureSecrets, type CaptureStore } from './capture.ts';
import { captureEnabled, destinationCaptureTargets } from '../probe/capture.ts';
import { validateUserFilter } from '../capture/filter.ts';
import { runGuardRefusal } from '../probe/guards.ts';
import { podSecurityRefusal } from '../probe/podsecurity.ts';
import { defaultProbePolicy, probeSpecRefusal, type ProbePolicy } from '../probe/policy.ts';
import { LABEL_CHECK_NAMESPACE, cloneLabels } from '../probe/template.ts';
import { NODE_DIAGNOSTICS_OFF, planNodeInspection, type NodeDiagnosticsSettings, type NodeInspectionDecision } from '../probe/node-inspection.ts';
import { diagnoseWithNodeView } from './node-view.ts';

export interface ReconcileResult { requeueAfterMs?: number }

/** Read access to the informer caches. */
export interface Caches {
  check(key: string): NetworkCheck | undefined;
  pod(namespace: string, name: string): V1Pod | undefined;
  pods(namespace: string): V1Pod[];
  service(namespace: string, name: string): V1Service | undefined;
  /** The Services of a namespace (a clone must not be served by one that publishes not-ready pods). */
  services?(namespace: string): V1Service[];
  /** A namespace, for its Pod Security labels; undefined when unknown. */
  namespace?(name: string): V1Namespace | undefined;
}

export interface StatusWriter {
  /** Writes status with optimistic concurrency on resourceVersion (a 409 on conflict); returns the stored object. */
  writeStatus(check: NetworkCheck, status: NetworkCheckStatus): Promise<NetworkCheck>;
}

export interface EventSink {
  event(check: NetworkCheck, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

/** Told about every finished run (per-check metrics). */
export interface RunObserver {
  runCompleted(check: NetworkCheck, verdict: Verdict, durationMs: number, now: Date): void;
}

export interface ReconcilerOptions {
  caches: Caches;
  writer: StatusWriter;
  stage: ProbeStage;
  diagnose: Diagnose;
  clock: Clock;
  log: Logger;
  events?: EventSink;
  observer?: RunObserver;
  /** Keeps packet captures in Secrets; without it captures are analysed but not stored. */
  captureStore?: CaptureStore;
  /** Namespaces whose checks may use a node source (node probes are privileged). */
  nodeSourceNamespaces: Set<string>;
  /** Where node probes run (its Pod Security level decides whether they can). */
  operatorNamespace?: string;
  /** What checks may ask of their probe pods (image allowlist, tolerations, resource caps). */
  probePolicy?: ProbePolicy;
  /** Node inspection next to the probe (--node-diagnostics); off when absent. */
  nodeDiagnostics?: NodeDiagnosticsSettings;
  /** How often to look at a run in flight when no pod event arrives. */
  runPollMs?: number;
  /** Give up on a run this long after its deadline: the probe pod never reported. */
  runGraceMs?: number;
}

export const LogMessage = {
  StatusWritten: 'Wrote status',
  RunStarted: 'Started run',
  RunCompleted: 'Completed run',
  RunFailed: 'Run failed',
  CleanupFailed: 'Failed to delete probe pods; will retry',
  CaptureStored: 'Stored packet capture',
  CapturePruneFailed: 'Failed to delete an old capture Secret; the check\'s deletion will remove it',
} as const;

type Observation =
  | { kind: 'ok'; targets: ResolvedTargets }
  | { kind: 'stalled'; reason: string; message: string };

export class NetworkCheckReconciler {
  private readonly o: Required<Omit<ReconcilerOptions, 'events' | 'observer' | 'captureStore' | 'operatorNamespace'>> & Pick<ReconcilerOptions, 'events' | 'observer' | 'captureStore' | 'operatorNamespace'>;

  constructor(options: ReconcilerOptions) {
    this.o = { runPollMs: 2_000, runGraceMs: 30_000, probePolicy: defaultProbePolicy(), nodeDiagnostics: NODE_DIAGNOSTICS_OFF, ...options };
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const { caches, clock } = this.o;
    // 1. Load the check from the cache. A deleted check's probe pods carry an ownerReference and the
    //    garbage collector removes them; its node probes (operator namespace) cannot, so they go here.
    const check = caches.check(key);
    if (!check || check.metadata?.deletionTimestamp) return this.forgetNodeProbes(key);
    const generation = check.metadata?.generation ?? 0;
    const spec = withDefaults(check);
    const now = new Date(clock.now());
    const status: NetworkCheckStatus = structuredClone(check.status ?? {});
    status.observedGeneration = generation;
    status.target = describeTarget(check);

    // 2. Validate what the schema cannot; a bad spec is Stalled until the user edits it: no retry loop.
    const plan = planRun(check, now);
    const invalid = this.validate(check, spec, plan);
    if (invalid) return this.stall(check, status, now, invalid);

    // 3. A run in flight: observe it, and finish it when its pods are done.
    const inFlight = status.lastRun?.id && !status.lastRun.completionTime ? status.lastRun : undefined;
    if (inFlight) return this.followRun(check, spec, status, inFlight, now);

    // 4. Observe the source and the destination. Missing ones stall the check; the pod and
    //    Service informers re-queue it when they appear.
    const observed = this.observe(check, spec);
    if (observed.kind === 'stalled') return this.stall(check, status, now, observed, plan.requeueAfterMs);

    // 5. Start a run when one is due, unless it would touch the pods it found unsafely; record it
    //    before creating anything. A stall before probing that has cleared (the source pod is back)
    //    leaves no verdict to keep, so the check runs again unless suspended.
    const recovering = !plan.start && stalledBeforeProbing(status.conditions) && check.spec.suspend !== true;
    if (plan.start || recovering) {
      const unsafe = runGuardRefusal({ spec, namespace: check.metadata?.namespace ?? '', sourcePods: observed.targets.sourcePods, services: caches.services?.(check.metadata?.namespace ?? '') ?? [], cloneLabels, maxEphemeralPerPod: this.o.probePolicy.maxEphemeralPerPod });
      if (unsafe) return this.stall(check, status, now, unsafe, plan.requeueAfterMs);
      return this.startRun(check, spec, status, recovering ? { ...plan, start: true, trigger: RECOVERED_TRIGGER } : plan, observed.targets, now);
    }

    // 6. Nothing to do: keep the last verdict, and wake up for the next scheduled run. Fire times
    //    missed beyond the starting deadline are recorded as handled, never run as a burst.
    status.nextRunTime = plan.nextRunTime;
    if (plan.scheduledTime) status.lastScheduledTime = plan.scheduledTime;
    const lastResult = status.result ?? Result.Pending;
    const conditions = [...settledConditions(status.conditions, status.result, status.summary, generation, plan.suspended), ...this.layers(status)];
    return this.finish(check, status, now, { result: lastResult, reason: status.reason, summary: status.summary, conditions, requeueAfterMs: plan.requeueAfterMs });
  }

  /** A check that cannot be probed: Stalled with the field named, its result Error, until the world or the spec changes. */
  private stall(check: NetworkCheck, status: NetworkCheckStatus, now: Date, refusal: { reason: string; message: string }, requeueAfterMs?: number): Promise<ReconcileResult> {
    const generation = check.metadata?.generation ?? 0;
    return this.finish(check, status, now, {
      result: Result.Error, reason: refusal.reason, summary: refusal.message,
      conditions: stallConditions(refusal.reason, refusal.message, generation), requeueAfterMs,
    });
  }

  private async forgetNodeProbes(key: string): Promise<ReconcileResult> {
    const [namespace = '', name = ''] = key.split('/');
    const operatorNamespace = this.o.operatorNamespace;
    if (!operatorNamespace || !this.o.stage.forget) return {};
    const left = this.o.caches.pods(operatorNamespace).some((pod) => pod.metadata?.labels?.[LABEL_CHECK] === name && pod.metadata?.labels?.[LABEL_CHECK_NAMESPACE] === namespace);
    if (left) await this.o.stage.forget(namespace, name);
    return {};
  }

  private validate(check: NetworkCheck, spec: ResolvedSpec, plan: RunPlan): { reason: string; message: string } | undefined {
    if (plan.error) return { reason: Reason.InvalidSchedule, message: plan.error };
    const namespace = check.metadata?.namespace ?? '';
    if (spec.source.node && !this.o.nodeSourceNamespaces.has(namespace)) {
      return {
        reason: Reason.NodeSourceForbidden,
        message: `spec.source.node: checks in namespace ${namespace} may not probe from a node's host network; ask a cluster admin to create the check in one of: ${[...this.o.nodeSourceNamespaces].join(', ') || '(none configured)'}.`,
      };
    }
    if (captureEnabled(spec) && spec.capture?.filter !== undefined) {
      const filter = validateUserFilter(spec.capture.filter);
      if (!filter.ok) return { reason: Reason.InvalidCaptureFilter, message: `spec.capture.filter: ${filter.error}.` };
    }
    // What the probe pods would be: only what the operator's policy allows, and only what the
    // namespace's Pod Security admits (decided here, before any pod exists).
    const operatorNamespace = this.o.operatorNamespace;
    return probeSpecRefusal(spec, this.o.probePolicy) ??
      podSecurityRefusal(spec, this.o.caches.namespace?.(namespace), operatorNamespace === undefined ? undefined : this.o.caches.namespace?.(operatorNamespace));
  }

  private observe(check: NetworkCheck, spec: ResolvedSpec): Observation {
    const { caches } = this.o;
    const namespace = check.metadata?.namespace ?? 'default';
    const targets: ResolvedTargets = { sourcePods: [], destinationPods: [] };
    const source = spec.source;

    if (source.pod) {
      const pod = caches.pod(namespace, source.pod);
      if (!pod) return { kind: 'stalled', reason: Reason.SourceNotFound, message: `spec.source.pod: pod ${namespace}/${source.pod} was not found; create it or fix the name.` };
      if (pod.status?.phase !== 'Running' || !pod.status?.podIP) {
        return { kind: 'stalled', reason: Reason.SourceNotReady, message: `spec.source.pod: pod ${namespace}/${source.pod} is ${pod.status?.phase ?? 'Unknown'}${pod.status?.podIP ? '' : ' without a pod IP'}; a probe needs a Running source pod.` };
      }
      targets.sourcePods = [pod];
    } else if (source.podSelector || source.workload) {
      const selected = selectSourcePods(caches.pods(namespace), namespace, spec);
      if (selected.kind === 'stalled') return selected;
      targets.sourcePods = selected.pods;
    } else if (source.node) {
      targets.sourceNode = source.node;
    }

    const destination = spec.destination;
    const destNamespace = destination.namespace ?? namespace;
    if (destination.service) {
      const service = caches.service(destNamespace, destination.service);
      if (!service) return { kind: 'stalled', reason: Reason.DestinationNotFound, message: `spec.destination.service: Service ${destNamespace}/${destination.service} was not found; create it or fix the name.` };
      targets.destinationService = service;
      // The pods behind the Service (its selector), so the probe can try each backend directly.
      const selector = service.spec?.selector;
      if (selector && Object.keys(selector).length > 0) {
        targets.destinationPods = caches.pods(destNamespace).filter((pod) => selectorMatches({ matchLabels: selector }, pod.metadata?.labels ?? {}));
      }
    } else if (destination.pod) {
      const pod = caches.pod(destNamespace, destination.pod);
      if (!pod) return { kind: 'stalled', reason: Reason.DestinationNotFound, message: `spec.destination.pod: pod ${destNamespace}/${destination.pod} was not found; create it or fix the name.` };
      targets.destinationPods = [pod];
    } else if (destination.podSelector) {
      targets.destinationPods = caches.pods(destNamespace).filter((pod) => selectorMatches(destination.podSelector!, pod.metadata?.labels ?? {}));
      if (targets.destinationPods.length === 0) {
        return { kind: 'stalled', reason: Reason.DestinationNotFound, message: `spec.destination.podSelector: no pod in namespace ${destNamespace} matches ${JSON.stringify(destination.podSelector)}.` };
      }
    }
    return { kind: 'ok', targets };
  }

  private async startRun(check: NetworkCheck, spec: ResolvedSpec, status: NetworkCheckStatus, plan: RunPlan, targets: ResolvedTargets, now: Date): Promise<ReconcileResult> {
    const generation = check.metadata?.generation ?? 0;
    const runId = runIdFor(check, now);
    status.lastRun = {
      id: runId, generation, trigger: plan.trigger, startTime: rfc3339(now), probePods: [],
      ...(plan.scheduledTime ? { scheduledTime: plan.scheduledTime } : {}),
    };
    if (plan.runNowToken) status.runNowHandled = plan.runNowToken;
    if (plan.scheduledTime) status.lastScheduledTime = plan.scheduledTime;
    status.nextRunTime = plan.nextRunTime;
    const message = `Run ${runId} started (${plan.trigger}); probing ${status.target?.source} -> ${status.target?.destination}.`;
    // Record the run first: if the operator dies after this write, the next reconcile adopts it.
    const recorded = await this.finish(check, status, now, {
      result: resultWhileRunning(status), reason: status.reason, summary: status.summary,
      conditions: [...runningConditions(check.status?.conditions, status.lastRun, generation, message), ...this.layersWhileRunning(status, generation)],
    });
    let pods: string[];
    try {
      const inspection = this.inspectionDecision(check, spec, targets);
      pods = await this.o.stage.start({ check, spec, runId, targets, ...(inspection.kind === 'planned' ? { nodeInspection: inspection.plan } : {}) });
    } catch (err) {
      if (!(err instanceof ProbeStartError)) throw err;
      // Refused by admission (quota, PodSecurity, ...): the run ends now as an Error, not a retry loop.
      const base = recorded.updated ?? check;
      return this.completeRun(base, spec, structuredClone(base.status ?? status), status.lastRun, now,
        { result: Result.Error, failedLayer: 'Probe', reason: Reason.ProbeFailed, summary: err.message, layers: [], reproduce: [] }, []);
    }
    this.o.log.info(LogMessage.RunStarted, logFields(check, { run: runId, trigger: plan.trigger, pods }));
    return { requeueAfterMs: this.o.runPollMs };
  }

  private async followRun(check: NetworkCheck, spec: ResolvedSpec, status: NetworkCheckStatus, run: RunRecord, now: Date): Promise<ReconcileResult> {
    const runId = run.id!;
    const observed = this.observe(check, spec);
    const inspection = observed.kind === 'ok' ? this.inspectionDecision(check, spec, observed.targets) : { kind: 'off' as const };
    const observation = await this.observeRun(check, spec, run, now, observed, inspection);
    if (observation.state === 'Running') return this.stillRunning(check, status, run, now, observation.pods, observation.detail);
    if (observation.state === 'Failed') {
      const verdict: Verdict = { result: Result.Error, failedLayer: 'Probe', reason: observation.reason, summary: observation.message, layers: [], reproduce: [] };
      this.o.log.warn(LogMessage.RunFailed, logFields(check, { run: runId, reason: observation.reason, message: observation.message }));
      return this.completeRun(check, spec, status, run, now, verdict, observation.pods);
    }
    if (observation.state === 'NotFound') return {}; // not reached: observeRun turns NotFound into Running or Failed
    const targets = observed.kind === 'ok' ? observed.targets : { sourcePods: [], destinationPods: [] };
    const view = await diagnoseWithNodeView({
      diagnose: this.o.diagnose, base: { check, spec, targets, outputs: observation.outputs }, mode: this.o.nodeDiagnostics.mode, decision: inspection,
      inspection: observation.nodeInspection, runStartMs: Date.parse(run.startTime ?? '') || now.getTime(), nowMs: now.getTime(),
    });
    if (view.kind === 'wait') return this.stillRunning(check, status, run, now, observation.pods, view.detail);
    if (captureEnabled(spec) && this.o.stage.collectCaptures) {
      // Destination pods the run could not capture in (another namespace, not running) are reported too.
      const refused = destinationCaptureTargets({ check, spec, runId, targets }, this.o.probePolicy.maxEphemeralPerPod).refused
        .map(({ pod, reason }): CollectedCapture => ({ point: 'destination', pod, error: reason }));
      const captures = [...await this.o.stage.collectCaptures(check, spec, runId), ...refused];
      return this.completeRun(check, spec, status, run, now, view.verdict, observation.pods, captures);
    }
    return this.completeRun(check, spec, status, run, now, view.verdict, observation.pods);
  }

  /**
   * What the run's pods say now, past its deadline a failure. Pods that never appeared (the operator
   * stopped between recording the run and creating them) are created now: names derive from the run
   * id, so this cannot make a second run.
   */
  private async observeRun(check: NetworkCheck, spec: ResolvedSpec, run: RunRecord, now: Date, observed: Observation, inspection: NodeInspectionDecision): Promise<RunObservation> {
    const runId = run.id!;
    const started = Date.parse(run.startTime ?? '') || now.getTime();
    const deadline = started + probeRunBudgetSeconds(spec.timeoutSeconds) * 1000 + this.o.runGraceMs;
    const plan = inspection.kind === 'planned' ? inspection.plan : undefined;
    const observation = await this.o.stage.observe(check, runId, plan);
    if (observation.state === 'Running' && now.getTime() > deadline) {
      return { state: 'Failed', pods: observation.pods, reason: Reason.ProbeFailed, message: `The probe pods of run ${runId} did not finish within ${Math.round((deadline - started) / 1000)} s: ${observation.detail}` };
    }
    if (observation.state !== 'NotFound') return observation;
    if ((run.probePods?.length ?? 0) > 0 || observed.kind !== 'ok' || now.getTime() >= deadline) {
      return { state: 'Failed', pods: run.probePods ?? [], reason: Reason.ProbeFailed, message: `The probe pods of run ${runId} disappeared before reporting a result.` };
    }
    try {
      const pods = await this.o.stage.start({ check, spec, runId, targets: observed.targets, ...(plan ? { nodeInspection: plan } : {}) });
      return { state: 'Running', pods, detail: 'probe pods created' };
    } catch (err) {
      if (!(err instanceof ProbeStartError)) throw err;
      return { state: 'Failed', pods: [], reason: Reason.ProbeFailed, message: err.message };
    }
  }

  /** A run in flight: Reconciling says so; result, Ready and the layers keep the last verdict. */
  private async stillRunning(check: NetworkCheck, status: NetworkCheckStatus, run: RunRecord, now: Date, pods: string[], detail: string): Promise<ReconcileResult> {
    const generation = check.metadata?.generation ?? 0;
    status.lastRun = { ...run, probePods: pods };
    const message = `Run ${run.id} in progress: ${detail}`;
    await this.finish(check, status, now, {
      result: resultWhileRunning(status), reason: status.reason, summary: status.summary,
      conditions: [...runningConditions(check.status?.conditions, run, generation, message), ...this.layersWhileRunning(status, generation)],
    });
    return { requeueAfterMs: this.o.runPollMs };
  }

  /** Whether and what this run inspects on the nodes (--node-diagnostics), from the caches. */
  private inspectionDecision(check: NetworkCheck, spec: ResolvedSpec, targets: ResolvedTargets): NodeInspectionDecision {
    const operatorNamespace = this.o.operatorNamespace ?? '';
    return planNodeInspection({
      settings: this.o.nodeDiagnostics, check, spec, targets, operatorNamespace, operatorNamespaceObject: this.o.caches.namespace?.(operatorNamespace),
    });
  }

  /** Records a finished run: verdict, history, conditions, an Event on a flip; then removes its pods. */
  private async completeRun(check: NetworkCheck, spec: ResolvedSpec, status: NetworkCheckStatus, run: RunRecord, now: Date, verdict: Verdict, pods: string[], captures?: CollectedCapture[]): Promise<ReconcileResult> {
    const generation = check.metadata?.generation ?? 0;
    const runId = run.id!;
    const started = Date.parse(run.startTime ?? '') || now.getTime();
    const durationMs = Math.max(0, now.getTime() - started);
    status.lastRun = { ...run, probePods: pods, completionTime: rfc3339(now), durationMs };
    status.failedLayer = verdict.failedLayer;
    status.reproduce = verdict.reproduce.length ? verdict.reproduce : undefined;
    status.path = verdict.path;
    const entry: HistoryEntry = { time: run.startTime ?? rfc3339(now), result: verdict.result, durationMs, ...(verdict.failedLayer ? { failedLayer: verdict.failedLayer } : {}), reason: verdict.reason };
    const previous = status.history?.[0];
    const previousHistory = status.history ?? [];
    if (captures) {
      // Stored before the status that names them: a crash in between leaves Secrets the check's
      // deletion removes, never a status pointing at nothing.
      const store = this.o.captureStore;
      const plan = planCapture({ check, spec, runId, result: verdict.result, captures, now, canStore: store !== undefined });
      for (const secret of plan.secrets) await store!.create(secret);
      if (plan.secrets.length > 0) {
        entry.captureSecrets = plan.secrets.map((secret) => secret.metadata!.name!);
        this.o.log.info(LogMessage.CaptureStored, logFields(check, { run: runId, secrets: entry.captureSecrets }));
      }
      status.capture = plan.status;
    }
    const pruned = pruneCaptureSecrets(previousHistory, appendHistory(previousHistory, entry, spec.historyLimit));
    status.history = pruned.history;
    const plan = planRun({ ...check, status }, now);
    status.nextRunTime = plan.nextRunTime;
    await this.finish(check, status, now, {
      result: verdict.result, reason: verdict.reason, summary: verdict.summary,
      conditions: completedRunConditions(verdict.result, verdict.summary, verdict.layers, run, generation, plan.start),
      requeueAfterMs: plan.requeueAfterMs,
    });
    this.o.log.info(LogMessage.RunCompleted, logFields(check, { run: runId, result: verdict.result, reason: verdict.reason, durationMs }));
    this.o.observer?.runCompleted(check, verdict, durationMs, now);
    const transition = detectTransition(previous && { result: previous.result, failedLayer: previous.failedLayer, reason: previous.reason }, { result: verdict.result, failedLayer: verdict.failedLayer, reason: verdict.reason, summary: verdict.summary });
    if (transition) this.o.events?.event(check, transition.type, transition.reason, transition.message);
    for (const name of pruned.deletions) {
      try {
        await this.o.captureStore?.delete(check.metadata!.namespace!, name);
      } catch (err) {
        this.o.log.warn(LogMessage.CapturePruneFailed, logFields(check, { secret: name, error: String(err) }));
      }
    }
    try {
      await this.o.stage.cleanup(check, runId);
    } catch (err) {
      // The pods are owned by the check; a failed delete is retried on the next reconcile, and GC gets them at the latest.
      this.o.log.warn(LogMessage.CleanupFailed, logFields(check, { run: runId, error: String(err) }));
    }
    return plan.start ? { requeueAfterMs: 1 } : { requeueAfterMs: plan.requeueAfterMs };
  }

  /** The last verdict's layer conditions, kept while a re-run of the same spec is in flight (like result and Ready). */
  private layersWhileRunning(status: NetworkCheckStatus, generation: number): DesiredCondition[] {
    return (status.conditions ?? [])
      .filter((c) => !(Object.values(ConditionType) as string[]).includes(c.type) && c.observedGeneration === generation)
      .map((c) => ({ ...c }));
  }

  /** The layer conditions of the stored verdict (every condition that is not a kstatus one). */
  private layers(status: NetworkCheckStatus): DesiredCondition[] {
    return (status.conditions ?? []).filter((c) => !(Object.values(ConditionType) as string[]).includes(c.type)).map((c) => ({ ...c }));
  }

  /** Computes the final status, writes it when it changed, and returns the requeue. */
  private async finish(check: NetworkCheck, status: NetworkCheckStatus, now: Date, desired: {
    result: ResultName; reason?: string; summary?: string; conditions: DesiredCondition[]; requeueAfterMs?: number;
  }): Promise<ReconcileResult & { updated?: NetworkCheck }> {
    status.result = desired.result;
    status.reason = desired.reason;
    status.summary = desired.summary;
    if (desired.result === Result.Error || desired.result === Result.Healthy || desired.result === Result.Unhealthy) {
      if (!desired.reason) delete status.reason;
    }
    status.conditions = mergeConditions(check.status?.conditions, desired.conditions, now);
    const cleaned = dropUndefined(status);
    let updated: NetworkCheck | undefined;
    if (!statusEqual(check.status, cleaned)) {
      updated = await this.o.writer.writeStatus(check, cleaned);
      this.o.log.debug(LogMessage.StatusWritten, logFields(check, { result: cleaned.result, reason: cleaned.reason }));
    }
    return { ...(desired.requeueAfterMs !== undefined ? { requeueAfterMs: desired.requeueAfterMs } : {}), updated };
  }
}

/**
 * Running only until the first verdict: a re-run keeps showing the last verdict (and says it is
 * running through Reconciling), so GitOps health does not flap to Progressing on every scheduled run.
 */
function resultWhileRunning(status: NetworkCheckStatus): ResultName {
  const last = status.history?.[0]?.result;
  return last ?? Result.Running;
}

/** lastRun.trigger of the run that follows a cleared stall (the planner's triggers are in schedule/plan.ts). */
const RECOVERED_TRIGGER = 'Recovered';

export function logFields(check: NetworkCheck, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { controller: 'networkcheck', namespace: check.metadata?.namespace, name: check.metadata?.name, ...extra };
}

/** A run id is short, DNS-label safe, unique per check and start time. */
export function runIdFor(check: NetworkCheck, now: Date): string {
  return `g${check.metadata?.generation ?? 0}-${Math.floor(now.getTime() / 1000).toString(36)}`;
}

function dropUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export { ANNOTATION_RUN_NOW, selectorMatches };
