// Commands and PTYs through the official `e2b` SDK, executed by the agent inside a real container.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CommandExitError, Sandbox } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';
import { sleep, waitUntil } from './helpers/wait';

describe('commands and PTY', () => {
  let runtime: RuntimeProcess;
  let sandbox: Sandbox;
  before(async () => {
    runtime = await RuntimeProcess.start();
    sandbox = await Sandbox.create({ ...runtime.sdk, envs: { SANDBOX_WIDE: 'from-create', OVERRIDDEN: 'sandbox' } });
  });
  after(async () => {
    await runtime?.dispose();
  });

  it('runs a command: exit code, stdout, stderr', async () => {
    const ok = await sandbox.commands.run('echo hi; echo oops >&2');
    assert.equal(ok.exitCode, 0);
    assert.equal(ok.stdout, 'hi\n');
    assert.equal(ok.stderr, 'oops\n');
    await assert.rejects(sandbox.commands.run('echo partial; exit 3'), (err: unknown) => {
      assert.ok(err instanceof CommandExitError);
      assert.equal(err.exitCode, 3);
      assert.equal(err.stdout, 'partial\n');
      return true;
    });
  });

  it('runs as the default user and as root, in the home or a given cwd', async () => {
    const asUser = await sandbox.commands.run('id -un; id -u; pwd');
    assert.equal(asUser.stdout, 'user\n1000\n/home/user\n');
    const asRoot = await sandbox.commands.run('id -un; pwd', { user: 'root' });
    assert.equal(asRoot.stdout, 'root\n/root\n');
    const inTmp = await sandbox.commands.run('pwd', { cwd: '/tmp' });
    assert.equal(inTmp.stdout, '/tmp\n');
    const sudo = await sandbox.commands.run('sudo -n id -un');
    assert.equal(sudo.stdout, 'root\n');
    await assert.rejects(sandbox.commands.run('pwd', { cwd: '/does/not/exist' }));
  });

  it("gives login shells the profile's PATH: with sbin for root, without for the user", async () => {
    const rootPath = (await sandbox.commands.run('echo $PATH', { user: 'root' })).stdout.trim().split(':');
    const userPath = (await sandbox.commands.run('echo $PATH')).stdout.trim().split(':');
    assert.ok(rootPath.includes('/usr/sbin'), rootPath.join(':'));
    assert.ok(!userPath.includes('/usr/sbin') && userPath.includes('/usr/bin'), userPath.join(':'));
    // sh (dash) has no EUID: the profile still asks id there.
    assert.ok((await sandbox.commands.run("sh -lc 'echo $PATH'", { user: 'root' })).stdout.includes('/usr/sbin'));
  });

  it('gives processes the sandbox env, E2B variables and per-command env vars that win', async () => {
    const result = await sandbox.commands.run('echo $E2B_SANDBOX $E2B_SANDBOX_ID $E2B_TEMPLATE_ID $SANDBOX_WIDE $OVERRIDDEN $ONLY_HERE', {
      envs: { OVERRIDDEN: 'command', ONLY_HERE: 'yes' },
    });
    assert.equal(result.stdout, `true ${sandbox.sandboxId} base from-create command yes\n`);
  });

  it('streams output through callbacks as it is produced', async () => {
    const chunks: { stream: string; text: string; at: number }[] = [];
    const started = Date.now();
    await sandbox.commands.run('for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.5; done', {
      onStdout: (text) => {
        chunks.push({ stream: 'out', text, at: Date.now() - started });
      },
      onStderr: (text) => {
        chunks.push({ stream: 'err', text, at: Date.now() - started });
      },
    });
    const finished = Date.now() - started;
    const out = chunks
      .filter((c) => c.stream === 'out')
      .map((c) => c.text)
      .join('');
    assert.equal(out, 'out1\nout2\nout3\n');
    assert.equal(
      chunks
        .filter((c) => c.stream === 'err')
        .map((c) => c.text)
        .join(''),
      'err1\nerr2\nerr3\n',
    );
    const first = chunks.find((c) => c.text.includes('out1'))!;
    // The command runs on for 1.5 s after printing out1: streamed, out1 arrives long before the
    // end (however slow the machine); buffered, it arrives with it.
    const lead = finished - first.at;
    assert.ok(lead > 750, `out1 arrived only ${lead} ms before the command ended: output is not streamed`);
  });

  it('runs background commands that can be listed, reconnected to by pid, and killed', async () => {
    const handle = await sandbox.commands.run('for i in $(seq 1 300); do echo tick$i; sleep 0.1; done', { background: true });
    const listed = await sandbox.commands.list();
    const entry = listed.find((p) => p.pid === handle.pid);
    assert.ok(entry, 'the background command is listed');
    assert.equal(entry.cmd, '/bin/bash');
    await handle.disconnect();

    const seen: string[] = [];
    const again = await sandbox.commands.connect(handle.pid, {
      onStdout: (t) => {
        seen.push(t);
      },
    });
    await waitUntil('the reconnected handle to receive new output', () => seen.join('').includes('tick'));
    assert.equal(await sandbox.commands.kill(handle.pid), true);
    const result = await again.wait().catch((err: CommandExitError) => err);
    assert.equal(result.exitCode, -1);
    assert.equal(await sandbox.commands.kill(handle.pid), false);
    assert.ok(!(await sandbox.commands.list()).some((p) => p.pid === handle.pid));
  });

  it('sends stdin and closes it', async () => {
    const handle = await sandbox.commands.run('cat', { background: true, stdin: true });
    await sandbox.commands.sendStdin(handle.pid, 'line one\n');
    await sandbox.commands.sendStdin(handle.pid, 'line two\n');
    await sandbox.commands.closeStdin(handle.pid);
    const result = await handle.wait();
    assert.equal(result.stdout, 'line one\nline two\n');
  });

  it('delivers a command printing 20 MB whole', async () => {
    let received = 0;
    const result = await sandbox.commands.run('head -c 15000000 /dev/urandom | base64 -w 0 | tee /tmp/big | wc -c >&2; cat /tmp/big', {
      onStdout: (t) => {
        received += t.length;
      },
    });
    assert.equal(Number(result.stderr.trim()), 20_000_000);
    assert.equal(result.stdout.length, 20_000_000);
    assert.equal(received, 20_000_000);
    const digest = await sandbox.commands.run('sha256sum /tmp/big | cut -d" " -f1');
    const { createHash } = await import('node:crypto');
    assert.equal(createHash('sha256').update(result.stdout).digest('hex'), digest.stdout.trim());
  });

  it('kills a command when its timeout passes', async () => {
    await assert.rejects(sandbox.commands.run('sleep 30', { timeoutMs: 1000 }));
    // The client gives up at the same moment the agent kills: allow the kill a moment to land
    // (the sleep would otherwise run for 30 s).
    await waitUntil('the timed-out command to be killed', async () => (await sandbox.commands.run('pgrep -x sleep || true')).stdout === '');
  });

  it('opens a PTY: input, colours, resize, kill', async () => {
    const decoder = new TextDecoder();
    let screen = '';
    const pty = await sandbox.pty.create({
      cols: 80,
      rows: 24,
      onData: (data) => {
        screen += decoder.decode(data, { stream: true });
      },
    });
    const waitFor = async (text: string) => {
      const deadline = Date.now() + 15_000;
      while (!screen.includes(text)) {
        if (Date.now() > deadline)
          throw new Error(`PTY never showed ${JSON.stringify(text)}; screen: ${JSON.stringify(screen.slice(-500))}`);
        await sleep(20);
      }
    };
    await sandbox.pty.sendInput(pty.pid, new TextEncoder().encode('stty size; tty; echo "$TERM"\n'));
    await waitFor('24 80');
    await waitFor('/dev/pts/');
    await waitFor('xterm-256color');
    await sandbox.pty.resize(pty.pid, { cols: 120, rows: 40 });
    await sandbox.pty.sendInput(pty.pid, new TextEncoder().encode('stty size\n'));
    await waitFor('40 120');
    await sandbox.pty.sendInput(pty.pid, new TextEncoder().encode("printf '\\033[31mRED\\033[0m\\n'\n"));
    await waitFor('\x1b[31mRED\x1b[0m');
    assert.equal(await sandbox.pty.kill(pty.pid), true);
    const result = await pty.wait().catch((err: CommandExitError) => err);
    assert.equal(result.exitCode, -1);
  });

  it('keeps what a terminal wrote while nobody was attached for the next stream, and only that', async () => {
    const decoder = new TextDecoder();
    let first = '';
    const pty = await sandbox.pty.create({
      cols: 80,
      rows: 24,
      onData: (data) => {
        first += decoder.decode(data, { stream: true });
      },
    });
    await sandbox.pty.sendInput(
      pty.pid,
      new TextEncoder().encode(
        'echo seen-before; sleep 1; echo written-while-away; yes filler | head -c 200000; echo; echo last-line; touch /tmp/pty-away-done\n',
      ),
    );
    await waitUntil('the first stream to see its line', () => first.includes('seen-before\r\n'));
    await pty.disconnect();
    await waitUntil(
      'the shell to finish writing',
      async () => (await sandbox.commands.run('test -e /tmp/pty-away-done && echo yes || true')).stdout === 'yes\n',
    );
    let second = '';
    const again = await sandbox.pty.connect(pty.pid, {
      onData: (data) => {
        second += new TextDecoder().decode(data);
      },
    });
    await waitUntil('the second stream to get the missed output', () => second.includes('last-line'));
    assert.ok(!second.includes('seen-before'), 'what the first stream saw is not sent again');
    assert.ok(second.length <= 64 * 1024 + 200, `at most the last 64 KiB: ${second.length}`);
    await sandbox.pty.kill(again.pid);
  });

  it('goes on when the process launcher is killed from inside: running commands end as they should, new ones start', async () => {
    const running = await sandbox.commands.run('sleep 1; echo done; exit 3', { background: true });
    // Exits 1 (and rejects) if no launcher runs: then commands are not started through it.
    await sandbox.commands.run('pkill -9 -x e2b-launcher', { user: 'root' });
    const result = await running.wait().catch((err: CommandExitError) => err);
    assert.equal(result.exitCode, 3);
    assert.equal(result.stdout, 'done\n');
    assert.equal((await sandbox.commands.run('echo again')).stdout, 'again\n');
    // The user's supplementary groups (from the group database) are the process's own.
    const groups = (await sandbox.commands.run('id -Gn; id -Gn user')).stdout.split('\n');
    assert.equal(groups[0], groups[1]);
    // Launchers the agent started (a spare supervisor, just forked, has the launcher's name for a moment).
    const launchers = await sandbox.commands.run('pgrep -x e2b-launcher -P "$(pgrep -d, -f /opt/e2b/agent.js)" | wc -l');
    assert.equal(launchers.stdout, '1\n', 'one new launcher');
    const screen: string[] = [];
    const pty = await sandbox.pty.create({
      cols: 80,
      rows: 24,
      onData: (data) => {
        screen.push(new TextDecoder().decode(data));
      },
    });
    await sandbox.pty.sendInput(pty.pid, new TextEncoder().encode('exit 5\n'));
    assert.equal((await pty.wait().catch((err: CommandExitError) => err)).exitCode, 5);
  });

  it('ends a PTY whose shell exits, with its exit code', async () => {
    const pty = await sandbox.pty.create({ cols: 80, rows: 24, onData: () => undefined });
    await sandbox.pty.sendInput(pty.pid, new TextEncoder().encode('exit 7\n'));
    const result = await pty.wait().catch((err: CommandExitError) => err);
    assert.equal(result.exitCode, 7);
  });
});
