// Wires informers, the work queue and workers around the reconciler, and serves health and metrics.
import { createServer, type Server } from 'node:http';
import type { KubeConfig, V1Namespace, V1Pod, V1Service } from '@kubernetes/client-node';
import type { Logger } from 'winston';
import type { NetworkCheck } from '../api/types.generated.ts';
import { LABEL_CHECK } from '../api/defaults.ts';
import type { Diagnose } from '../diagnosis/verdict.ts';
import type { ProbeStage } from '../probe/stage.ts';
import type { ProbePolicy } from '../probe/policy.ts';
import { ENFORCE_LABEL } from '../probe/podsecurity.ts';
import { GuardReason } from '../probe/guards.ts';
import { LABEL_CHECK_NAMESPACE } from '../probe/template.ts';
import type { NodeDiagnosticsSettings } from '../probe/node-inspection.ts';
import { realClock, type Clock } from './clock.ts';
import { Informer, errorText, objectKey, type EventType } from './informer.ts';
import { EventRecorder, KubeClients, SecretCaptureStore, StatusPatcher, isConflict } from './kube.ts';
import { ControllerMetrics } from './metrics.ts';
import { NetworkCheckReconciler, selectorMatches, type Caches } from './networkcheck.ts';
import { WorkQueue } from './queue.ts';

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  stage: ProbeStage;
  diagnose: Diagnose;
  /** Watch only these namespaces; empty = all namespaces. */
  namespaces?: string[];
  workers?: number;
  clock?: Clock;
  nodeSourceNamespaces?: string[];
  /** Where node probes run; its probe pods are watched even when `namespaces` does not name it. */
  operatorNamespace?: string;
  /** What checks may ask of their probe pods (image allowlist, tolerations, resource caps). */
  probePolicy?: ProbePolicy;
  /** Node inspection next to the probe (--node-diagnostics). */
  nodeDiagnostics?: NodeDiagnosticsSettings;
  stallTimeoutMs?: number;
  resyncMs?: number;
  metrics?: ControllerMetrics;
}

const CLONE_SERVED_BY_SERVICE: string = GuardReason.CloneServedByService;

export const ManagerMessage = {
  Started: 'Started controller',
  Stopping: 'Stopping controller; finishing in-flight reconciles',
  Stopped: 'Stopped controller',
  ReconcileFailed: 'Reconcile failed; requeued with backoff',
  ReconcileConflict: 'Reconcile hit a conflict; requeued',
} as const;

export class Manager {
  readonly metrics: ControllerMetrics;
  readonly queue: WorkQueue;
  readonly writer: StatusPatcher;
  readonly reconciler: NetworkCheckReconciler;
  private readonly checkInformers: Informer<NetworkCheck>[] = [];
  private readonly podInformers: Informer<V1Pod>[] = [];
  private readonly serviceInformers: Informer<V1Service>[] = [];
  private readonly namespaceInformer: Informer<V1Namespace>;
  private readonly o: ManagerOptions;
  private readonly clients: KubeClients;
  private workers: Promise<void>[] = [];
  private started = false;

  constructor(options: ManagerOptions) {
    this.o = options;
    const clock = options.clock ?? realClock;
    this.metrics = options.metrics ?? new ControllerMetrics();
    this.clients = new KubeClients(options.kubeConfig);
    this.queue = new WorkQueue(clock);
    this.writer = new StatusPatcher(this.clients.custom);
    const namespaces = options.namespaces?.length ? options.namespaces : [undefined];
    const informerOptions = {
      clock, stallTimeoutMs: options.stallTimeoutMs, resyncMs: options.resyncMs,
    };
    const restarts = (informer: string) => (cause: string) => this.metrics.watchRestarts.inc({ informer, cause });
    for (const ns of namespaces) {
      const checks = this.clients.checkSource(ns);
      const pods = this.clients.podSource(ns);
      const services = this.clients.serviceSource(ns);
      this.checkInformers.push(new Informer('networkchecks', options.kubeConfig, checks.path, checks.list, options.log, { ...informerOptions, onRestart: restarts('networkchecks') }));
      this.podInformers.push(new Informer('pods', options.kubeConfig, pods.path, pods.list, options.log, { ...informerOptions, onRestart: restarts('pods') }));
      this.serviceInformers.push(new Informer('services', options.kubeConfig, services.path, services.list, options.log, { ...informerOptions, onRestart: restarts('services') }));
    }
    // Node probe pods live in the operator namespace: watch it too when only some namespaces are watched.
    if (options.operatorNamespace && options.namespaces?.length && !options.namespaces.includes(options.operatorNamespace)) {
      const pods = this.clients.podSource(options.operatorNamespace);
      this.podInformers.push(new Informer('pods', options.kubeConfig, pods.path, pods.list, options.log, { ...informerOptions, onRestart: restarts('pods') }));
    }
    const namespaceSource = this.clients.namespaceSource();
    this.namespaceInformer = new Informer('namespaces', options.kubeConfig, namespaceSource.path, namespaceSource.list, options.log, { ...informerOptions, onRestart: restarts('namespaces') });
    const caches = this.cacheView();
    const counted = {
      writeStatus: async (check: NetworkCheck, status: NetworkCheck['status']) => {
        const updated = await this.writer.writeStatus(check, status ?? {});
        this.metrics.statusWrites.inc();
        return updated;
      },
    };
    this.reconciler = new NetworkCheckReconciler({
      caches, writer: counted, stage: options.stage, diagnose: options.diagnose, clock, log: options.log,
      events: new EventRecorder(this.clients.core, (err) => options.log.warn('Failed to record event', { error: errorText(err) })),
      nodeSourceNamespaces: new Set(options.nodeSourceNamespaces ?? []),
      operatorNamespace: options.operatorNamespace,
      ...(options.probePolicy ? { probePolicy: options.probePolicy } : {}),
      ...(options.nodeDiagnostics ? { nodeDiagnostics: options.nodeDiagnostics } : {}),
      observer: this.metrics,
      captureStore: new SecretCaptureStore(this.clients.core),
    });
    this.subscribe();
  }

