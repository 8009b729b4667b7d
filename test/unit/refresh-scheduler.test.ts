import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RefreshScheduler } from '../../src/views/refresh-scheduler';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('refresh scheduler', () => {
  it('polls only while visible, with one request in flight and merged follow-ups', async () => {
    let calls = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const scheduler = new RefreshScheduler(async () => {
      calls++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await tick(30);
      inFlight--;
      return true;
    }, { intervalMs: () => 50 });
    scheduler.refreshNow();
    scheduler.refreshNow();
    scheduler.refreshNow();
    await tick(100);
    assert.equal(maxInFlight, 1);
    assert.equal(calls, 2, 'three requests while one ran became one follow-up');
    await tick(200);
    assert.equal(calls, 2, 'no polling while hidden');
    scheduler.setVisible(true);
    await tick(300);
    assert.ok(calls >= 4, `polls while visible (${calls})`);
    scheduler.setVisible(false);
    const after = calls;
    await tick(200);
    assert.ok(calls <= after + 1);
    scheduler.dispose();
  });

  it('backs off after errors and stops until asked again', async () => {
    const at: number[] = [];
    const started = Date.now();
    const scheduler = new RefreshScheduler(async () => { at.push(Date.now() - started); return false; }, { intervalMs: () => 20, maxConsecutiveErrors: 3 });
    scheduler.setVisible(true);
    await tick(400);
    assert.equal(at.length, 3, `stopped after 3 errors (${at})`);
    assert.ok(at[2] - at[1] > at[1] - at[0], 'gaps grow');
    scheduler.refreshNow();
    await tick(30);
    assert.equal(at.length, 4, 'a manual refresh runs at once');
    scheduler.dispose();
  });

  it('coalesces background change notifications', async () => {
    let calls = 0;
    const scheduler = new RefreshScheduler(async () => { calls++; return true; }, { intervalMs: () => 0, debounceMs: 30 });
    for (let i = 0; i < 10; i++) scheduler.refreshSoon();
    await tick(80);
    assert.equal(calls, 1);
    scheduler.dispose();
  });
});
