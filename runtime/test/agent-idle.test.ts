// An idle sandbox's agent exits and e2b-init starts it again on the next connection (socket
// activation, native/init.c + agent/idle-exit.ts): what the sandbox was given at create (env
// vars, access token) survives the sleep, and work that outlives a connection (a background
// command, a PTY, a watcher) keeps the agent up, as does a pool sandbox waiting for hand-out.
// The agent's presence is read from the host (the sandbox's cgroup), since asking the sandbox
// would wake it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, SandboxOpts } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';
import { agentHostPidOf, sandboxHostPids } from './helpers/host-traces';
import { sleep, waitUntil } from './helpers/wait';

const IDLE_EXIT_SECONDS = 1;
// Longer than the idle exit plus the gateway's free-socket timeout (4 s), so "still up" means kept up.
const LONGER_THAN_IDLE_MS = 7000;

function procFile(pid: number, name: string): string {
  try {
    return readFileSync(`/proc/${pid}/${name}`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return ''; // it just ended
  }
}

/** Host pid of the sandbox's agent, or undefined while it sleeps. */
const agentPid = agentHostPidOf;

function initPid(sandboxId: string): number {
  const pid = sandboxHostPids(sandboxId).find((p) => procFile(p, 'comm') === 'e2b-init');
  assert.ok(pid, 'the sandbox has its init');
  return pid;
}

/** Runs `body` with a new sandbox, which is killed after it whatever happens. */
async function withSandbox(options: SandboxOpts, body: (sandbox: Sandbox) => Promise<void>): Promise<void> {
  const sandbox = await Sandbox.create(options);
  try {
    await body(sandbox);
  } finally {
    await sandbox.kill();
  }
}

const waitForSleep = (sandboxId: string) => waitUntil('the agent to exit when idle', () => agentPid(sandboxId) === undefined, 30_000);

describe('agent idle exit', () => {
  let runtime: RuntimeProcess;
  before(async () => {
    runtime = await RuntimeProcess.start(['--agent-idle-exit', String(IDLE_EXIT_SECONDS), '--warm-pool', 'base=1']);
  });
  after(async () => {
    await runtime?.dispose();
  });

  it('exits when idle and wakes for the next request with the same envs and access token', async () => {
    await withSandbox({ ...runtime.sdk, envs: { IDLE_TEST: 'kept' }, secure: true }, async (sandbox) => {
      await waitForSleep(sandbox.sandboxId);
      // init still holds the in-sandbox listener on 49983 (C33F) while the agent sleeps.
      const tcp = readFileSync(`/proc/${initPid(sandbox.sandboxId)}/net/tcp`, 'utf8');
      assert.match(tcp, /^\s*\d+: 00000000:C33F 00000000:0000 0A /m, 'port 49983 still listens');

      const woken = await sandbox.commands.run('echo $IDLE_TEST');
      assert.equal(woken.stdout, 'kept\n');
      assert.ok(agentPid(sandbox.sandboxId), 'the agent runs again');

      await waitForSleep(sandbox.sandboxId);
      const files = await fetch(`${runtime.url}/files?path=/etc/hostname`, {
        headers: { 'E2b-Sandbox-Id': sandbox.sandboxId, 'E2b-Sandbox-Port': '49983' },
      });
      await files.arrayBuffer();
      assert.equal(files.status, 401, 'a woken agent still wants the access token');
      assert.equal((await sandbox.files.read('/etc/hostname')).length > 0, true);

      const logs = await fetch(`${runtime.url}/v2/sandboxes/${sandbox.sandboxId}/logs`, { headers: { 'X-API-Key': runtime.apiKey } });
      assert.equal(logs.status, 200);
      const lines = ((await logs.json()) as { logs: { message: string }[] }).logs.map((l) => JSON.stringify(l)).join('\n');
      assert.doesNotMatch(lines, /starting it again|exited with/, 'sleeping is not logged as a crash');
    });
  });

  it('still answers a Connect to a command that ended before the sleep with its exit', async () => {
    await withSandbox(runtime.sdk, async (sandbox) => {
      const ended = await sandbox.commands.run('exit 3', { background: true });
      await assert.rejects(ended.wait(), (err: { exitCode?: number }) => err.exitCode === 3);
      await waitForSleep(sandbox.sandboxId);
      // envd replays start + end of a recently exited process to a late Connect.
      const again = await sandbox.commands.connect(ended.pid);
      await assert.rejects(again.wait(), (err: { exitCode?: number }) => err.exitCode === 3);
    });
  });

  it('stays up while a background command or a PTY runs without a connection', async () => {
    await withSandbox(runtime.sdk, async (sandbox) => {
      const background = await sandbox.commands.run('sleep 9', { background: true });
      await background.disconnect();
      await sleep(LONGER_THAN_IDLE_MS);
      assert.ok(agentPid(sandbox.sandboxId), 'a background command keeps the agent up');
      await sandbox.commands.kill(background.pid);

      const pty = await sandbox.pty.create({ cols: 80, rows: 24, onData: () => {} });
      await pty.disconnect();
      await sleep(LONGER_THAN_IDLE_MS);
      assert.ok(agentPid(sandbox.sandboxId), 'a PTY keeps the agent up');
      await sandbox.pty.kill(pty.pid);
      await waitForSleep(sandbox.sandboxId);
    });
  });

  it('stays up while a filesystem watch is open', async () => {
    await withSandbox(runtime.sdk, async (sandbox) => {
      const events: string[] = [];
      const watch = await sandbox.files.watchDir('/tmp', (event) => {
        events.push(event.name);
      });
      await sleep(LONGER_THAN_IDLE_MS);
      assert.ok(agentPid(sandbox.sandboxId), 'the watch keeps the agent up');
      await sandbox.files.write('/tmp/seen', 'x');
      await waitUntil('the watch event', () => events.includes('seen'));
      await watch.stop();
      await waitForSleep(sandbox.sandboxId);
    });
  });

  it('never puts a pool sandbox waiting for hand-out to sleep', async () => {
    const listed = new Set((await Sandbox.list(runtime.sdk).nextItems()).map((s) => s.sandboxId));
    const pooled = await waitUntil('a pool sandbox', () =>
      readdirSync(join(runtime.dataDir, 'sandboxes')).find((id) => !listed.has(id) && agentPid(id) !== undefined),
    );
    const before = agentPid(pooled);
    await sleep(LONGER_THAN_IDLE_MS);
    assert.equal(agentPid(pooled), before, 'the pool sandbox keeps its agent');
  });

  it('still restarts an agent that was killed', async () => {
    await withSandbox(runtime.sdk, async (sandbox) => {
      const first = agentPid(sandbox.sandboxId);
      assert.ok(first);
      process.kill(first, 'SIGKILL');
      const second = await waitUntil('a new agent', () => {
        const pid = agentPid(sandbox.sandboxId);
        return pid !== first && pid;
      });
      assert.notEqual(second, first);
      assert.equal((await sandbox.commands.run('echo back')).stdout, 'back\n');
    });
  });
});
