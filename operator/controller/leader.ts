// Leader election on a coordination.k8s.io/v1 Lease, so that two replicas never both act.
// The holder renews every retryPeriod; another candidate takes over only after leaseDuration has
// passed without a renewal. A replica that fails to renew within renewDeadline stops acting
// (onLost) before another can take over, because leaseDuration > renewDeadline.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'winston';
import { httpStatus } from './kube.ts';

export interface LeaderOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export const LeaderMessage = {
  Acquired: 'Acquired leadership',
  Lost: 'Lost leadership',
  Waiting: 'Waiting for leadership',
} as const;

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly o: Required<LeaderOptions>;
  private readonly log: Logger;
  private leading = false;
  private stopped = false;
  private lastRenew = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(kubeConfig: KubeConfig, options: LeaderOptions, log: Logger) {
    this.api = kubeConfig.makeApiClient(CoordinationV1Api);
    this.o = { leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...options };
    this.log = log;
  }

  isLeader(): boolean { return this.leading; }

  /** Resolves once this replica leads; calls onLost if it later fails to renew. */
  async run(onLost: () => void): Promise<void> {
    let logged = false;
    while (!this.stopped) {
      if (await this.tryAcquireOrRenew()) break;
      if (!logged) { this.log.info(LeaderMessage.Waiting, { lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity }); logged = true; }
      await new Promise((resolve) => setTimeout(resolve, this.o.retryPeriodMs));
    }
    if (this.stopped) return;
    this.leading = true;
    this.log.info(LeaderMessage.Acquired, { lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity });
    const renew = async () => {
      if (this.stopped) return;
      const ok = await this.tryAcquireOrRenew().catch(() => false);
      if (!ok && Date.now() - this.lastRenew > this.o.renewDeadlineMs) {
        this.leading = false;
        this.log.error(LeaderMessage.Lost, { lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity });
        onLost();
        return;
      }
      this.timer = setTimeout(renew, this.o.retryPeriodMs);
    };
    this.timer = setTimeout(renew, this.o.retryPeriodMs);
  }

  /** Stops renewing and, when leading, releases the lease so a successor need not wait. */
  async release(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.api.readNamespacedLease({ name: this.o.name, namespace: this.o.namespace });
      if (lease.spec?.holderIdentity !== this.o.identity) return;
      lease.spec.holderIdentity = undefined;
      lease.spec.leaseDurationSeconds = 1;
      await this.api.replaceNamespacedLease({ name: this.o.name, namespace: this.o.namespace, body: lease });
    } catch { /* best effort: the lease expires anyway */ }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name: this.o.name, namespace: this.o.namespace });
    } catch (err) {
      if (httpStatus(err) !== 404) return false;
      try {
        await this.api.createNamespacedLease({ namespace: this.o.namespace, body: {
          metadata: { name: this.o.name, namespace: this.o.namespace },
          spec: { holderIdentity: this.o.identity, leaseDurationSeconds: this.o.leaseDurationSeconds, acquireTime: new V1MicroTime(now.getTime()), renewTime: new V1MicroTime(now.getTime()), leaseTransitions: 0 },
        } });
        this.lastRenew = Date.now();
        return true;
      } catch { return false; }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity;
    const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired = !holder || renewed + (spec.leaseDurationSeconds ?? this.o.leaseDurationSeconds) * 1000 < now.getTime();
    if (holder !== this.o.identity && !expired) return false;
    const transitions = (spec.leaseTransitions ?? 0) + (holder === this.o.identity ? 0 : 1);
    lease.spec = {
      ...spec,
      holderIdentity: this.o.identity,
      leaseDurationSeconds: this.o.leaseDurationSeconds,
      renewTime: new V1MicroTime(now.getTime()),
      acquireTime: holder === this.o.identity ? spec.acquireTime : new V1MicroTime(now.getTime()),
      leaseTransitions: transitions,
    };
    try {
      // replace carries resourceVersion: a concurrent writer makes this a 409, and we lose the race.
      await this.api.replaceNamespacedLease({ name: this.o.name, namespace: this.o.namespace, body: lease });
      this.lastRenew = Date.now();
      return true;
    } catch { return false; }
  }
}
