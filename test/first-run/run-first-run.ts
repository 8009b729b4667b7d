// The "first run" pass: the production .vsix (`npm run package`) installed into a clean
// code-server (fresh user-data and extensions dirs), default settings except e2b.local.dataDir (an
// empty temporary directory), and no runtime running: the extension's auto-start must start the
// runtime bundled in the .vsix. Runs test/first-run/*.test.ts inside the extension host (through
// the same companion runner extension as the main suite) and prints
// "first-run: N passed, N failed, N skipped".
//
// One concession to a test machine: the temporary data dir gets a runtime.json (the file the
// runtime writes to remember how it was started, and the extension reads to start it the same way
// again) naming a free loopback port, so it does not collide with a runtime on the default port,
// and the machine's image cache (/var/lib/e2b-local/images, or E2B_TEST_IMAGES_DIR), so the first
// start does not spend minutes building the base image.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { freePort, SHARED_IMAGES_DIR } from '../../runtime/test/helpers/runtime-process';
import { readLocalRuntimeEnv } from '../../src/connection/local-runtime';
import { runtimeFiles, writeLaunchFile } from '../../runtime/src/contract/local-runtime-contract';
import { startCodeServer } from '../vscode/code-server';
import { freshWorkbench, launchBrowser, stopCodeServer, suiteSummary, waitForResults } from '../vscode/harness';
import { sleep } from '../sleep';

const REPO = resolve(__dirname, '../..');
const BUILD = join(REPO, 'out/test/first-run');
const TIMEOUT_MS = 5 * 60_000;

/** The production package, and the runner extension with the first-run suite built beside it. */
function packageExtensions(): { extension: string; runner: string; suite: string } {
  execFileSync('bash', ['scripts/package-extension.sh'], { cwd: REPO, stdio: 'inherit' });
  rmSync(BUILD, { recursive: true, force: true });
  const common = { platform: 'node', target: 'node20', format: 'cjs', bundle: true, logLevel: 'warning' } as const;
  // The main suite's loader (test/suite/index.ts) loads every *.test.js beside it: here, the
  // first-run tests. mocha and the SDK load from node_modules at run time.
  buildSync({
    ...common,
    entryPoints: {
      index: join(REPO, 'test/suite/index.ts'),
      ...Object.fromEntries(
        readdirSync(__dirname)
          .filter((f) => f.endsWith('.test.ts'))
          .map((f) => [f.replace(/\.ts$/, ''), join(__dirname, f)]),
      ),
    },
    outdir: join(BUILD, 'suite'),
    external: ['vscode', 'mocha', 'e2b', '@e2b/code-interpreter'],
  });
  const runnerDir = join(BUILD, 'runner-extension');
  buildSync({
    ...common,
    entryPoints: [join(REPO, 'test/runner-extension/extension.ts')],
    outfile: join(runnerDir, 'extension.js'),
    external: ['vscode'],
  });
  copyFileSync(join(REPO, 'test/runner-extension/package.json'), join(runnerDir, 'package.json'));
  writeFileSync(join(runnerDir, 'LICENSE'), 'MIT\n');
  const runner = join(BUILD, 'e2b-test-runner.vsix');
  execFileSync(process.execPath, [join(REPO, 'node_modules/@vscode/vsce/vsce'), 'package', '--no-dependencies', '-o', runner], {
    cwd: runnerDir,
    stdio: 'pipe',
  });
  return { extension: join(REPO, 'out/e2b-sandboxes.vsix'), runner, suite: join(BUILD, 'suite/index.js') };
}

/** Kills the sandboxes of the runtime the extension started, then that runtime. */
async function stopStartedRuntime(dataDir: string): Promise<void> {
  const endpoint = await readLocalRuntimeEnv(dataDir);
  if (endpoint) {
    try {
      const headers = { 'X-API-KEY': endpoint.apiKey };
      const res = await fetch(`${endpoint.apiUrl}/v2/sandboxes?limit=100`, { headers });
      for (const s of (await res.json()) as { sandboxID: string }[])
        await fetch(`${endpoint.apiUrl}/sandboxes/${s.sandboxID}`, { method: 'DELETE', headers });
    } catch {
      // not running
    }
  }
  const pidFile = join(dataDir, 'runtime.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  // It empties its warm pool before it exits.
  for (let i = 0; i < 300; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(100);
  }
}

function sandboxesLeft(dataDir: string): string[] {
  try {
    return readdirSync(join(dataDir, 'sandboxes'));
  } catch {
    return [];
  }
}

async function main(): Promise<number> {
  const { extension, runner, suite } = packageExtensions();
  const work = mkdtempSync(join(tmpdir(), 'e2b-first-run-'));
  const dirs = freshWorkbench(work, [extension, runner]);
  const dataDir = join(work, 'e2b-local');
  mkdirSync(dataDir, { recursive: true });
  writeLaunchFile(dataDir, { listen: `127.0.0.1:${await freePort()}`, imagesDir: SHARED_IMAGES_DIR });
  let codeServer: Awaited<ReturnType<typeof startCodeServer>> | undefined;
  const browser = await launchBrowser();
  const logFile = runtimeFiles(dataDir).log;
  const runtimeLog = () => (existsSync(logFile) ? `runtime.log:\n${readFileSync(logFile, 'utf8').slice(-3000)}` : 'no runtime.log');
  try {
    const results = join(work, 'results.txt');
    codeServer = await startCodeServer({
      ...dirs,
      port: await freePort(),
      // Default settings, but for where the runtime keeps its data.
      settings: { 'e2b.local.dataDir': dataDir },
      env: { E2B_VSCODE_TEST_SUITE: suite, E2B_VSCODE_TEST_RESULTS: results, E2B_VSCODE_TEST_GREP: '' },
    });
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(`${codeServer.url}/?folder=${encodeURIComponent(dirs.workspace)}`);
    const text = await waitForResults(results, () => `${codeServer!.output().slice(-3000)}\n${runtimeLog()}`, { timeoutMs: TIMEOUT_MS });
    const done = suiteSummary(text);
    const summary = done ?? { passed: 0, failed: 1, skipped: 0 };
    if (!done || summary.failed > 0) console.log(`code-server said:\n${codeServer.output().slice(-3000)}\n${runtimeLog()}`);
    console.log(`first-run: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
    return summary.failed === 0 && done ? 0 : 1;
  } finally {
    await browser.close().catch(() => undefined);
    await stopCodeServer(codeServer);
    await stopStartedRuntime(dataDir);
    // Never delete a data dir under sandboxes that are still there (their root file systems are mounts).
    for (let i = 0; i < 50 && sandboxesLeft(dataDir).length > 0; i++) await sleep(200);
    if (sandboxesLeft(dataDir).length === 0) rmSync(work, { recursive: true, force: true });
    else console.log(`left ${work} in place: sandboxes ${sandboxesLeft(dataDir).join(', ')} are still there`);
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
