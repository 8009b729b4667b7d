// What the extension-host test runner and the extension benchmarks share: packaging the extension
// and the companion runner extension, a local runtime and code-server with a headless Chromium at
// its workbench (runInWorkbench starts them and always stops them), waiting for the results file
// the runner extension writes, and stopping the runtime.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { freePort, RuntimeProcess } from '../../runtime/test/helpers/runtime-process';
import { installExtensions, startCodeServer } from './code-server';
import { sleep } from '../sleep';

export const REPO = resolve(__dirname, '../..');
export const OUT = join(REPO, 'out');
const SUITE_TIMEOUT_MS = 20 * 60_000;
const WORKBENCH_LOAD_TIMEOUT_MS = 5 * 60_000;

/**
 * Builds (build.mjs with `buildFlags`) and packages the extension and the runner extension; the
 * build's output goes to our stdout, or to stderr for commands whose stdout is a result.
 */
export function packageExtensions(
  buildFlags: string[] = ['--tests'],
  buildOutput: 'stdout' | 'stderr' = 'stdout',
): { extension: string; runner: string } {
  const out = buildOutput === 'stdout' ? 1 : 2;
  execFileSync('bash', ['scripts/package-extension.sh', ...buildFlags], { cwd: REPO, stdio: [0, out, 2] });
  const extension = join(OUT, 'e2b-sandboxes.vsix');
  const vsce = join(REPO, 'node_modules/@vscode/vsce/vsce');
  const runnerDir = join(OUT, 'test/runner-extension');
  copyFileSync(join(REPO, 'test/runner-extension/package.json'), join(runnerDir, 'package.json'));
  writeFileSync(join(runnerDir, 'LICENSE'), 'MIT\n');
  const runner = join(OUT, 'e2b-test-runner.vsix');
  execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '-o', runner], { cwd: runnerDir, stdio: 'pipe' });
  return { extension, runner };
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Waits for the runner extension's "# runner finished" line, passing each new line of the results
 * file to `onLine` as it appears.
 */
export async function waitForResults(
  file: string,
  codeServerOutput: () => string,
  options: { timeoutMs?: number; onLine?: (line: string) => void } = {},
): Promise<string> {
  const deadline = Date.now() + (options.timeoutMs ?? SUITE_TIMEOUT_MS);
  const onLine = options.onLine ?? ((line: string) => console.log(line));
  let printed = 0;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const lines = text.split('\n');
    for (; printed < lines.length - 1; printed++) onLine(lines[printed]);
    if (text.includes('# runner finished')) return text;
    if (Date.now() > deadline) throw new Error(`the suite did not finish in time; code-server said:\n${codeServerOutput().slice(-4000)}`);
    await sleep(500);
  }
}

/** Stops the runtime process that serves this data dir now, whoever started it. */
export async function stopRuntimeOf(runtime: RuntimeProcess): Promise<void> {
  const pidFile = join(runtime.dataDir, 'runtime.pid');
  if (!existsSync(pidFile)) return;
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && (await runtime.isUp()); i++) await sleep(100);
}

export interface WorkbenchDirs {
  userDataDir: string;
  extensionsDir: string;
  workspace: string;
}

/** Fresh user-data, extensions and workspace dirs under `work`, with these .vsix files installed. */
export function freshWorkbench(work: string, vsixFiles: string[]): WorkbenchDirs {
  const dirs = { userDataDir: join(work, 'user-data'), extensionsDir: join(work, 'extensions'), workspace: join(work, 'workspace') };
  mkdirSync(dirs.workspace, { recursive: true });
  installExtensions(dirs, vsixFiles);
  return dirs;
}

export type SuiteSummary = { passed: number; failed: number; skipped: number };

/** The runner's "# done {...}" counts, or undefined when the suite did not run to the end. */
export function suiteSummary(resultsText: string): SuiteSummary | undefined {
  const done = /# done (\{.*\})/.exec(resultsText);
  return done ? (JSON.parse(done[1]) as SuiteSummary) : undefined;
}

