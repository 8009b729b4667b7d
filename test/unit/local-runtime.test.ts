// Telling whether a local runtime process serves a data directory, with real processes: a
// runtime that is starting or stopping must be waited for, never get a second one next to it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveRuntimePid } from '../../src/connection/local-runtime';

describe('local runtime process', () => {
  it('finds the live runtime of a data dir, and no runtime in a stale or reused pid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'e2b-pid-'));
    try {
      assert.equal(liveRuntimePid(dir), undefined, 'no runtime.pid');
      // A process started the way a runtime is (`… cli.js up …`).
      const runtime = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'up', '--data-dir', dir], { stdio: 'ignore' });
      const exited = new Promise((resolve) => runtime.once('exit', resolve));
      await new Promise((resolve) => runtime.once('spawn', resolve));
      writeFileSync(join(dir, 'runtime.pid'), String(runtime.pid));
      assert.equal(liveRuntimePid(dir), runtime.pid);
      runtime.kill('SIGKILL');
      await exited;
      assert.equal(liveRuntimePid(dir), undefined, 'the runtime exited');
      writeFileSync(join(dir, 'runtime.pid'), String(process.pid));
      assert.equal(liveRuntimePid(dir), undefined, 'a pid reused by another program is no runtime');
      writeFileSync(join(dir, 'runtime.pid'), 'garbage');
      assert.equal(liveRuntimePid(dir), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