  /** The reconciler's read access to the informer caches. */
  private cacheView(): Caches {
    return {
      check: (key) => this.firstOf(this.checkInformers, key),
      pod: (namespace, name) => this.firstOf(this.podInformers, `${namespace}/${name}`),
      pods: (namespace) => this.podInformers.flatMap((i) => i.values()).filter((p) => p.metadata?.namespace === namespace),
      service: (namespace, name) => this.firstOf(this.serviceInformers, `${namespace}/${name}`),
      services: (namespace) => this.serviceInformers.flatMap((i) => i.values()).filter((s) => s.metadata?.namespace === namespace),
      namespace: (name) => this.namespaceInformer.get(name),
    };
  }

  /** Maps informer events to queued checks. */
  private subscribe(): void {
    for (const informer of this.checkInformers) {
      informer.on((type, check) => {
        if (type === 'delete') {
          void this.metrics.forgetCheck(check.metadata?.namespace ?? '', check.metadata?.name ?? '');
          // Its node probe and inspection pods have no owner to be collected with: the reconcile of the gone check deletes them.
          if (check.spec?.source?.node || (this.o.nodeDiagnostics?.mode ?? 'Off') !== 'Off') this.queue.add(objectKey(check));
          return;
        }
        // The gauges follow the stored status, including right after a restart (the initial list).
        this.metrics.syncCheck(check);
        this.queue.add(objectKey(check));
      });
    }
    for (const informer of this.podInformers) informer.on((type, pod, old) => this.onPod(type, pod, old));
    for (const informer of this.serviceInformers) informer.on((type, service) => this.onService(type, service));
    this.namespaceInformer.on((type, namespace, old) => this.onNamespace(type, namespace, old));
  }

  private allInformers() {
    return [...this.checkInformers, ...this.podInformers, ...this.serviceInformers, this.namespaceInformer];
  }

  /** A namespace's Pod Security label decides whether its checks' probes may capture: re-evaluate them. */
  private onNamespace(type: EventType, namespace: V1Namespace, old?: V1Namespace): void {
    if (type !== 'update' || old?.metadata?.labels?.[ENFORCE_LABEL] === namespace.metadata?.labels?.[ENFORCE_LABEL]) return;
    const name = namespace.metadata?.name;
    for (const check of this.allChecks()) {
      if (check.metadata?.namespace === name || (name === this.o.operatorNamespace && check.spec.source.node)) this.queue.add(objectKey(check));
    }
  }

  private firstOf<T extends { metadata?: { name?: string } }>(informers: Informer<T & import('@kubernetes/client-node').KubernetesObject>[], key: string): T | undefined {
    for (const informer of informers) {
      const found = informer.get(key);
      if (found) return found;
    }
    return undefined;
  }

  private allChecks(): NetworkCheck[] { return this.checkInformers.flatMap((i) => i.values()); }

  /** Maps a pod event to the checks it matters to: its own probe runs, and checks naming it. */
  private onPod(type: EventType, pod: V1Pod, old?: V1Pod): void {
    if (type === 'resync') return;
    const namespace = pod.metadata?.namespace;
    const owner = pod.metadata?.labels?.[LABEL_CHECK];
    if (owner) {
      // A node probe runs in the operator namespace for a check elsewhere (named by its label there
      // only: a label in a tenant's namespace cannot point at another tenant's check).
      const checkNamespace = namespace === this.o.operatorNamespace ? (pod.metadata?.labels?.[LABEL_CHECK_NAMESPACE] ?? namespace) : namespace;
      this.queue.add(`${checkNamespace}/${owner}`);
      return;
    }
    // Only changes that can alter a check's view of the pod: existence, phase, IP, labels.
    if (type === 'update' && old && old.status?.phase === pod.status?.phase && old.status?.podIP === pod.status?.podIP &&
      JSON.stringify(old.metadata?.labels) === JSON.stringify(pod.metadata?.labels)) return;
    const labels = pod.metadata?.labels ?? {};
    const oldLabels = old?.metadata?.labels ?? {};
    for (const check of this.allChecks()) {
      const ns = check.metadata?.namespace;
      const src = check.spec.source;
      const dst = check.spec.destination;
      const dstNs = dst.namespace ?? ns;
      const relevant =
        (ns === namespace && (src.pod === pod.metadata?.name || src.workload !== undefined ||
          (src.podSelector && (selectorMatches(src.podSelector, labels) || selectorMatches(src.podSelector, oldLabels))))) ||
        (dstNs === namespace && (dst.pod === pod.metadata?.name || dst.service !== undefined ||
          (dst.podSelector && (selectorMatches(dst.podSelector, labels) || selectorMatches(dst.podSelector, oldLabels)))));
      if (relevant) this.queue.add(objectKey(check));
    }
  }