/** Stops code-server (and with it the extension host) and waits until it has exited. */
export async function stopCodeServer(codeServer: CodeServer | undefined): Promise<void> {
  if (!codeServer || codeServer.process.exitCode !== null) return;
  const exited = new Promise((r) => codeServer.process.once('exit', r));
  codeServer.process.kill('SIGTERM');
  await exited;
}

type CodeServer = Awaited<ReturnType<typeof startCodeServer>>;

/** What runInWorkbench hands the caller: everything is stopped and removed when it returns. */
export interface WorkbenchRun {
  runtime: RuntimeProcess;
  codeServer: CodeServer;
  page: Page;
  /** Where the runner extension writes the suite's results (waitForResults reads it). */
  results: string;
}

export interface WorkbenchOptions {
  /** Prefix of the temporary work dir (user data, extensions, workspace, results). */
  name: string;
  vsixFiles: string[];
  /** The suite the runner extension loads (its compiled index.js). */
  suite: string;
  /** User settings besides the runtime's data dir and e2b.local.autoStart off. */
  settings?: Record<string, unknown>;
  /** code-server's environment besides the suite and results file; may prepare the folders it names in `work`. */
  env?: (work: string) => Record<string, string>;
  browserContext?: BrowserContextOptions;
}

/**
 * Starts a local runtime, code-server with these extensions pointed at it, and a headless Chromium
 * page on the workbench (which starts the extension host and with it the suite); runs `body`; then
 * stops them all, kills every sandbox and removes the work dir, whatever happened.
 */
export async function runInWorkbench<T>(options: WorkbenchOptions, body: (run: WorkbenchRun) => Promise<T>): Promise<T> {
  const work = mkdtempSync(join(tmpdir(), options.name));
  const runtime = await RuntimeProcess.start();
  let codeServer: CodeServer | undefined;
  const browser = await launchBrowser();
  try {
    const dirs = freshWorkbench(work, options.vsixFiles);
    const results = join(work, 'results.txt');
    codeServer = await startCodeServer({
      ...dirs,
      port: await freePort(),
      settings: { 'e2b.local.dataDir': runtime.dataDir, 'e2b.local.autoStart': false, ...options.settings },
      env: { ...options.env?.(work), E2B_VSCODE_TEST_SUITE: options.suite, E2B_VSCODE_TEST_RESULTS: results },
    });
    const page = await (await browser.newContext(options.browserContext)).newPage();
    // The workbench loads in seconds, but in minutes on a machine busy with other suites.
    await page.goto(`${codeServer.url}/?folder=${encodeURIComponent(dirs.workspace)}`, { timeout: WORKBENCH_LOAD_TIMEOUT_MS });
    return await body({ runtime, codeServer, page, results });
  } finally {
    await browser.close().catch(() => undefined);
    await stopCodeServer(codeServer);
    // The suite restarts the runtime itself: stop whichever runtime process now owns the data dir.
    await killEverySandbox(runtime);
    await stopRuntimeOf(runtime);
    await runtime.dispose();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Kills every sandbox of the runtime, page after page (a benchmark leaves hundreds). */
async function killEverySandbox(runtime: RuntimeProcess): Promise<void> {
  const headers = { 'X-API-KEY': runtime.apiKey };
  for (let round = 0; round < 50; round++) {
    try {
      const res = await fetch(`${runtime.url}/v2/sandboxes?limit=100`, { headers });
      const sandboxes = (await res.json()) as { sandboxID: string }[];
      if (sandboxes.length === 0) return;
      await Promise.all(
        sandboxes.map((s) => fetch(`${runtime.url}/sandboxes/${s.sandboxID}`, { method: 'DELETE', headers }).catch(() => undefined)),
      );
    } catch {
      return; // the runtime is gone
    }
  }
}
