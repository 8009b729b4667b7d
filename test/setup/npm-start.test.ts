// The README's first command, as a newcomer meets it: `npm start` with an empty VS Code cache (a
// machine where code-server was never installed; the npm cache may help, so this is quick and
// works offline). It must install code-server whole, install the extension into it, and serve a
// workbench whose E2B view is connected to the local runtime it started; Ctrl-C stops both.
// Only the ports, data dir, workspace and cache are moved (by the environment variables start.sh
// reads), and the runtime shares the machine's image cache instead of building its own.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { freePort, SHARED_IMAGES_DIR } from '../../runtime/test/helpers/runtime-process';
import { readLocalRuntimeEnv, type LocalRuntimeEndpoint } from '../../src/connection/local-runtime';
import { sleep } from '../../runtime/test/helpers/wait';
import { launchBrowser, REPO } from '../vscode/harness';

// Installing code-server takes a few minutes on two busy cores.
const START_TIMEOUT_MS = 15 * 60_000;

describe('npm start from an empty VS Code cache', { timeout: START_TIMEOUT_MS + 5 * 60_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'e2b-npm-start-'));
  const cache = join(work, 'vscode-cache');
  const dataDir = join(work, 'e2b-local');
  let start: ChildProcess;
  let output = '';
  let url = '';
  let browser: Browser | undefined;
  let endpoint: LocalRuntimeEndpoint;
  const created: string[] = [];

  it(
    'an install interrupted halfway leaves the cache untouched, and the check says it is not usable',
    { timeout: 5 * 60_000 },
    async () => {
      mkdirSync(cache);
      const setup = spawn('bash', ['scripts/setup-vscode.sh'], {
        cwd: REPO,
        detached: true,
        stdio: 'ignore',
        env: { ...process.env, E2B_VSCODE_CACHE: cache },
      });
      const exited = new Promise((r) => setup.once('exit', r));
      // Halfway: code-server's files are unpacked, its install scripts not yet run.
      for (
        let i = 0;
        i < 2400 && setup.exitCode === null && !existsSync(join(`${cache}.partial`, 'node_modules/code-server/package.json'));
        i++
      )
        await sleep(100);
      assert.equal(setup.exitCode, null, 'the install was still running');
      process.kill(-setup.pid!, 'SIGKILL');
      await exited;
      assert.deepEqual(readdirSync(cache), [], 'nothing was written into the cache itself');
      const check = spawnSync('bash', ['scripts/setup-vscode.sh', '--check'], {
        cwd: REPO,
        encoding: 'utf8',
        env: { ...process.env, E2B_VSCODE_CACHE: cache },
      });
      assert.equal(check.status, 1, check.stdout);
      assert.match(check.stdout, /no Node 24 binary/);
    },
  );

  it('npm start installs code-server whole into the cache, and says so', { timeout: START_TIMEOUT_MS }, async () => {
    const runtimePort = await freePort();
    start = spawn('npm', ['start', '--', '--images-dir', SHARED_IMAGES_DIR, '--warm-pool', '0'], {
      cwd: REPO,
      // Its own process group, so that Ctrl-C (SIGINT to the group) reaches it as in a terminal.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        E2B_VSCODE_CACHE: cache,
        E2B_DATA_DIR: dataDir,
        E2B_WORKSPACE: join(work, 'workspace'),
        E2B_VSCODE_PORT: String(await freePort()),
        E2B_RUNTIME_LISTEN: `127.0.0.1:${runtimePort}`,
        // The runtime npm start brings up sends no sandbox packet off this machine.
        E2B_RUNTIME_UPLINK: process.env.E2B_RUNTIME_UPLINK || 'none',
      },
    });
    start.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    start.stderr!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    while (!(url = /VS Code with the E2B extension: (http\S+)/.exec(output)?.[1] ?? '')) {
      if (start.exitCode !== null) throw new Error(`npm start exited (${start.exitCode}) before serving VS Code:\n${output.slice(-4000)}`);
      await sleep(500);
    }
    assert.match(output, /setup: installing code-server [\d.]+ into /);
    assert.match(output, /setup: code-server [\d.]+ is installed and works/);
    // The module whose absence once broke every start (code-server's install script had not run).
    assert.ok(
      existsSync(join(cache, 'node_modules/code-server/lib/vscode/node_modules/@microsoft/1ds-core-js/package.json')),
      "VS Code's own modules are installed",
    );
    assert.equal(existsSync(`${cache}.partial`), false, 'no staging folder is left behind');
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    if (endpoint)
      await Promise.all(
        created.map((id) =>
          fetch(`${endpoint.apiUrl}/sandboxes/${id}`, { method: 'DELETE', headers: { 'X-API-KEY': endpoint.apiKey } }).catch(
            () => undefined,
          ),
        ),
      );
    // Whatever is left of npm start's process group (nothing, once the Ctrl-C test passed).
    if (start) killGroup(start.pid!, 'SIGKILL');
    const sandboxesLeft = existsSync(join(dataDir, 'sandboxes')) ? readdirSync(join(dataDir, 'sandboxes')) : [];
    // Never delete a data dir under sandboxes that are still there (their root file systems are mounts).
    if (sandboxesLeft.length === 0) rmSync(work, { recursive: true, force: true });
    else console.log(`left ${work} in place: sandboxes ${sandboxesLeft.join(', ')} are still there`);
  });

  it('installs the extension into that VS Code', () => {
    const installed = readdirSync(join(dataDir, 'vscode/extensions')).filter((d) => d.startsWith('e2b-local.e2b-sandboxes-'));
    assert.equal(installed.length, 1, `extensions: ${readdirSync(join(dataDir, 'vscode/extensions')).join(', ')}`);
  });

  it('serves a workbench whose E2B view is connected to the local runtime', { timeout: 3 * 60_000 }, async () => {
    endpoint = (await readLocalRuntimeEnv(dataDir))!;
    assert.ok(endpoint, 'the runtime wrote its env file');
    browser = await launchBrowser();
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(url);
    await page.locator('.monaco-workbench .part.activitybar').waitFor({ timeout: 90_000 });
    await page.locator('.part.activitybar [aria-label^="E2B Sandboxes"]').first().click();
    const sandboxesView = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Sandboxes' }) }).first();
    // The welcome text shown only while connected with no error.
    await sandboxesView.getByText('Connected to the local runtime by default').waitFor({ timeout: 90_000 });

    // A sandbox created outside VS Code, through the runtime's API, shows up in the view.
    const res = await fetch(`${endpoint.apiUrl}/sandboxes`, {
      method: 'POST',
      headers: { 'X-API-KEY': endpoint.apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ templateID: 'base', timeout: 300, metadata: { suite: 'npm-start', name: `made-outside-${process.pid}` } }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    const { sandboxID } = (await res.json()) as { sandboxID: string };
    created.push(sandboxID);
    // A row leads with the sandbox's name from its metadata.
    await sandboxesView.locator('.monaco-list-row', { hasText: `made-outside-${process.pid}` }).waitFor({ timeout: 90_000 });
  });

  it('finds a cache that stops working by using it', () => {
    const check = () =>
      spawnSync('bash', ['scripts/setup-vscode.sh', '--check'], {
        cwd: REPO,
        encoding: 'utf8',
        env: { ...process.env, E2B_VSCODE_CACHE: cache },
      });
    assert.equal(check().status, 0, 'the fresh install passes');
    // What the broken install of old looked like: everything there but VS Code's own modules.
    const modules = join(cache, 'node_modules/code-server/lib/vscode/node_modules');
    renameSync(modules, `${modules}.away`);
    try {
      const broken = check();
      assert.equal(broken.status, 1);
      assert.match(broken.stdout, /code-server cannot install an extension|native module .* does not load/);
    } finally {
      renameSync(`${modules}.away`, modules);
    }
    assert.equal(check().status, 0, 'and passes again once whole');
  });

  it('stops VS Code and the runtime on Ctrl-C', { timeout: 60_000 }, async () => {
    for (const id of created.splice(0))
      await fetch(`${endpoint.apiUrl}/sandboxes/${id}`, { method: 'DELETE', headers: { 'X-API-KEY': endpoint.apiKey } });
    const runtimePid = Number(readFileSync(join(dataDir, 'runtime.pid'), 'utf8'));
    const exited = new Promise((r) => start.once('exit', r));
    process.kill(-start.pid!, 'SIGINT');
    await exited;
    for (let i = 0; i < 300 && (isAlive(runtimePid) || isAlive(-start.pid!)); i++) await sleep(100);
    assert.equal(isAlive(runtimePid), false, 'the runtime has stopped');
    assert.equal(isAlive(-start.pid!), false, 'no process of npm start is left');
    await assert.rejects(fetch(url), 'VS Code no longer answers');
  });
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}

/** Whether the process (or, for a negative pid, any process of the group) still exists. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
