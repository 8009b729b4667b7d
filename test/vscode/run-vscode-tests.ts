// Runs the extension-host suite in a real VS Code: builds and packages the extension, starts a
// local runtime, installs the .vsix into code-server, opens the workbench in headless Chromium
// (the extension host starts when a client connects) and collects the results the companion
// runner extension writes. Prints one line per test and exits non-zero on any failure.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { freePort, RuntimeProcess } from '../../runtime/test/helpers/runtime-process';
import { installExtensions, startCodeServer } from './code-server';

const REPO = resolve(__dirname, '../..');
const OUT = join(REPO, 'out');
const SCREENSHOTS = join(REPO, '.cache', 'screenshots');
const SUITE_TIMEOUT_MS = 20 * 60_000;

function packageExtensions(): { extension: string; runner: string } {
  execFileSync('bash', ['scripts/package-extension.sh', '--tests'], { cwd: REPO, stdio: 'inherit' });
  const extension = join(OUT, 'e2b-sandboxes.vsix');
  const vsce = join(REPO, 'node_modules/@vscode/vsce/vsce');
  const runnerDir = join(OUT, 'test/runner-extension');
  copyFileSync(join(REPO, 'test/runner-extension/package.json'), join(runnerDir, 'package.json'));
  writeFileSync(join(runnerDir, 'LICENSE'), 'MIT\n');
  const runner = join(OUT, 'e2b-test-runner.vsix');
  execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '-o', runner], { cwd: runnerDir, stdio: 'pipe' });
  return { extension, runner };
}

async function waitForResults(file: string, codeServerOutput: () => string): Promise<string> {
  const deadline = Date.now() + SUITE_TIMEOUT_MS;
  let printed = 0;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    // Stream progress as the suite runs.
    const lines = text.split('\n');
    for (; printed < lines.length - 1; printed++) console.log(lines[printed]);
    if (text.includes('# runner finished')) return text;
    if (Date.now() > deadline) throw new Error(`the suite did not finish in time; code-server said:\n${codeServerOutput().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Stops the runtime process that serves this data dir now, whoever started it. */
async function stopRuntimeOf(runtime: RuntimeProcess): Promise<void> {
  const pidFile = join(runtime.dataDir, 'runtime.pid');
  if (!existsSync(pidFile)) return;
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && (await runtime.isUp()); i++) await new Promise((r) => setTimeout(r, 100));
}

async function main(): Promise<number> {
  const { extension, runner } = packageExtensions();
  const work = mkdtempSync(join(tmpdir(), 'e2b-vscode-test-'));
  const runtime = await RuntimeProcess.start();
  let codeServer: Awaited<ReturnType<typeof startCodeServer>> | undefined;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const dirs = { userDataDir: join(work, 'user-data'), extensionsDir: join(work, 'extensions'), workspace: join(work, 'workspace') };
    mkdirSync(dirs.workspace, { recursive: true });
    installExtensions(dirs, [extension, runner]);
    const results = join(work, 'results.txt');
    codeServer = await startCodeServer({
      ...dirs,
      port: await freePort(),
      settings: {
        'e2b.local.dataDir': runtime.dataDir,
        'e2b.local.autoStart': false,
        // Nobody is there to answer the tools' confirmation prompts (their content is tested directly).
        'e2b.chat.confirmToolRuns': false,
      },
      env: { E2B_VSCODE_TEST_SUITE: join(OUT, 'test/suite/index.js'), E2B_VSCODE_TEST_RESULTS: results, E2B_VSCODE_TEST_GREP: process.env.E2B_VSCODE_TEST_GREP ?? '' },
    });
    const browserContext = await browser.newContext({ viewport: { width: 1400, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await browserContext.newPage();
    await page.goto(`${codeServer.url}/?folder=${encodeURIComponent(dirs.workspace)}`);
    const text = await waitForResults(results, codeServer.output);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'explorer.png') }).catch(() => undefined);
    const done = /# done (\{.*\})/.exec(text);
    const summary = done ? (JSON.parse(done[1]) as { passed: number; failed: number; skipped: number }) : { passed: 0, failed: 1, skipped: 0 };
    if (!done) console.log(`the suite did not run to the end; code-server said:\n${codeServer.output().slice(-4000)}`);
    console.log(`vscode: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
    return summary.failed === 0 && done ? 0 : 1;
  } finally {
    await browser.close().catch(() => undefined);
    if (codeServer && codeServer.process.exitCode === null) {
      const exited = new Promise((r) => codeServer!.process.once('exit', r));
      codeServer.process.kill('SIGTERM');
      await exited;
    }
    // The suite restarts the runtime itself: stop whichever runtime process now owns the data dir.
    await runtime.killAllSandboxes();
    await stopRuntimeOf(runtime);
    await runtime.dispose();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (err) => { console.error(err); process.exit(1); });
