// `e2b sandbox snapshot create|list|delete` from the E2B CLI on npm (@e2b/cli), pointed at the
// runtime as its users point it at a self-hosted E2B: E2B_API_URL, E2B_SANDBOX_URL, E2B_API_KEY.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Sandbox } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';

const CLI = resolve(__dirname, '../../node_modules/@e2b/cli/dist/index.js');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('e2b sandbox snapshot (the CLI from npm)', () => {
  let runtime: RuntimeProcess;
  let home: string;
  before(async () => {
    runtime = await RuntimeProcess.start(['--warm-pool', '0']);
    // A HOME of its own: no ~/.e2b config of the machine's user is read or written.
    home = mkdtempSync(join(tmpdir(), 'e2b-cli-home-'));
  });
  after(async () => {
    await runtime?.dispose();
    rmSync(home, { recursive: true, force: true });
  });

  function e2b(...args: string[]): Promise<CliResult> {
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      E2B_API_URL: runtime.url,
      E2B_SANDBOX_URL: runtime.url,
      E2B_API_KEY: runtime.apiKey,
      NO_COLOR: '1',
      CI: '1',
    };
    return new Promise((done) => {
      execFile(process.execPath, [CLI, ...args], { env, timeout: 120_000 }, (err, stdout, stderr) => {
        done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  }

  it('creates, lists and deletes snapshots of a running sandbox', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, timeoutMs: 120_000 });
    await sandbox.files.write('/home/user/cli.txt', 'from the cli');

    const named = await e2b('sandbox', 'snapshot', 'create', sandbox.sandboxId, '--name', 'cli-snap');
    assert.equal(named.code, 0, named.stderr);
    assert.match(named.stdout, new RegExp(`Created snapshot cli-snap:default from sandbox ${sandbox.sandboxId}`));
    const unnamed = await e2b('sandbox', 'snap', 'cr', sandbox.sandboxId);
    assert.equal(unnamed.code, 0, unnamed.stderr);
    const unnamedId = /Created snapshot (\S+)/.exec(unnamed.stdout)![1];
    assert.match(unnamedId, /^[a-z0-9]{20}:default$/);

    const listed = await e2b('sandbox', 'snapshot', 'list', '--format', 'json');
    assert.equal(listed.code, 0, listed.stderr);
    const snapshots = JSON.parse(listed.stdout) as { snapshotId: string; names: string[] }[];
    assert.deepEqual(snapshots.map((s) => s.snapshotId).sort(), ['cli-snap:default', unnamedId].sort());
    assert.deepEqual(snapshots.find((s) => s.snapshotId === 'cli-snap:default')!.names, ['cli-snap']);
    const table = await e2b('sandbox', 'snapshot', 'list', sandbox.sandboxId);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /cli-snap:default/);
    const byName = await e2b('sandbox', 'snapshot', 'list', '--name', 'cli-snap', '--format', 'json');
    assert.deepEqual(
      (JSON.parse(byName.stdout) as { snapshotId: string }[]).map((s) => s.snapshotId),
      ['cli-snap:default'],
    );

    // What the CLI made, the SDK starts from.
    const fromSnapshot = await Sandbox.create('cli-snap', runtime.sdk);
    assert.equal(await fromSnapshot.files.read('/home/user/cli.txt'), 'from the cli');
    await fromSnapshot.kill();

    const deleted = await e2b('sandbox', 'snapshot', 'delete', 'cli-snap:default', unnamedId);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /Snapshot cli-snap:default has been deleted/);
    assert.match(deleted.stdout, new RegExp(`Snapshot ${unnamedId} has been deleted`));
    const empty = await e2b('sandbox', 'snapshot', 'list');
    assert.match(empty.stdout, /No snapshots found/);
    await sandbox.kill();
  });

  it('says what is wrong: an unknown sandbox or snapshot', async () => {
    const noSandbox = await e2b('sandbox', 'snapshot', 'create', 'nosuchsandbox0000000');
    assert.equal(noSandbox.code, 1);
    assert.match(noSandbox.stderr, /Sandbox nosuchsandbox0000000 wasn't found/);
    const noSnapshot = await e2b('sandbox', 'snapshot', 'delete', 'nosuchsnapshot');
    assert.match(noSnapshot.stderr, /Snapshot nosuchsnapshot wasn't found/);
  });
});
