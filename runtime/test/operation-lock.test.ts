// The per-sandbox operation lock (src/sandbox/operation-lock.ts) on its own: operations on one
// sandbox run one after another in the order they were queued, a failed one frees the lock for
// the next, other sandboxes never wait, and only the last operation's end frees the sandbox.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OperationLock } from '../src/sandbox/operation-lock';

/** A promise and the functions that settle it, so a test decides when an operation ends. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued promise callback run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

describe('operation lock', () => {
  it("runs one sandbox's operations one at a time, in order, with their results", async () => {
    const lock = new OperationLock();
    const log: string[] = [];
    const first = deferred();
    const a = lock.run('s1', async () => {
      log.push('a starts');
      await first.promise;
      log.push('a ends');
      return 'A';
    });
    const b = lock.run('s1', async () => {
      log.push('b starts');
      return 'B';
    });
    await settle();
    assert.deepEqual(log, ['a starts'], 'b waits while a runs');
    first.resolve();
    assert.deepEqual(await Promise.all([a, b]), ['A', 'B']);
    assert.deepEqual(log, ['a starts', 'a ends', 'b starts']);
  });

  it('passes a failure to its caller and then runs the next operation', async () => {
    const lock = new OperationLock();
    const failing = lock.run('s1', async () => {
      throw new Error('boom');
    });
    const next = lock.run('s1', async () => 'ran');
    await assert.rejects(failing, /boom/);
    assert.equal(await next, 'ran');
  });

  it('never makes one sandbox wait for another', async () => {
    const lock = new OperationLock();
    const blocked = deferred();
    void lock.run('s1', () => blocked.promise);
    assert.equal(await lock.run('s2', async () => 'free'), 'free');
    await settle();
    assert.equal(lock.busy('s1'), true);
    assert.equal(lock.busy('s2'), false);
    blocked.resolve();
  });

  it('stays busy until the last queued operation ends, not the first', async () => {
    const lock = new OperationLock();
    const first = deferred();
    const second = deferred();
    const a = lock.run('s1', () => first.promise);
    const b = lock.run('s1', () => second.promise);
    first.resolve();
    await a;
    await settle();
    assert.equal(lock.busy('s1'), true, 'the second operation still holds the lock');
    second.resolve();
    await b;
    await settle();
    assert.equal(lock.busy('s1'), false);
  });
});
