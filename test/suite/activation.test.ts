// The activation measurement the extension benchmarks read (npm run bench:extension): it must
// stay exposed and sane, or the benchmark would silently report nothing.
import * as assert from 'node:assert/strict';
import { extensionApi } from './helpers';

describe('Activation timing', () => {
  it('exposes how long its activation took', async () => {
    const { activation } = await extensionApi();
    assert.ok(activation.activateMs > 0 && activation.activateMs < 60_000, `activate() took ${activation.activateMs} ms`);
    assert.ok(
      activation.loadMs !== undefined && activation.loadMs > 0 && activation.loadMs < 60_000,
      `loading took ${activation.loadMs} ms`,
    );
    assert.ok(Math.abs(activation.totalMs - (activation.loadMs + activation.activateMs)) < 1e-6);
  });
});
