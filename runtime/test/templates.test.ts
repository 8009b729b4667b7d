// Template builds through the official SDK's `Template.build` (protocol §1.3) against a real runtime.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildError, LogEntry, Sandbox, Template } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';

describe('template builds', () => {
  let runtime: RuntimeProcess;
  let context: string;
  before(async () => {
    runtime = await RuntimeProcess.start();
    context = mkdtempSync(join(tmpdir(), 'e2b-template-context-'));
    writeFileSync(join(context, 'hello.txt'), 'hello from COPY\n');
  });
  after(async () => {
    await runtime?.dispose();
    if (context) rmSync(context, { recursive: true, force: true });
  });

  async function build(template: Parameters<typeof Template.build>[0], name: string): Promise<{ logs: LogEntry[] }> {
    const logs: LogEntry[] = [];
    await Template.build(template, name, { ...runtime.sdk, cpuCount: 1, memoryMB: 512, onBuildLogs: (entry) => logs.push(entry) });
    if (process.env.TEMPLATE_TEST_LOGS) for (const l of logs) console.log(`  ${name}: ${l.message}`);
    return { logs };
  }

  it('builds a template with COPY, RUN, ENV, WORKDIR, USER and a start command, and sandboxes use it', async () => {
    const template = Template({ fileContextPath: context })
      .fromTemplate('base')
      .copy('hello.txt', '/app/hello.txt')
      .runCmd('echo "built by $(whoami)" > /tmp/built.txt')
      .setEnvs({ GREETING: 'hi-from-template' })
      .runCmd('echo "$GREETING" > /tmp/greeting.txt', { user: 'root' })
      .setWorkdir('/app')
      .setUser('user')
      .setStartCmd('python3 -m http.server 8080', 'curl -s localhost:8080');
    const { logs } = await build(template, 'web-app');
    const messages = logs.map((l) => l.message);
    assert.ok(
      messages.some((m) => /RUN echo "built by/.test(m)),
      `build logs name the RUN step:\n${messages.join('\n')}`,
    );
    assert.ok(
      messages.some((m) => /Template web-app built/.test(m)),
      'build logs report the finished template',
    );

    const sandbox = await Sandbox.create('web-app', runtime.sdk);
    try {
      // Handed out once the ready command passed: the server answers right away.
      const res = await fetch(runtime.url, { headers: { 'E2b-Sandbox-Id': sandbox.sandboxId, 'E2b-Sandbox-Port': '8080' } });
      assert.equal(res.status, 200);
      assert.match(await res.text(), /hello\.txt/, "the server runs in the WORKDIR and lists the COPY'd file");
      const run = async (cmd: string) => (await sandbox.commands.run(cmd)).stdout.trim();
      assert.equal(await run('echo $GREETING'), 'hi-from-template');
      assert.equal(await run('cat hello.txt'), 'hello from COPY');
      assert.equal(await run('stat -c %U /app/hello.txt'), 'user', 'COPY gives the files to the current user');
      assert.equal(await run('cat /tmp/built.txt'), 'built by user', 'RUN runs as `user` by default');
      assert.equal(await run('cat /tmp/greeting.txt'), 'hi-from-template', 'ENV applies to later RUN steps');
      assert.equal(await run('whoami'), 'user');
      assert.equal(await run('pwd'), '/app');
      const info = await sandbox.getInfo();
      assert.equal(info.templateId, 'web-app');
      assert.equal(info.cpuCount, 1);
      assert.equal(info.memoryMB, 512);
    } finally {
      await sandbox.kill();
    }
  });

  it("builds from a Dockerfile (parsed by the SDK into steps) on E2B's base image", async () => {
    const dockerfile =
      'FROM e2bdev/base:latest\nENV FOO=bar\nRUN echo "$FOO by $(whoami)" > /tmp/foo\nWORKDIR /srv\nCOPY hello.txt /srv/\n';
    const { logs } = await build(Template({ fileContextPath: context }).fromDockerfile(dockerfile), 'from-dockerfile');
    assert.ok(
      logs.some((l) => /the local image 'base' stands for it/.test(l.message)),
      'the base image mapping is logged',
    );
    const sandbox = await Sandbox.create('from-dockerfile', runtime.sdk);
    try {
      const run = async (cmd: string) => (await sandbox.commands.run(cmd)).stdout.trim();
      assert.equal(await run('cat /tmp/foo'), 'bar by root', 'Dockerfile RUN steps run as root');
      assert.equal(await run('cat hello.txt'), 'hello from COPY');
      assert.equal(await run('pwd'), '/srv');
      assert.equal(await run('whoami'), 'user', 'the SDK switches back to `user` at the end');
      assert.equal(await run('echo $FOO'), 'bar');
    } finally {
      await sandbox.kill();
    }
  });

  it('fails a build whose RUN step fails, with the reason E2B gives', async () => {
    const template = Template().fromTemplate('base').runCmd('echo about to fail; exit 3');
    const logs: LogEntry[] = [];
    await assert.rejects(
      Template.build(template, 'broken', { ...runtime.sdk, onBuildLogs: (e) => logs.push(e) }),
      (err: Error) => err instanceof BuildError && err.message === "failed to run command 'echo about to fail; exit 3': exit status 3",
    );
    assert.ok(
      logs.some((l) => l.message === 'about to fail'),
      'the RUN output is in the build logs',
    );
    const aliases = await fetch(`${runtime.url}/templates/aliases/broken`, { headers: { 'X-API-KEY': runtime.apiKey } });
    assert.equal(aliases.status, 404, 'a failed build makes no template');
  });

  it('refuses registry credentials it cannot use (AWS, GCP) before contacting any registry', async () => {
    const template = Template().fromAWSRegistry('123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1', {
      accessKeyId: 'AKIA',
      secretAccessKey: 'secret',
      region: 'us-east-1',
    });
    await assert.rejects(
      Template.build(template, 'aws-thing', runtime.sdk),
      (err: Error) => err instanceof BuildError && /not supported by the local runtime/.test(err.message),
    );
  });

  it('reuses the cached layers before the one changed step', async () => {
    // The first step prints and keeps a fresh timestamp: a rerun of it would make a new one.
    const stamp = 'date +%s%N | tee /tmp/one';
    const stamps = (logs: LogEntry[]) => logs.map((l) => l.message).filter((m) => /^\d{19}$/.test(m));
    const first = await build(Template().fromTemplate('base').runCmd(stamp).runCmd('echo two-a > /tmp/two'), 'layered');
    const second = await build(Template().fromTemplate('base').runCmd(stamp).runCmd('echo two-b > /tmp/two'), 'layered');
    const cached = (logs: LogEntry[]) => logs.filter((l) => /cached/i.test(l.message) && /\] RUN/.test(l.message)).map((l) => l.message);
    assert.deepEqual(cached(first.logs), []);
    assert.equal(cached(second.logs).length, 1, `only the first RUN is cached: ${cached(second.logs).join(', ')}`);
    assert.match(cached(second.logs)[0], /date/);
    assert.equal(stamps(first.logs).length, 1, 'the first build runs the step');
    assert.deepEqual(stamps(second.logs), [], 'the rebuild does not run the cached step');
    const sandbox = await Sandbox.create('layered', runtime.sdk);
    try {
      assert.equal(
        (await sandbox.commands.run('cat /tmp/one /tmp/two')).stdout,
        `${stamps(first.logs)[0]}\ntwo-b\n`,
        "the rebuild reuses the first build's layer",
      );
    } finally {
      await sandbox.kill();
    }
  });

  it('lists and deletes built templates', async () => {
    const headers = { 'X-API-KEY': runtime.apiKey };
    const listed = (await (await fetch(`${runtime.url}/templates`, { headers })).json()) as {
      templateID: string;
      buildStatus: string;
      cpuCount: number;
    }[];
    const webApp = listed.find((t) => t.templateID === 'web-app');
    assert.ok(webApp, 'the built template is listed');
    assert.equal(webApp.buildStatus, 'ready');
    assert.equal(webApp.cpuCount, 1);
    assert.ok(
      listed.some((t) => t.templateID === 'base'),
      'images are still listed',
    );
    assert.equal(await Template.exists('layered', runtime.sdk), true);

    assert.equal((await fetch(`${runtime.url}/templates/layered`, { method: 'DELETE', headers })).status, 204);
    assert.equal((await fetch(`${runtime.url}/templates/layered`, { method: 'DELETE', headers })).status, 404);
    assert.equal(await Template.exists('layered', runtime.sdk), false);
    await assert.rejects(Sandbox.create('layered', runtime.sdk));
    const after = (await (await fetch(`${runtime.url}/templates`, { headers })).json()) as { templateID: string }[];
    assert.ok(!after.some((t) => t.templateID === 'layered'));
  });
});
