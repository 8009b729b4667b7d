import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nextRefreshDelay, RefreshScheduler } from '../../src/views/refresh-scheduler';
import { advance, settle, useFakeClock } from './fake-clock';
import { sleep } from '../sleep';

describe('refresh scheduler', () => {
  useFakeClock();

  it('polls only while visible, with one request in flight and merged follow-ups', async () => {
    let calls = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const scheduler = new RefreshScheduler(
      async () => {
        calls++;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(30);
        inFlight--;
        return true;
      },
      { intervalMs: () => 50 },
    );
    scheduler.refreshNow();
    scheduler.refreshNow();
    scheduler.refreshNow();
    await advance(100);
    assert.equal(maxInFlight, 1);
    assert.equal(calls, 2, 'three requests while one ran became one follow-up');
    await advance(200);
    assert.equal(calls, 2, 'no polling while hidden');
    scheduler.setVisible(true);
    await advance(300);
    // 30 ms of work, then 50 ms wait: refreshes start at 0 (on show), 80, 160, 240.
    assert.equal(calls, 6, `polls every 50 ms after the last refresh while visible (${calls})`);
    scheduler.setVisible(false);
    const after = calls;
    await advance(200);
    assert.equal(calls, after, 'hiding stops polling');
    scheduler.dispose();
  });

  it('backs off after errors and stops until asked again', async () => {
    const at: number[] = [];
    const started = Date.now();
    const scheduler = new RefreshScheduler(
      async () => {
        at.push(Date.now() - started);
        return false;
      },
      { intervalMs: () => 20, maxConsecutiveErrors: 3 },
    );
    scheduler.setVisible(true);
    await advance(400);
    assert.equal(at.length, 3, `stopped after 3 errors (${at})`);
    assert.ok(at[2] - at[1] > at[1] - at[0], `gaps grow (${at})`);
    scheduler.refreshNow();
    await settle(); // no clock movement: "at once" means without waiting for any timer
    assert.equal(at.length, 4, 'a manual refresh runs at once');
    assert.equal(at[3], 400);
    scheduler.dispose();
  });

  it('coalesces background change notifications', async () => {
    let calls = 0;
    const scheduler = new RefreshScheduler(
      async () => {
        calls++;
        return true;
      },
      { intervalMs: () => 0, debounceMs: 30 },
    );
    for (let i = 0; i < 10; i++) scheduler.refreshSoon();
    await advance(80);
    assert.equal(calls, 1);
    scheduler.dispose();
  });

  it('retries an unreachable server soon at first (1 s, 2 s, 4 s…, capped), other errors from the interval', () => {
    const unreachable = [1, 2, 3, 4, 5, 6, 7].map((n) => nextRefreshDelay(n, 10_000, { retrySoon: true }));
    assert.deepEqual(unreachable, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    const other = [1, 2, 3].map((n) => nextRefreshDelay(n, 10_000));
    assert.deepEqual(other, [20_000, 30_000, 30_000], 'a rate limit is not hammered');
    assert.equal(nextRefreshDelay(0, 10_000, { retrySoon: true }), 10_000, 'no error: the interval');
  });

  it('notices a server back within seconds when it restarted, though the interval is long', async () => {
    let up = true;
    let unreachable = false;
    const at: number[] = [];
    const started = Date.now();
    const scheduler = new RefreshScheduler(
      async () => {
        at.push(Date.now() - started);
        unreachable = !up;
        return up;
      },
      {
        intervalMs: () => 10_000,
        retrySoon: () => unreachable,
      },
    );
    scheduler.setVisible(true);
    await advance(10); // the first refresh, on show
    up = false;
    await advance(10_000); // the poll at 10 s fails
    assert.equal(scheduler.errorCount, 1);
    await advance(3000); // retried at 11 s and 13 s
    assert.deepEqual(at, [0, 10_000, 11_000, 13_000]);
    up = true;
    await advance(4000); // the next retry, at 17 s, finds it back
    assert.equal(at[4], 17_000);
    assert.equal(scheduler.errorCount, 0, 'recovered 4 s after it came back, not 20 s or more');
    await advance(10_000);
    assert.equal(at[5], 27_000, 'back to the interval');
    scheduler.dispose();
  });
});
