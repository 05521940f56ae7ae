// The controller's own Prometheus metrics; per-check series are added by the check metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ControllerMetrics {
  readonly registry = new Registry();
  readonly queueDepth = new Gauge({ name: 'netcheck_workqueue_depth', help: 'Keys waiting in the work queue.', registers: [this.registry] });
  readonly reconciles = new Counter({ name: 'netcheck_reconcile_total', help: 'Reconciles by result (success, requeue, conflict, error).', labelNames: ['result'] as const, registers: [this.registry] });
  readonly reconcileDuration = new Histogram({ name: 'netcheck_reconcile_duration_seconds', help: 'Time spent in one reconcile.', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  readonly watchRestarts = new Counter({ name: 'netcheck_watch_restarts_total', help: 'Watch restarts by informer and cause (error, stall, gone).', labelNames: ['informer', 'cause'] as const, registers: [this.registry] });
  readonly statusWrites = new Counter({ name: 'netcheck_status_writes_total', help: 'Status subresource writes.', registers: [this.registry] });

  constructor(defaultMetrics = true) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'netcheck_operator_' });
  }
}
