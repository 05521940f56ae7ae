// GitOps health: the kstatus conditions (Ready, Reconciling, Stalled) of a NetworkCheck in each of
// its states, in one place, so that Flux, Argo CD and `kubectl wait` read the same story.
//
// Flux decides health with kstatus (sigs.k8s.io/cli-utils/pkg/kstatus/status, v0.37.2), whose rules
// for a custom resource are, in order: observedGeneration != generation -> InProgress; the first
// condition that is Reconciling=True -> InProgress, or Stalled=True -> Failed with its message;
// else Ready=True -> Current, Ready=False/Unknown -> InProgress. So a verdict that must read as
// Failed needs Stalled=True, and a run that must not read as InProgress needs Reconciling=False.
//
//   state                                   Ready                Reconciling            Stalled                 kstatus
//   first run of a generation in flight     Unknown RunPending   True RunInProgress     False                   InProgress
//   stalled (bad spec, source missing)      False <reason>       False                  True <reason>           Failed
//   completed Healthy                       True CheckHealthy    False                  False                   Current
//   completed Unhealthy / Error             False CheckUnhealthy False                  True CheckUnhealthy     Failed: the summary
//                                                 / CheckError                               / CheckError
//   re-run of an unchanged generation       kept                 False RerunInProgress  kept                    unchanged
//
// Reconciling=True therefore means "the current spec has no verdict yet": a new check, a spec
// change, or a check that just left a stall. A scheduled or run-now re-run of a spec that already
// has a verdict keeps that verdict (and status.result) until the re-run's own verdict replaces it.
// Ready is True only for a Healthy verdict of the current generation, so
// `kubectl wait --for=condition=Ready` never passes on a verdict of an older spec.
import {
  ConditionType, Reason, Result, VERDICT_REASONS, notReady, notReconciling, notStalled, ready, reconciling, stalled,
  type DesiredCondition, type ResultName,
} from '../api/conditions.ts';
import type { Condition, RunRecord } from '../api/types.generated.ts';

export const HealthMessage = {
  firstRunPending: (generation: number) => `Generation ${generation} has no verdict yet: its first run has not finished.`,
  outdatedVerdict: (runGeneration: number, generation: number) =>
    `The run that just finished checked generation ${runGeneration}; generation ${generation} runs next.`,
  rerun: (runMessage: string) => `${runMessage} The verdict of the last run stands until this re-run of an unchanged spec finishes.`,
  suspendedNoVerdict: 'The schedule is suspended and no run of the current spec has finished.',
  noVerdict: 'No run has finished yet.',
  healthyFallback: 'The check passed.',
  failedFallback: 'The check failed.',
} as const;

/** A check that could not be probed: Failed with the field named. */
export function stallConditions(reason: string, message: string, generation: number): DesiredCondition[] {
  return [stalled(reason, message, generation), notReady(reason, message, generation), notReconciling(generation)];
}

/** The verdict of a completed run of the current spec. */
export function verdictConditions(result: ResultName, summary: string | undefined, generation: number): DesiredCondition[] {
  if (result === Result.Healthy) {
    return [ready(Reason.CheckHealthy, summary || HealthMessage.healthyFallback, generation), notReconciling(generation), notStalled(generation)];
  }
  const reason = result === Result.Error ? Reason.CheckError : Reason.CheckUnhealthy;
  const message = summary || HealthMessage.failedFallback;
  return [notReady(reason, message, generation), notReconciling(generation), stalled(reason, message, generation)];
}

/**
 * A completed run. A run of an older generation (the spec changed while it ran) is history, not the
 * current spec's verdict: while the next run is due, the conditions say the new generation is pending
 * and its layer conditions keep the generation they were diagnosed for.
 */
export function completedRunConditions(result: ResultName, summary: string | undefined, layers: DesiredCondition[], run: RunRecord, generation: number, nextRunDue: boolean): DesiredCondition[] {
  const runGeneration = run.generation ?? generation;
  if (runGeneration === generation || !nextRunDue) return [...verdictConditions(result, summary, generation), ...layers];
  return [
    pendingReady(HealthMessage.firstRunPending(generation), generation),
    reconciling(Reason.SpecChanged, HealthMessage.outdatedVerdict(runGeneration, generation), generation),
    notStalled(generation),
    ...layers.map((layer) => ({ ...layer, observedGeneration: runGeneration })),
  ];
}

/** Whether the stored conditions carry a verdict of this run's spec, which a re-run keeps. */
export function verdictStands(stored: readonly Condition[] | undefined, run: RunRecord, generation: number): boolean {
  const readyCondition = find(stored, ConditionType.Ready);
  return run.generation === generation && readyCondition !== undefined && VERDICT_REASONS.has(readyCondition.reason)
    && readyCondition.observedGeneration === generation;
}

/** A run in flight: a first run of the spec is InProgress; a re-run keeps the verdict's Ready and Stalled. */
export function runningConditions(stored: readonly Condition[] | undefined, run: RunRecord, generation: number, runMessage: string): DesiredCondition[] {
  if (verdictStands(stored, run, generation)) {
    const keep = (type: string) => ({ ...find(stored, type)!, observedGeneration: generation });
    const rerunning: DesiredCondition = { ...notReconciling(generation), reason: Reason.RerunInProgress, message: HealthMessage.rerun(runMessage) };
    return [keep(ConditionType.Ready), rerunning, find(stored, ConditionType.Stalled) ? keep(ConditionType.Stalled) : notStalled(generation)];
  }
  return [reconciling(Reason.RunInProgress, runMessage, generation), notStalled(generation), pendingReady(HealthMessage.firstRunPending(generation), generation)];
}

/**
 * No run in flight and none due: the stored verdict, re-derived for the current generation. A result
 * left by a stall that has cleared is no verdict (the controller re-runs such a check; only a
 * suspended one gets here).
 */
export function settledConditions(stored: readonly Condition[] | undefined, result: ResultName | undefined, summary: string | undefined, generation: number, suspended: boolean): DesiredCondition[] {
  const readyReason = find(stored, ConditionType.Ready)?.reason;
  const isVerdict = result === Result.Healthy || result === Result.Unhealthy || result === Result.Error;
  if (isVerdict && (readyReason === undefined || VERDICT_REASONS.has(readyReason))) return verdictConditions(result, summary, generation);
  const ready = suspended
    ? { ...pendingReady(HealthMessage.suspendedNoVerdict, generation), reason: Reason.Suspended }
    : pendingReady(HealthMessage.noVerdict, generation);
  return [ready, notReconciling(generation), notStalled(generation)];
}

function pendingReady(message: string, generation: number): DesiredCondition {
  return { type: ConditionType.Ready, status: 'Unknown', reason: Reason.RunPending, message, observedGeneration: generation };
}

function find(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
