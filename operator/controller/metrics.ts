// The controller's own Prometheus metrics; per-check series are added by the check metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { stalledBeforeProbing } from '../api/conditions.ts';
import type { NetworkCheck } from '../api/types.generated.ts';
import type { Verdict } from '../diagnosis/verdict.ts';

export class ControllerMetrics {
  readonly registry = new Registry();
  readonly queueDepth = new Gauge({ name: 'netcheck_workqueue_depth', help: 'Keys waiting in the work queue.', registers: [this.registry] });
  readonly reconciles = new Counter({ name: 'netcheck_reconcile_total', help: 'Reconciles by result (success, requeue, conflict, error).', labelNames: ['result'] as const, registers: [this.registry] });
  readonly reconcileDuration = new Histogram({ name: 'netcheck_reconcile_duration_seconds', help: 'Time spent in one reconcile.', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  readonly watchRestarts = new Counter({ name: 'netcheck_watch_restarts_total', help: 'Watch restarts by informer and cause (error, stall, gone).', labelNames: ['informer', 'cause'] as const, registers: [this.registry] });
  readonly statusWrites = new Counter({ name: 'netcheck_status_writes_total', help: 'Status subresource writes.', registers: [this.registry] });

  // Per check. Only the leader runs the controller, so a standby replica exports none of these.
  readonly checkResult = new Gauge({ name: 'netcheck_check_result', help: '1 for the check\'s current result (status.result), 0 for the others; all 0 before the first verdict.', labelNames: ['namespace', 'name', 'result'] as const, registers: [this.registry] });
  readonly checkLastRun = new Gauge({ name: 'netcheck_check_last_run_timestamp_seconds', help: 'When the check\'s latest run completed (Unix seconds).', labelNames: ['namespace', 'name'] as const, registers: [this.registry] });
  readonly runDuration = new Histogram({ name: 'netcheck_run_duration_seconds', help: 'Duration of a run, from recording it to its verdict.', labelNames: ['namespace', 'name', 'result'] as const, buckets: [1, 2, 5, 10, 20, 30, 60, 120], registers: [this.registry] });
  readonly layerStatus = new Gauge({ name: 'netcheck_layer_status', help: '1 for each diagnosis layer\'s current status (True, False, Unknown).', labelNames: ['namespace', 'name', 'layer', 'status'] as const, registers: [this.registry] });
  readonly probeFailures = new Counter({ name: 'netcheck_probe_pod_failures_total', help: 'Runs whose probe pods could not run or report (ProbeFailed, ProbeOutputInvalid).', labelNames: ['namespace', 'name', 'reason'] as const, registers: [this.registry] });

  // Layer series exported per check (namespace/name), so that layers gone from the status are removed.
  private readonly exportedLayers = new Map<string, Set<string>>();

  constructor(defaultMetrics = true) {
    // Unprefixed process metrics (process_resident_memory_bytes, ...), as the dashboard expects.
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Records a finished run: its duration and, when its probe pods failed, the failure. The gauges
   * follow the stored status instead (syncCheck), because a run is not the only thing that changes a
   * check's result: a check whose source pod disappears turns Error without a run.
   */
  runCompleted(check: NetworkCheck, verdict: Verdict, durationMs: number, _now: Date): void {
    const namespace = check.metadata?.namespace ?? '';
    const name = check.metadata?.name ?? '';
    this.runDuration.observe({ namespace, name, result: verdict.result }, durationMs / 1000);
    if (verdict.reason === 'ProbeFailed' || verdict.reason === 'ProbeOutputInvalid') this.probeFailures.inc({ namespace, name, reason: verdict.reason });
  }

  /**
   * Sets the check's gauges from its status as stored in the API: the result, when its latest run
   * completed, and its layer conditions. Called for every version the informer delivers, so the
   * series also come back right after an operator restart, not only after the next run.
   */
  syncCheck(check: NetworkCheck): void {
    const namespace = check.metadata?.namespace ?? '';
    const name = check.metadata?.name ?? '';
    const status = check.status ?? {};
    for (const result of VERDICTS) this.checkResult.set({ namespace, name, result }, result === status.result ? 1 : 0);

    const latest = status.lastRun?.completionTime
      ? Date.parse(status.lastRun.completionTime)
      : Date.parse(status.history?.[0]?.time ?? '') + (status.history?.[0]?.durationMs ?? 0);
    // Whole seconds, as the status records them, whichever of the two the time came from.
    if (Number.isFinite(latest)) this.checkLastRun.set({ namespace, name }, Math.floor(latest / 1000));

    const conditions = status.conditions ?? [];
    const isTrue = (type: string) => conditions.some((c) => c.type === type && c.status === 'True');
    // While a run is in flight the status carries no layer conditions: keep the last verdict's.
    if (isTrue('Reconciling')) return;
    // A check stalled before probing was not evaluated (its layer conditions are gone from the status
    // too); a failed verdict is Stalled as well (GitOps health) and keeps its layers.
    const layers = stalledBeforeProbing(conditions) ? [] : conditions.filter((c) => !KSTATUS_TYPES.has(c.type));
    const key = `${namespace}/${name}`;
    for (const layer of layers) {
      for (const value of LAYER_STATUSES) this.layerStatus.set({ namespace, name, layer: layer.type, status: value }, layer.status === value ? 1 : 0);
    }
    const current = new Set(layers.map((c) => c.type));
    for (const layer of this.exportedLayers.get(key) ?? []) {
      if (!current.has(layer)) for (const value of LAYER_STATUSES) this.layerStatus.remove({ namespace, name, layer, status: value });
    }
    if (current.size > 0) this.exportedLayers.set(key, current);
    else this.exportedLayers.delete(key);
  }

  /** Drops a deleted check's series (every label combination that names it). */
  async forgetCheck(namespace: string, name: string): Promise<void> {
    this.exportedLayers.delete(`${namespace}/${name}`);
    for (const metric of [this.checkResult, this.checkLastRun, this.layerStatus, this.runDuration, this.probeFailures] as unknown as MetricWithValues[]) {
      const seen = new Set<string>();
      for (const value of (await metric.get()).values) {
        const labels = value.labels as Record<string, string>;
        if (labels.namespace !== namespace || labels.name !== name) continue;
        // Histograms report le buckets; remove by the metric's own labels only.
        const own = Object.fromEntries(Object.entries(labels).filter(([k]) => k !== 'le'));
        const key = JSON.stringify(own);
        if (seen.has(key)) continue;
        seen.add(key);
        metric.remove(own);
      }
    }
  }

}

const VERDICTS = ['Healthy', 'Unhealthy', 'Error'] as const;
const LAYER_STATUSES = ['True', 'False', 'Unknown'] as const;
// kstatus conditions; every other condition type is a diagnosis layer.
const KSTATUS_TYPES = new Set(['Ready', 'Reconciling', 'Stalled']);

interface MetricWithValues {
  get(): Promise<{ values: { labels: Record<string, string | number> }[] }>;
  remove(labels: Record<string, string>): void;
}
