// The controller's own Prometheus metrics; per-check series are added by the check metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
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
  readonly checkResult = new Gauge({ name: 'netcheck_check_result', help: '1 for the check\'s current result, 0 for the others.', labelNames: ['namespace', 'name', 'result'] as const, registers: [this.registry] });
  readonly checkLastRun = new Gauge({ name: 'netcheck_check_last_run_timestamp_seconds', help: 'When the check\'s latest run completed (Unix seconds).', labelNames: ['namespace', 'name'] as const, registers: [this.registry] });
  readonly runDuration = new Histogram({ name: 'netcheck_run_duration_seconds', help: 'Duration of a run, from recording it to its verdict.', labelNames: ['namespace', 'name', 'result'] as const, buckets: [1, 2, 5, 10, 20, 30, 60, 120], registers: [this.registry] });
  readonly layerStatus = new Gauge({ name: 'netcheck_layer_status', help: '1 for each diagnosis layer\'s current status (True, False, Unknown).', labelNames: ['namespace', 'name', 'layer', 'status'] as const, registers: [this.registry] });
  readonly probeFailures = new Counter({ name: 'netcheck_probe_pod_failures_total', help: 'Runs whose probe pods could not run or report (ProbeFailed, ProbeOutputInvalid).', labelNames: ['namespace', 'name', 'reason'] as const, registers: [this.registry] });

  constructor(defaultMetrics = true) {
    // Unprefixed process metrics (process_resident_memory_bytes, ...), as the dashboard expects.
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** Records a finished run's verdict in the per-check series. */
  runCompleted(check: NetworkCheck, verdict: Verdict, durationMs: number, now: Date): void {
    const namespace = check.metadata?.namespace ?? '';
    const name = check.metadata?.name ?? '';
    for (const result of ['Healthy', 'Unhealthy', 'Error']) this.checkResult.set({ namespace, name, result }, result === verdict.result ? 1 : 0);
    this.checkLastRun.set({ namespace, name }, now.getTime() / 1000);
    this.runDuration.observe({ namespace, name, result: verdict.result }, durationMs / 1000);
    for (const layer of verdict.layers) {
      for (const status of ['True', 'False', 'Unknown']) this.layerStatus.set({ namespace, name, layer: layer.type, status }, layer.status === status ? 1 : 0);
    }
    if (verdict.reason === 'ProbeFailed' || verdict.reason === 'ProbeOutputInvalid') this.probeFailures.inc({ namespace, name, reason: verdict.reason });
  }

  /** Drops a deleted check's series (every label combination that names it). */
  async forgetCheck(namespace: string, name: string): Promise<void> {
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

interface MetricWithValues {
  get(): Promise<{ values: { labels: Record<string, string | number> }[] }>;
  remove(labels: Record<string, string>): void;
}
