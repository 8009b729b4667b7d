import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, retryAfterMs } from '../../src/connection/backoff';

describe('backoff', () => {
  it('doubles from the base up to the cap', () => {
    const exact = (attempt: number) => backoffDelay(attempt, { baseMs: 500, maxMs: 5000, jitter: 0 });
    assert.deepEqual([0, 1, 2, 3, 4, 5].map(exact), [500, 1000, 2000, 4000, 5000, 5000]);
  });

  it('spreads retries by the jitter, both ways', () => {
    assert.equal(
      backoffDelay(1, { baseMs: 1000, jitter: 0.2 }, () => 0),
      1600,
    );
    assert.equal(
      backoffDelay(1, { baseMs: 1000, jitter: 0.2 }, () => 1),
      2400,
    );
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    assert.equal(retryAfterMs('3'), 3000);
    assert.equal(retryAfterMs(' 0 '), 0);
    const now = Date.parse('Sun, 29 Nov 2026 10:00:00 GMT');
    assert.equal(retryAfterMs('Sun, 29 Nov 2026 10:00:05 GMT', now), 5000);
    assert.equal(retryAfterMs('Sun, 29 Nov 2026 09:00:00 GMT', now), 0);
    assert.equal(retryAfterMs(undefined), undefined);
    assert.equal(retryAfterMs('soon'), undefined);
  });
});
