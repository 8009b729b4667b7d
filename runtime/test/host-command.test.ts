// The runtime's host tools run through e2b-spawner (src/host-command.ts, native/spawner.c): what
// they print, how they end, their input and output files, many at once, and nothing of the
// runtime's reaching them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureNativePrograms, NATIVE_PROGRAMS } from '../src/container/native';
import { HostCommandError, runHostCommand, useSpawner } from '../src/host-command';

/** The error a command fails with (and a failure if it succeeds). */
async function failureOf(command: string, args: string[], options = {}): Promise<HostCommandError> {
  try {
    await runHostCommand(command, args, options);
  } catch (err) {
    assert.ok(err instanceof HostCommandError, `a HostCommandError, not ${String(err)}`);
    return err;
  }
  assert.fail(`${command} ${args.join(' ')} succeeded`);
}

function spawnerRunning(): boolean {
  try {
    execFileSync('pgrep', ['-P', String(process.pid), '-x', NATIVE_PROGRAMS.spawner]);
    return true;
  } catch {
    return false;
  }
}

describe('host commands through the spawner', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'e2b-spawner-test-'));
    ensureNativePrograms(join(dir, 'bin'));
    useSpawner(join(dir, 'bin', NATIVE_PROGRAMS.spawner));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('returns stdout, and fails with the status and stderr of a command that exits non-zero', async () => {
    assert.equal(await runHostCommand('echo', ['hello', 'world']), 'hello world\n');
    const failed = await failureOf('sh', ['-c', 'echo partial; echo "no such thing" >&2; exit 3']);
    assert.equal(failed.status, 3);
    assert.equal(failed.stdout, 'partial\n');
    assert.equal(failed.stderr, 'no such thing\n');
    assert.equal(failed.message, 'sh: no such thing');
  });

  it('says so when a command is killed, times out, or cannot be started', async () => {
    assert.equal((await failureOf('sh', ['-c', 'kill -9 $$'])).status, -9);
    const slow = await failureOf('sleep', ['30'], { timeoutMs: 200 });
    assert.equal(slow.timedOut, true);
    assert.equal(slow.message, 'sleep: timed out');
    const missing = await failureOf('e2b-no-such-tool', []);
    assert.equal(missing.status, 127);
    assert.match(missing.stderr, /e2b-no-such-tool: No such file or directory/);
  });

  it('feeds input, and appends output to a file when asked', async () => {
    assert.equal(await runHostCommand('tr', ['a-z', 'A-Z'], { input: 'table inet e2b {}\n' }), 'TABLE INET E2B {}\n');
    const log = join(dir, 'tool.log');
    await runHostCommand('sh', ['-c', 'echo first'], { outputFile: log });
    assert.equal(await runHostCommand('sh', ['-c', 'echo out; echo err >&2'], { outputFile: log }), '');
    assert.equal(readFileSync(log, 'utf8'), 'first\nout\nerr\n');
  });

  it('keeps the answers of many commands at once apart, large ones too', async () => {
    const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX';
    const outputs = await Promise.all(
      [...letters].map((letter) => runHostCommand('sh', ['-c', `head -c 300000 /dev/zero | tr '\\0' ${letter}`])),
    );
    outputs.forEach((out, i) => assert.ok(out.length === 300000 && out === letters[i].repeat(300000), `the output of command ${i}`));
  });

  it('answers once the command exits, even if something it started still holds its output', async () => {
    const answer = runHostCommand('sh', ['-c', 'sleep 20 & echo started']);
    const late = new Promise((resolve) => setTimeout(resolve, 10_000, 'no answer'));
    assert.equal(await Promise.race([answer, late]), 'started\n');
    execFileSync('pkill', ['-f', '^sleep 20$']);
  });

  it('gives a command nothing but its stdin, stdout and stderr', async () => {
    // ls itself holds one more: the directory it lists.
    const fds = (await runHostCommand('ls', ['/proc/self/fd'])).split('\n').filter(Boolean);
    assert.deepEqual(fds, ['0', '1', '2', '3']);
  });

  it('starts a new spawner when the old one is gone, and the old one still answers what it ran', async () => {
    const running = runHostCommand('sh', ['-c', 'sleep 1; echo finished']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    execFileSync('pkill', ['-KILL', '-P', String(process.pid), '-x', NATIVE_PROGRAMS.spawner]);
    // Once Node has reaped it (a command sent before that is lost with it, and fails).
    while (spawnerRunning()) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await runHostCommand('echo', ['again']), 'again\n');
    assert.equal(await running, 'finished\n');
  });
});
