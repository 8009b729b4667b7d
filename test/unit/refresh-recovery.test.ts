import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RefreshScheduler } from '../../src/views/refresh-scheduler';
import { advance, useFakeClock } from './fake-clock';

describe('refresh scheduler during an outage', () => {
  useFakeClock();

  it('keeps polling after many errors (capped back-off) and notices the server is back', async () => {
    let up = false;
    const at: number[] = [];
    const started = Date.now();
    const scheduler = new RefreshScheduler(
      async () => {
        at.push(Date.now() - started);
        return up;
      },
      { intervalMs: () => 5, maxBackoffMs: 40 },
    );
    scheduler.setVisible(true);
    await advance(400);
    assert.ok(at.length >= 8, `still polling after ${at.length} failures`);
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    assert.ok(
      gaps.slice(-3).every((gap) => gap === 40),
      `back-off reached its cap: ${gaps}`,
    );
    up = true;
    await advance(120);
    assert.equal(scheduler.errorCount, 0, 'recovered without a manual refresh');
    scheduler.dispose();
  });
});
