// npm run bench:extension: the extension's speed inside a real VS Code (code-server), measured by
// the suite in test/bench/suite running in its extension host against a local runtime:
// activation, the explorer's full refresh with 500 sandboxes, a 10 MB sandbox file opened and
// saved, notebook cells (`1+1` and a chart). Prints one JSON object (progress goes to stderr) and
// writes it to .cache/bench/extension.json.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, RuntimeProcess } from '../../runtime/test/helpers/runtime-process';
import { startCodeServer, VSCODE_CACHE } from '../vscode/code-server';
import { freshWorkbench, launchBrowser, OUT, packageExtensions, REPO, stopCodeServer, stopRuntimeOf, waitForResults } from '../vscode/harness';

const RESULT_FILE = join(REPO, '.cache', 'bench', 'extension.json');
const BENCH_TIMEOUT_MS = 45 * 60_000;

/** Kills every sandbox of the runtime, page after page (there may be hundreds). */
async function killAllSandboxes(runtime: RuntimeProcess): Promise<void> {
  const headers = { 'X-API-KEY': runtime.apiKey };
  for (let round = 0; round < 50; round++) {
    try {
      const res = await fetch(`${runtime.url}/v2/sandboxes?limit=100`, { headers });
      const sandboxes = (await res.json()) as { sandboxID: string }[];
      if (sandboxes.length === 0) return;
      await Promise.all(sandboxes.map((s) => fetch(`${runtime.url}/sandboxes/${s.sandboxID}`, { method: 'DELETE', headers }).catch(() => undefined)));
    } catch {
      return; // the runtime is gone
    }
  }
}

async function main(): Promise<number> {
  const { extension, runner } = packageExtensions(['--bench'], 'stderr');
  const work = mkdtempSync(join(tmpdir(), 'e2b-vscode-bench-'));
  const runtime = await RuntimeProcess.start();
  let codeServer: Awaited<ReturnType<typeof startCodeServer>> | undefined;
  const browser = await launchBrowser();
  try {
    const dirs = freshWorkbench(work, [extension, runner]);
    const results = join(work, 'results.txt');
    const passOn = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('E2B_BENCH_') && e[1] !== undefined));
    codeServer = await startCodeServer({
      ...dirs,
      port: await freePort(),
      settings: {
        'e2b.local.dataDir': runtime.dataDir,
        'e2b.local.autoStart': false,
        // The benchmark refreshes the explorer itself; the largest page keeps the page count low.
        'e2b.explorer.refreshIntervalSeconds': 0,
        'e2b.explorer.pageSize': 100,
      },
      env: { ...passOn, E2B_VSCODE_TEST_SUITE: join(OUT, 'test/bench/index.js'), E2B_VSCODE_TEST_RESULTS: results, E2B_BENCH_STATE: join(work, 'bench-state.json') },
    });
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    await page.goto(`${codeServer.url}/?folder=${encodeURIComponent(dirs.workspace)}`);
    const text = await waitForResults(results, codeServer.output, {
      timeoutMs: BENCH_TIMEOUT_MS,
      onLine: (line) => {
        console.error(line);
        // One activation sample per extension host: a reloaded window gets a new one.
        if (line === '# reload') void page.reload().catch((err) => console.error(`reload failed: ${err}`));
      },
    });
    const line = /^# bench (.*)$/m.exec(text);
    if (!line) throw new Error(`the benchmark suite did not report; code-server said:\n${codeServer.output().slice(-4000)}`);
    const measured = JSON.parse(line[1]) as Record<string, unknown>;
    const report = {
      benchmark: 'extension',
      unit: 'ms',
      vscode: `code-server ${JSON.parse(readFileSync(join(VSCODE_CACHE, 'node_modules/code-server/package.json'), 'utf8')).version}`,
      cpus: cpus().length,
      bundle_bytes: statSync(join(REPO, 'dist/extension.js')).size,
      ...measured,
    };
    mkdirSync(join(REPO, '.cache', 'bench'), { recursive: true });
    writeFileSync(RESULT_FILE, `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify(report, null, 2));
    const failed = Object.values(measured).some((v) => typeof v === 'object' && v !== null && 'error' in v);
    return failed ? 1 : 0;
  } finally {
    await browser.close().catch(() => undefined);
    await stopCodeServer(codeServer);
    await killAllSandboxes(runtime);
    await stopRuntimeOf(runtime);
    await runtime.dispose();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (err) => { console.error(err); process.exit(1); });
