// A work queue keyed by namespace/name with the client-go semantics an operator relies on:
// - a key is queued at most once, however often it is added (dedupe);
// - a key is processed by one worker at a time; adds that arrive while it is processed are merged
//   into one re-queue when the worker calls done();
// - failures re-queue with per-key exponential backoff (1 s doubling to 60 s), reset by forget();
// - addAfter() schedules a later add (requeueAfter), keeping only the earliest pending time per key.
import { realClock, type Clock, type Timer } from './clock.ts';

export interface BackoffOptions { baseMs: number; maxMs: number }
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 60_000 };

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: Timer }>();
  private readonly failures = new Map<string, number>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;

  private readonly clock: Clock;
  private readonly backoff: BackoffOptions;

  constructor(clock: Clock = realClock, backoff: BackoffOptions = DEFAULT_BACKOFF) {
    this.clock = clock;
    this.backoff = backoff;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) { this.dirty.add(key); return; }
    if (this.queued.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) { this.processing.add(key); waiter(key); return; }
    this.queued.add(key);
    this.queue.push(key);
  }

  /** Adds the key after ms; an earlier pending add for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) { this.add(key); return; }
    const at = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    pending?.timer.cancel();
    const timer = this.clock.after(ms, () => { this.delayed.delete(key); this.add(key); });
    this.delayed.set(key, { at, timer });
  }

  /** Re-queues a failed key after its backoff: base * 2^(failures), capped. */
  addRateLimited(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    const delay = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** failures);
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears the key's failure count after a success. */
  forget(key: string): void { this.failures.delete(key); }

  failureCount(key: string): number { return this.failures.get(key) ?? 0; }

  /** Resolves with the next key to process, or undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    // After shutDown, queued keys are dropped: graceful stop finishes in-flight work only.
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.queued.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks the key processed; a key added meanwhile is queued again now. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  /** Queued keys, not counting those being processed or waiting on a timer. */
  length(): number { return this.queue.length; }
  inFlight(): number { return this.processing.size; }
  delayedCount(): number { return this.delayed.size; }

  /** Stops handing out keys; waiting workers get undefined. Keys being processed may finish. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) timer.cancel();
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  isShuttingDown(): boolean { return this.shuttingDown; }
}
