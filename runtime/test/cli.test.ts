// The E2B CLI from npm (@e2b/cli), unchanged, against a real runtime: pointed at it by E2B_API_URL,
// E2B_SANDBOX_URL and E2B_API_KEY, as a user points it at any E2B API. Snapshot commands have
// their own test file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { Sandbox } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';
import { waitUntil } from './helpers/wait';

const CLI = require.resolve('@e2b/cli/dist/index.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('the E2B CLI against the runtime', () => {
  let runtime: RuntimeProcess;
  /** A home of its own, so no ~/.e2b login of the machine's user is read. */
  let home: string;
  before(async () => {
    runtime = await RuntimeProcess.start();
    home = mkdtempSync(join(tmpdir(), 'e2b-cli-home-'));
  });
  after(async () => {
    await runtime?.dispose();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  function cliEnv(): NodeJS.ProcessEnv {
    const { E2B_API_KEY: _k, E2B_API_URL: _u, E2B_SANDBOX_URL: _s, E2B_DOMAIN: _d, E2B_DEBUG: _g, ...rest } = process.env;
    return {
      ...rest,
      HOME: home,
      FORCE_COLOR: '0',
      NO_COLOR: '1',
      E2B_API_URL: runtime.url,
      E2B_SANDBOX_URL: runtime.url,
      E2B_API_KEY: runtime.apiKey,
    };
  }

  function start(args: string[], command = process.execPath, commandArgs = [CLI, ...args]): ChildProcess {
    return spawn(command, commandArgs, { env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  }

  function finished(child: ChildProcess): Promise<Run> {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  }

  async function e2b(args: string[], stdin?: string): Promise<Run> {
    const child = start(args);
    const done = finished(child);
    child.stdin!.end(stdin ?? '');
    return done;
  }

  async function ok(args: string[], stdin?: string): Promise<string> {
    const run = await e2b(args, stdin);
    assert.equal(run.code, 0, `e2b ${args.join(' ')} failed:\n${run.stdout}\n${run.stderr}`);
    return run.stdout;
  }

  async function jsonLogs(id: string, extra: string[] = []): Promise<Record<string, string>[]> {
    const out = await ok(['sandbox', 'logs', '--format', 'json', ...extra, id]);
    return out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, string>);
  }

  it('creates, lists, describes, measures, runs in, logs, pauses, resumes and kills a sandbox', async () => {
    const id = (await ok(['sandbox', 'create', '--detach'])).trim();
    assert.match(id, /^[a-z0-9]{20}$/);

    assert.match(await ok(['sandbox', 'list']), new RegExp(`${id}\\s+base`));
    const listed = JSON.parse(await ok(['sandbox', 'list', '--format', 'json'])) as { sandboxId: string; state: string }[];
    assert.equal(listed.find((s) => s.sandboxId === id)?.state, 'running');
    const info = JSON.parse(await ok(['sandbox', 'info', '--format', 'json', id])) as {
      sandboxId: string;
      templateId: string;
      state: string;
    };
    assert.deepEqual([info.sandboxId, info.templateId, info.state], [id, 'base', 'running']);

    const exec = await e2b(['sandbox', 'exec', id, 'echo "out:$E2B_SANDBOX_ID"; echo err >&2; exit 7']);
    assert.equal(exec.code, 7, "the command's exit code is the CLI's");
    assert.equal(exec.stdout, `out:${id}\n`);
    assert.match(exec.stderr, /err/);
    assert.equal(await ok(['sandbox', 'exec', id, 'tr a-z A-Z'], 'piped into the sandbox\n'), 'PIPED INTO THE SANDBOX\n');

    const metrics = await waitUntil(
      'a metrics sample',
      async () => {
        const out = await ok(['sandbox', 'metrics', '--format', 'json', id]);
        const lines = out.split('\n').filter((l) => l.startsWith('{'));
        return lines.length > 0 ? lines.map((l) => JSON.parse(l) as { cpuCount: number; memTotal: number }) : undefined;
      },
      30_000,
      1000,
    );
    assert.ok(metrics[0].cpuCount > 0 && metrics[0].memTotal > 0, JSON.stringify(metrics[0]));

    const logs = await jsonLogs(id);
    assert.ok(
      logs.some((l) => l.logger === 'lifecycle' && l.message === 'sandbox created'),
      JSON.stringify(logs),
    );
    assert.ok(
      logs.some((l) => l.logger === 'agent' && /process \d+ started: .*echo "out:\$E2B_SANDBOX_ID"/.test(l.message)),
      JSON.stringify(logs),
    );
    assert.ok(
      logs.every((l) => ['info', 'warn', 'error'].includes(l.level)),
      'the default level, INFO, is a minimum',
    );
    assert.ok(
      logs.every((l) => !('sandboxID' in l) && !('teamID' in l)),
      'the CLI strips the ids it knows',
    );
    assert.deepEqual(await jsonLogs(id, ['--loggers', 'lifecycle']).then((ls) => [...new Set(ls.map((l) => l.logger))]), ['lifecycle']);
    // The pretty form (its util.inspect colours whatever FORCE_COLOR says).
    assert.match(
      stripVTControlCharacters(await ok(['sandbox', 'logs', id])),
      /INFO\s+\{ .*logger: 'lifecycle', message: 'sandbox created'/,
    );

    assert.match(await ok(['sandbox', 'pause', id]), new RegExp(`Sandbox ${id} has been paused`));
    assert.equal((JSON.parse(await ok(['sandbox', 'info', '--format', 'json', id])) as { state: string }).state, 'paused');
    assert.match(await ok(['sandbox', 'list', '--state', 'paused']), new RegExp(id));
    assert.match(await ok(['sandbox', 'resume', id]), new RegExp(`Sandbox ${id} has been resumed`));
    assert.equal(await ok(['sandbox', 'exec', id, 'echo back']), 'back\n');

    assert.match(await ok(['sandbox', 'kill', id]), new RegExp(`Sandbox ${id} has been killed`));
    assert.doesNotMatch(await ok(['sandbox', 'list', '--state', 'running,paused']), new RegExp(id));
    assert.match((await e2b(['sandbox', 'kill', id])).stderr, new RegExp(`Sandbox ${id} wasn't found`));
    const gone = await e2b(['sandbox', 'info', id]);
    assert.notEqual(gone.code, 0);
  });

  it("follows a sandbox's logs with -f until it is killed", async () => {
    const sandbox = await Sandbox.create(runtime.sdk);
    const follower = start(['sandbox', 'logs', '-f', '--format', 'json', sandbox.sandboxId]);
    const done = finished(follower);
    let seen = '';
    follower.stdout!.on('data', (c: Buffer) => {
      seen += c.toString();
    });
    await waitUntil('the logs so far', () => seen.includes('sandbox created'), 30_000);
    await sandbox.commands.run('echo while-following');
    await waitUntil('the new command in the followed logs', () => /process \d+ started: .*echo while-following/.test(seen), 30_000);
    await sandbox.kill();
    const run = await done;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /"message":"sandbox killed"/, 'it stops after the kill, which it shows');
    const lines = run.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { timestamp: string });
    const times = lines.map((l) => Date.parse(l.timestamp));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      'no line twice, none out of order',
    );
    assert.equal(new Set(run.stdout.split('\n').filter((l) => l.startsWith('{'))).size, lines.length);
  });

  it('opens a terminal in a new sandbox with an interactive create (through a PTY)', async () => {
    // util-linux's script gives the CLI the terminal it wants, as a user's shell would.
    const child = start([], 'script', ['-qfec', `${process.execPath} ${CLI} sandbox create`, '/dev/null']);
    const done = finished(child);
    let seen = '';
    child.stdout!.on('data', (c: Buffer) => {
      seen += c.toString();
    });
    const id = await waitUntil('the terminal to connect', () => /sandbox ID (?:\x1b\[\d+m)?([a-z0-9]{20})/.exec(seen)?.[1], 60_000);
    await waitUntil('a shell prompt', () => /\$ $/.test(seen.trimEnd() + ' ') || seen.includes('$ '), 30_000);
    child.stdin!.write('echo "inside:$E2B_SANDBOX_ID"\n');
    await waitUntil("the command's output", () => seen.includes(`inside:${id}`), 30_000);
    child.stdin!.write('exit\n');
    const run = await done;
    assert.equal(run.code, 0, seen);
    assert.match(seen, /Closing terminal connection/);
    // The CLI leaves the sandbox a second to live once its terminal closes.
    await waitUntil(
      'the sandbox to end',
      async () => !(await Sandbox.list(runtime.sdk).nextItems()).some((s) => s.sandboxId === id),
      30_000,
      500,
    );
  });

  it('lists templates', async () => {
    const pretty = await ok(['template', 'list']);
    assert.match(pretty, /base/);
    const templates = JSON.parse(await ok(['template', 'list', '--format', 'json'])) as {
      templateID: string;
      aliases: string[];
      buildStatus: string;
    }[];
    const base = templates.find((t) => t.templateID === 'base');
    assert.ok(base, JSON.stringify(templates));
    assert.deepEqual(base.aliases, ['base']);
  });
});
