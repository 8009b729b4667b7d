// Telling whether a local runtime process serves a data directory, with real processes: a
// runtime that is starting or stopping must be waited for, never get a second one next to it.
// And the extension's side of the runtime contract: its default data dir, its env file reading.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveRuntimePid, readLocalRuntimeEnv, readUsableLocalRuntimeEnv } from '../../src/connection/local-runtime';
import { DEFAULT_DATA_DIR, runtimeFiles, writeEnvFile } from '../../runtime/src/contract/local-runtime-contract';

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

describe("the extension's side of the runtime contract", () => {
  it("defaults e2b.local.dataDir to the runtime's data dir", () => {
    const manifest = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8'));
    assert.equal(manifest.contributes.configuration.properties['e2b.local.dataDir'].default, DEFAULT_DATA_DIR);
  });

  it('reads the endpoint, and counts an unusable env file as none while saying why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'e2b-env-'));
    try {
      assert.equal(await readLocalRuntimeEnv(dir), undefined, 'no env file');
      const endpoint = {
        apiUrl: 'http://127.0.0.1:1',
        sandboxUrl: 'http://127.0.0.1:1',
        volumeApiUrl: 'http://127.0.0.1:1',
        apiKey: `e2b_${'0'.repeat(40)}`,
      };
      writeEnvFile(dir, endpoint);
      assert.deepEqual(await readLocalRuntimeEnv(dir), endpoint);
      assert.deepEqual(await readUsableLocalRuntimeEnv(dir), endpoint);
      writeFileSync(runtimeFiles(dir).env, "export E2B_API_URL='http://127.0.0.1:1\n");
      await assert.rejects(readLocalRuntimeEnv(dir), {
        name: 'ContractFileError',
        message: `${runtimeFiles(dir).env}: line 1: a quote (') is not closed`,
      });
      const problems: string[] = [];
      assert.equal(await readUsableLocalRuntimeEnv(dir, (problem) => problems.push(problem)), undefined);
      assert.deepEqual(problems, [`${runtimeFiles(dir).env}: line 1: a quote (') is not closed`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
