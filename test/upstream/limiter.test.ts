import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Limiter } from '../../src/upstream/limiter.ts';

/** A promise with its resolve function outside. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets the limiter hand a freed slot over (on the next turn of the event loop). */
const tick = () => new Promise((r) => setTimeout(r, 10));

describe('Limiter', () => {
  it('runs at most max at once and starts the queued in arrival order', async () => {
    const lim = new Limiter(2);
    const gates = Array.from({ length: 5 }, () => deferred());
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const runs = gates.map((g, i) =>
      lim.run(async () => {
        started.push(i);
        running++;
        most = Math.max(most, running);
        await g.promise;
        running--;
        return i;
      }),
    );
    await tick();
    assert.deepEqual(started, [0, 1]);
    assert.deepEqual([lim.active, lim.queued], [2, 3]);
    gates[1]!.resolve();
    await tick();
    assert.deepEqual(started, [0, 1, 2]);
    for (const g of gates) g.resolve();
    assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3, 4]);
    assert.equal(most, 2);
    await tick();
    assert.deepEqual([lim.active, lim.queued], [0, 0]);
  });

  it('frees the slot when the task fails', async () => {
    const lim = new Limiter(1);
    await assert.rejects(
      lim.run(async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await lim.run(async () => 'next'), 'next');
    await tick();
    assert.equal(lim.active, 0);
  });

  it('takes a queued task out of the queue when its signal aborts, with the signal reason', async () => {
    const lim = new Limiter(1);
    const gate = deferred();
    const first = lim.run(() => gate.promise);
    const ac = new AbortController();
    let ran = false;
    const queued = lim.run(async () => {
      ran = true;
    }, ac.signal);
    const third = lim.run(async () => 'third');
    await tick();
    assert.equal(lim.queued, 2);
    const reason = new Error('client went away');
    ac.abort(reason);
    await assert.rejects(queued, (e) => e === reason);
    assert.equal(lim.queued, 1, 'its place is free');
    gate.resolve();
    await first;
    assert.equal(await third, 'third');
    assert.equal(ran, false, 'an aborted task never starts');
  });

  it('refuses at once with an already aborted signal', async () => {
    const lim = new Limiter(1);
    const reason = new Error('gone');
    await assert.rejects(
      lim.run(async () => 'x', AbortSignal.abort(reason)),
      (e) => e === reason,
    );
    assert.equal(lim.active, 0);
  });

  it('leaves a running task to its own signal handling and frees the slot when it ends', async () => {
    const lim = new Limiter(1);
    const ac = new AbortController();
    const running = lim.run(
      () => new Promise((_res, rej) => ac.signal.addEventListener('abort', () => rej(ac.signal.reason))),
      ac.signal,
    );
    await tick();
    ac.abort(new Error('stop'));
    await assert.rejects(running, /stop/);
    assert.equal(await lim.run(async () => 1), 1);
  });

  it('hands a freed slot to a waiter only after the clients that left in the same turn are gone', async () => {
    const lim = new Limiter(1);
    const gate = deferred();
    const first = lim.run(() => gate.promise);
    const ac = new AbortController();
    let started = false;
    const second = lim.run(async () => {
      started = true;
    }, ac.signal);
    await tick();
    // The running task ends and the queued client leaves in the same turn of the event loop.
    gate.resolve();
    await first;
    ac.abort(new Error('gone'));
    await assert.rejects(second, /gone/);
    await tick();
    assert.equal(started, false);
    assert.deepEqual([lim.active, lim.queued], [0, 0]);
  });

  it('refuses a limit below 1', () => {
    assert.throws(() => new Limiter(0), /positive/);
  });
});
