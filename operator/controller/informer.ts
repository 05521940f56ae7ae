// A list-and-watch cache for one resource, written for an operator that must not fall silent:
// - the watch restarts after any error or close, with backoff (1 s doubling to 30 s);
// - a 410 Gone (or an ERROR event) relists before watching again;
// - a stall watchdog restarts a watch that has delivered no event and no bookmark for stallTimeoutMs,
//   and reports the informer unhealthy while it cannot re-establish one (for /healthz);
// - a periodic relist (resyncMs) re-delivers every object, so the controller stays level-triggered
//   even if an event was lost.
// client-node's own informer does restart, but has no stall detection and reports errors by event only.
import { Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'winston';
import { realClock, type Clock, type Timer } from './clock.ts';

export interface ListResult<T> { items: T[]; resourceVersion: string }
export type ListFn<T> = () => Promise<ListResult<T>>;
export type EventType = 'add' | 'update' | 'delete' | 'resync';
export type Handler<T> = (type: EventType, object: T, old?: T) => void;

export interface InformerOptions {
  /** Restart a watch with no event or bookmark for this long. */
  stallTimeoutMs?: number;
  /** Relist and re-deliver everything this often. */
  resyncMs?: number;
  /** Server-side watch timeout: the server closes the watch and we resume from the last version. */
  watchTimeoutSeconds?: number;
  clock?: Clock;
  onRestart?: (why: 'error' | 'stall' | 'gone') => void;
}

export const Message = {
  WatchStarted: 'Started watch',
  WatchFailed: 'Watch failed; restarting with backoff',
  WatchStalled: 'Watch stalled: no event or bookmark; restarting',
  WatchExpired: 'Watch resource version expired; relisting',
  ListFailed: 'List failed; retrying with backoff',
} as const;

export function objectKey(object: KubernetesObject): string {
  const ns = object.metadata?.namespace;
  return ns ? `${ns}/${object.metadata?.name}` : `${object.metadata?.name}`;
}

export class Informer<T extends KubernetesObject> {
  private readonly store = new Map<string, T>();
  private readonly handlers: Handler<T>[] = [];
  private readonly clock: Clock;
  private readonly stallTimeoutMs: number;
  private readonly resyncMs: number;
  private readonly watchTimeoutSeconds: number;
  private resourceVersion = '';
  private abort: AbortController | undefined;
  private stopped = true;
  private synced = false;
  private failures = 0;
  private lastActivity = 0;
  private connected = false;
  private watchdog: Timer | undefined;
  private resync: Timer | undefined;
  private retry: Timer | undefined;
  private generation = 0;

  readonly name: string;
  private readonly kubeConfig: KubeConfig;
  private readonly path: string;
  private readonly list: ListFn<T>;
  private readonly log: Logger;
  private readonly onRestart: InformerOptions['onRestart'];

  constructor(name: string, kubeConfig: KubeConfig, path: string, list: ListFn<T>, log: Logger, options: InformerOptions = {}) {
    this.name = name;
    this.kubeConfig = kubeConfig;
    this.path = path;
    this.list = list;
    this.log = log;
    this.clock = options.clock ?? realClock;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 5 * 60_000;
    this.resyncMs = options.resyncMs ?? 10 * 60_000;
    this.watchTimeoutSeconds = options.watchTimeoutSeconds ?? 300;
    this.onRestart = options.onRestart;
  }

  on(handler: Handler<T>): void { this.handlers.push(handler); }

  get(key: string): T | undefined { return this.store.get(key); }
  values(): T[] { return [...this.store.values()]; }
  hasSynced(): boolean { return this.synced; }

  /** False when the watch has been down, or silent, for longer than the stall timeout. */
  healthy(): boolean {
    if (this.stopped) return true;
    return this.clock.now() - this.lastActivity <= this.stallTimeoutMs * 1.5 || (this.connected && this.synced);
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.lastActivity = this.clock.now();
    this.scheduleWatchdog();
    this.scheduleResync();
    await this.relistAndWatch();
  }

  /** Resolves once the first list has filled the cache. */
  async waitForSync(timeoutMs = 60_000): Promise<void> {
    const start = Date.now();
    while (!this.synced) {
      if (Date.now() - start > timeoutMs) throw new Error(`${this.name} informer did not sync in ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.abort?.abort();
    this.watchdog?.cancel();
    this.resync?.cancel();
    this.retry?.cancel();
  }

  private emit(type: EventType, object: T, old?: T): void {
    for (const handler of this.handlers) {
      try { handler(type, object, old); } catch (err) { this.log.error('Informer handler failed', { informer: this.name, error: String(err) }); }
    }
  }

  private async relistAndWatch(): Promise<void> {
    if (this.stopped) return;
    const generation = ++this.generation;
    let listed: ListResult<T>;
    try {
      listed = await this.list();
    } catch (err) {
      this.log.warn(Message.ListFailed, { informer: this.name, error: errorText(err) });
      this.backoffThen(generation, () => this.relistAndWatch());
      return;
    }
    if (generation !== this.generation || this.stopped) return;
    this.replace(listed.items);
    this.resourceVersion = listed.resourceVersion;
    this.synced = true;
    await this.watch(generation);
  }

  /** Replaces the cache with a fresh list, emitting the differences (and a resync for the rest). */
  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      const key = objectKey(item);
      seen.add(key);
      const old = this.store.get(key);
      this.store.set(key, item);
      if (!old) this.emit('add', item);
      else if (old.metadata?.resourceVersion !== item.metadata?.resourceVersion) this.emit('update', item, old);
      else this.emit('resync', item);
    }
    for (const [key, old] of [...this.store]) {
      if (!seen.has(key)) { this.store.delete(key); this.emit('delete', old); }
    }
  }

  private async watch(generation: number): Promise<void> {
    const watcher = new Watch(this.kubeConfig);
    // client-node aborts a watch after 30 s without data; bookmarks arrive about once a minute,
    // so leave inactivity to our own watchdog.
    (watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = this.stallTimeoutMs * 2;
    let gone = false;
    const done = (err: unknown) => {
      if (generation !== this.generation || this.stopped) return;
      this.connected = false;
      if (gone) {
        this.log.info(Message.WatchExpired, { informer: this.name });
        this.onRestart?.('gone');
        this.failures = 0;
        void this.relistAndWatch();
      } else if (err) {
        this.log.warn(Message.WatchFailed, { informer: this.name, error: errorText(err) });
        this.onRestart?.('error');
        this.backoffThen(generation, () => this.relistAndWatch());
      } else {
        // A normal server-side close: resume from the last version seen.
        this.generation++;
        void this.watch(this.generation);
      }
    };
    const onEvent = (phase: string, object: T & { code?: number }) => {
      if (generation !== this.generation) return;
      this.lastActivity = this.clock.now();
      this.connected = true;
      this.failures = 0;
      const rv = object?.metadata?.resourceVersion;
      switch (phase) {
        case 'ADDED':
        case 'MODIFIED': {
          const key = objectKey(object);
          const old = this.store.get(key);
          this.store.set(key, object);
          this.emit(old ? 'update' : 'add', object, old);
          break;
        }
        case 'DELETED': {
          const key = objectKey(object);
          this.store.delete(key);
          this.emit('delete', object);
          break;
        }
        case 'BOOKMARK':
          break;
        case 'ERROR':
          // A Status object: 410 Gone (or anything else) means our version is unusable.
          gone = true;
          this.abort?.abort();
          return;
      }
      if (rv) this.resourceVersion = rv;
    };
    try {
      this.abort = await watcher.watch(this.path, {
        allowWatchBookmarks: true,
        resourceVersion: this.resourceVersion,
        timeoutSeconds: this.watchTimeoutSeconds + Math.floor(Math.random() * 60),
      }, onEvent as (phase: string, object: unknown) => void, done);
      if (generation === this.generation) {
        this.lastActivity = this.clock.now();
        this.connected = true;
        this.log.debug(Message.WatchStarted, { informer: this.name, resourceVersion: this.resourceVersion });
      }
    } catch (err) {
      done(err);
    }
  }

  private backoffThen(generation: number, next: () => Promise<void>): void {
    const delay = Math.min(30_000, 1_000 * 2 ** this.failures);
    this.failures++;
    this.retry?.cancel();
    this.retry = this.clock.after(delay, () => {
      if (generation === this.generation && !this.stopped) void next();
    });
  }

  private scheduleWatchdog(): void {
    const interval = Math.max(250, Math.floor(this.stallTimeoutMs / 4));
    this.watchdog = this.clock.after(interval, () => {
      if (this.stopped) return;
      if (this.connected && this.clock.now() - this.lastActivity > this.stallTimeoutMs) {
        this.log.warn(Message.WatchStalled, { informer: this.name, silentMs: this.clock.now() - this.lastActivity });
        this.onRestart?.('stall');
        this.connected = false;
        this.generation++;
        this.abort?.abort();
        void this.relistAndWatch();
      }
      this.scheduleWatchdog();
    });
  }

  private scheduleResync(): void {
    this.resync = this.clock.after(this.resyncMs, () => {
      if (this.stopped) return;
      void this.periodicRelist();
      this.scheduleResync();
    });
  }

  private async periodicRelist(): Promise<void> {
    try {
      const listed = await this.list();
      if (this.stopped) return;
      this.replace(listed.items);
    } catch (err) {
      this.log.warn(Message.ListFailed, { informer: this.name, error: errorText(err) });
    }
  }
}

export function errorText(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: number; statusCode?: number; message?: string; body?: unknown };
    const code = e.code ?? e.statusCode;
    return `${code ? `HTTP ${code}: ` : ''}${e.message ?? String(err)}`.slice(0, 500);
  }
  return String(err);
}
