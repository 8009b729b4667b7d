// The base image as code written for E2B's base template finds it (python/pip, node/npm, ss, git,
// curl, sudo, a C toolchain), and a template whose start command is awaited with the SDK's
// `waitForPort` (which runs `ss`), through the official `e2b` SDK against a real runtime.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, Template, waitForPort } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';

describe('sandbox environment (base image)', () => {
  let runtime: RuntimeProcess;
  let sandbox: Sandbox;
  before(async () => {
    runtime = await RuntimeProcess.start(['--image', 'base', '--warm-pool', 'base=0,code-interpreter-v1=0']);
    sandbox = await Sandbox.create({ ...runtime.sdk });
  });
  after(async () => {
    await sandbox?.kill().catch(() => undefined);
    await runtime?.dispose();
  });

  const run = async (cmd: string, opts: { user?: 'root' | 'user' } = {}) => {
    const result = await sandbox.commands.run(cmd, { ...opts, timeoutMs: 120_000 });
    return result.stdout.trim();
  };

  it('has python and pip (not only python3), and pip installs as on E2B', async () => {
    assert.match(await run('python --version'), /^Python 3\.\d+/);
    assert.match(await run('python3 -c "import sys; print(sys.version_info[0])"'), /^3$/);
    assert.match(await run('pip --version'), /^pip \d+/);
    assert.match(await run('pip3 --version'), /^pip \d+/);
    assert.equal(await run('python -m venv /tmp/venv && /tmp/venv/bin/python -c "import sys; print(sys.prefix)"'), '/tmp/venv');
    // Debian's PEP 668 guard would refuse any `pip install`; an (offline) install of a local
    // package goes through, into ~/.local for `user` as on E2B.
    const pkg = '/tmp/e2bdemo';
    await run(
      `mkdir -p ${pkg}/e2bdemo && echo 'VALUE = 42' > ${pkg}/e2bdemo/__init__.py && printf '[project]\\nname = "e2bdemo"\\nversion = "1.0"\\n' > ${pkg}/pyproject.toml`,
    );
    const install = await sandbox.commands
      .run(`pip install --no-index --no-build-isolation ${pkg} 2>&1`, { timeoutMs: 120_000 })
      .catch((err: { stdout?: string; message: string }) => assert.fail(`pip install failed: ${err.stdout ?? err.message}`));
    assert.match(install.stdout, /Successfully installed e2bdemo/);
    assert.equal(await run('cd / && python -c "import e2bdemo; print(e2bdemo.VALUE)"'), '42');
  });

  it('has node and npm on PATH', async () => {
    assert.match(await run('node --version'), /^v\d+\./);
    assert.match(await run('npm --version'), /^\d+\.\d+/);
    assert.equal(await run('node -e "console.log(require(\'os\').userInfo().username)"'), 'user');
    assert.equal(await run('cd /tmp && npm init -y >/dev/null && node -p "require(\'./package.json\').name"'), 'tmp');
  });

  it('has ss, git, curl, sudo and a C toolchain', async () => {
    assert.match(await run('ss -Htln'), /./, "ss lists the listening sockets (the agent's at least)");
    assert.match(await run('git --version'), /^git version/);
    assert.match(await run('curl --version'), /^curl \d/);
    assert.equal(await run('sudo -n whoami'), 'root');
    assert.equal(
      await run(
        'printf "#include <stdio.h>\\nint main(void){puts(\\"compiled\\");return 0;}\\n" > /tmp/t.c && gcc -o /tmp/t /tmp/t.c && /tmp/t',
      ),
      'compiled',
    );
    assert.match(await run('g++ --version && make --version'), /GNU Make/);
  });

  it('builds a template whose start command is awaited with waitForPort, and it becomes ready', async () => {
    const template = Template().fromTemplate('base').setStartCmd('python -m http.server 8080', waitForPort(8080));
    const started = Date.now();
    await Template.build(template, 'wait-for-port', { ...runtime.sdk, cpuCount: 1, memoryMB: 512 });
    const built = Date.now() - started;
    const web = await Sandbox.create('wait-for-port', runtime.sdk);
    try {
      const res = await fetch(runtime.url, { headers: { 'E2b-Sandbox-Id': web.sandboxId, 'E2b-Sandbox-Port': '8080' } });
      assert.equal(res.status, 200, 'the server answers as soon as the sandbox is handed out');
      assert.match(await res.text(), /Directory listing/);
    } finally {
      await web.kill();
    }
    console.log(`# template with waitForPort built in ${built} ms`);
  });
});