  private onService(type: EventType, service: V1Service): void {
    if (type === 'resync') return;
    for (const check of this.allChecks()) {
      const dst = check.spec.destination;
      const destination = dst.service === service.metadata?.name && (dst.namespace ?? check.metadata?.namespace) === service.metadata?.namespace;
      // A check refused because a Service of its namespace would serve its clone may run once that changes.
      const refusedByService = check.status?.reason === CLONE_SERVED_BY_SERVICE && check.metadata?.namespace === service.metadata?.namespace;
      if (destination || refusedByService) this.queue.add(objectKey(check));
    }
  }

  async start(): Promise<void> {
    this.started = true;
    // Pods and Services first, so that the first reconciles see a filled cache.
    await Promise.all([...this.podInformers, ...this.serviceInformers, this.namespaceInformer].map((i) => i.start()));
    await Promise.all([...this.podInformers, ...this.serviceInformers, this.namespaceInformer].map((i) => i.waitForSync()));
    await Promise.all(this.checkInformers.map((i) => i.start()));
    const workers = this.o.workers ?? 4;
    this.workers = Array.from({ length: workers }, () => this.worker());
    this.o.log.info(ManagerMessage.Started, { controller: 'networkcheck', workers, namespaces: this.o.namespaces?.length ? this.o.namespaces : ['*'] });
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.metrics.queueDepth.set(this.queue.length());
      const end = this.metrics.reconcileDuration.startTimer();
      const [namespace, name] = key.split('/');
      try {
        const result = await this.reconciler.reconcile(key);
        this.queue.forget(key);
        if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
        this.metrics.reconciles.inc({ result: result.requeueAfterMs !== undefined ? 'requeue' : 'success' });
      } catch (err) {
        if (isConflict(err)) {
          // Our cached copy was stale; the watch brings the new version and the retry uses it.
          this.metrics.reconciles.inc({ result: 'conflict' });
          this.o.log.debug(ManagerMessage.ReconcileConflict, { controller: 'networkcheck', namespace, name });
          this.queue.addAfter(key, 200);
        } else {
          this.metrics.reconciles.inc({ result: 'error' });
          const delay = this.queue.addRateLimited(key);
          this.o.log.error(ManagerMessage.ReconcileFailed, { controller: 'networkcheck', namespace, name, error: errorText(err), retryInMs: delay });
        }
      } finally {
        end();
        this.queue.done(key);
        this.metrics.queueDepth.set(this.queue.length());
      }
    }
  }

  /** Healthy while every watch is alive (the stall watchdog has not given up on one). */
  healthy(): boolean {
    return this.allInformers().every((i) => i.healthy());
  }

  ready(): boolean {
    return this.started && this.allInformers().every((i) => i.hasSynced());
  }

  async waitForSync(): Promise<void> {
    await Promise.all(this.allInformers().map((i) => i.waitForSync()));
  }

  /** Graceful stop: no new work, in-flight reconciles finish, then the watches close. */
  async stop(): Promise<void> {
    this.o.log.info(ManagerMessage.Stopping, { controller: 'networkcheck', inFlight: this.queue.inFlight() });
    this.queue.shutDown();
    await Promise.all(this.workers);
    for (const informer of this.allInformers()) informer.stop();
    this.o.log.info(ManagerMessage.Stopped, { controller: 'networkcheck' });
  }
}

/** /healthz, /readyz and /metrics. */
export function serveHealthAndMetrics(port: number, manager: () => Manager | undefined, metrics: ControllerMetrics, isLeaderOrStandby: () => boolean): Server {
  const server = createServer(async (req, res) => {
    const m = manager();
    if (req.url === '/healthz') {
      const ok = !m || m.healthy();
      res.writeHead(ok ? 200 : 500, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'watch stalled or down\n');
    } else if (req.url === '/readyz') {
      // A standby replica (not the leader) is ready: it serves metrics and waits for the lease.
      const ok = isLeaderOrStandby() && (!m || m.ready());
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'caches not synced\n');
    } else if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.registry.metrics());
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(port);
  return server;
}
