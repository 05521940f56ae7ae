// The work queue's contract, on a fake clock: dedupe, one worker per key, merged re-adds,
// per-key exponential backoff (1 s -> 60 s), requeueAfter keeping the earliest time.
import { expect } from 'chai';
import { FakeClock } from '../../operator/controller/clock.ts';
import { WorkQueue } from '../../operator/controller/queue.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('WorkQueue', () => {
  let clock: FakeClock;
  let queue: WorkQueue;
  beforeEach(() => { clock = new FakeClock(); queue = new WorkQueue(clock); });

  it('dedupes a key added many times while queued', async () => {
    for (let i = 0; i < 5; i++) queue.add('ns/a');
    queue.add('ns/b');
    expect(queue.length()).to.equal(2);
    expect(await queue.get()).to.equal('ns/a');
    expect(await queue.get()).to.equal('ns/b');
    expect(queue.length()).to.equal(0);
  });

  it('hands a key to one worker at a time and merges re-adds made during processing', async () => {
    queue.add('ns/a');
    const first = await queue.get();
    expect(first).to.equal('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    // A second worker must not get the same key while the first holds it.
    let second: string | undefined = 'unset';
    void queue.get().then((k) => { second = k; });
    await tick();
    expect(second).to.equal('unset');
    expect(queue.length()).to.equal(0);
    queue.done('ns/a');
    await tick();
    // The three adds during processing became exactly one re-queue, handed to the waiting worker.
    expect(second).to.equal('ns/a');
    expect(queue.length()).to.equal(0);
    queue.done('ns/a');
    expect(queue.length()).to.equal(0);
    expect(queue.inFlight()).to.equal(0);
  });

  it('backs off failures per key: 1 s, 2 s, 4 s ... capped at 60 s, and forget() resets', () => {
    const delays = Array.from({ length: 9 }, () => queue.addRateLimited('ns/a'));
    expect(delays).to.deep.equal([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    expect(queue.addRateLimited('ns/b')).to.equal(1000);
    queue.forget('ns/a');
    expect(queue.addRateLimited('ns/a')).to.equal(1000);
  });

  it('adds a rate-limited key only when its backoff has passed', () => {
    queue.addRateLimited('ns/a');
    queue.addRateLimited('ns/a');
    // The first failure scheduled an add at 1 s, the second at 2 s: the earlier one wins.
    clock.advance(999);
    expect(queue.length()).to.equal(0);
    clock.advance(1);
    expect(queue.length()).to.equal(1);
  });

  it('requeueAfter fires at the right time and keeps only the earliest pending time per key', () => {
    queue.addAfter('ns/a', 30_000);
    queue.addAfter('ns/a', 10_000);
    queue.addAfter('ns/a', 20_000);
    expect(queue.delayedCount()).to.equal(1);
    clock.advance(9_999);
    expect(queue.length()).to.equal(0);
    clock.advance(1);
    expect(queue.length()).to.equal(1);
    // The later times were merged into the earlier one, not kept.
    clock.advance(60_000);
    expect(queue.length()).to.equal(1);
    expect(clock.pendingTimers()).to.equal(0);
  });

  it('shutDown wakes waiting workers with undefined and drops queued and delayed keys', async () => {
    const waiting = queue.get();
    queue.addAfter('ns/late', 5_000);
    queue.shutDown();
    expect(await waiting).to.equal(undefined);
    queue.add('ns/a');
    expect(queue.length()).to.equal(0);
    clock.advance(10_000);
    expect(queue.length()).to.equal(0);
    expect(await queue.get()).to.equal(undefined);
  });

  it('lets different keys be processed concurrently', async () => {
    queue.add('ns/a');
    queue.add('ns/b');
    const [a, b] = await Promise.all([queue.get(), queue.get()]);
    expect([a, b]).to.deep.equal(['ns/a', 'ns/b']);
    expect(queue.inFlight()).to.equal(2);
  });
});
