// An injectable clock so that the work queue, backoff and schedules can be tested without waiting.

export interface Timer { cancel(): void }

export interface Clock {
  now(): number;
  /** Calls fn after ms milliseconds (of this clock's time). */
  after(ms: number, fn: () => void): Timer;
}

export const realClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const handle = setTimeout(fn, Math.max(0, ms));
    handle.unref?.();
    return { cancel: () => clearTimeout(handle) };
  },
};

/** A clock that only moves when told to; timers fire in time order during advance(). */
export class FakeClock implements Clock {
  private current: number;
  private timers: { at: number; seq: number; fn: () => void; cancelled: boolean }[] = [];
  private seq = 0;

  constructor(start = Date.UTC(2026, 0, 1)) { this.current = start; }

  now(): number { return this.current; }

  after(ms: number, fn: () => void): Timer {
    const timer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => { timer.cancelled = true; } };
  }

  /** Moves time forward, firing due timers in order (including ones they schedule). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers
        .filter((t) => !t.cancelled && t.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      due.cancelled = true;
      this.current = due.at;
      due.fn();
    }
    this.timers = this.timers.filter((t) => !t.cancelled);
    this.current = target;
  }

  pendingTimers(): number { return this.timers.filter((t) => !t.cancelled).length; }

  /** When the earliest pending timer is due, so a test can step from one event to the next. */
  nextTimerAt(): number | undefined {
    const pending = this.timers.filter((t) => !t.cancelled).map((t) => t.at);
    return pending.length > 0 ? Math.min(...pending) : undefined;
  }
}
