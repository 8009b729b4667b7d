// npm run bench:extension: the extension's speed inside a real VS Code (code-server), measured by
// the suite in test/bench/suite running in its extension host against a local runtime:
// activation, the explorer's full refresh with 500 sandboxes, a 10 MB sandbox file opened and
// saved, notebook cells (`1+1` and a chart). Prints one JSON object (progress goes to stderr) and
// writes it to .cache/bench/extension.json.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { VSCODE_CACHE } from '../vscode/code-server';
import { OUT, packageExtensions, REPO, runInWorkbench, waitForResults } from '../vscode/harness';

const RESULT_FILE = join(REPO, '.cache', 'bench', 'extension.json');
const BENCH_TIMEOUT_MS = 45 * 60_000;

async function main(): Promise<number> {
  const { extension, runner } = packageExtensions(['--bench'], 'stderr');
  const passOn = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('E2B_BENCH_') && e[1] !== undefined),
  );
  return runInWorkbench(
    {
      name: 'e2b-vscode-bench-',
      vsixFiles: [extension, runner],
      suite: join(OUT, 'test/bench/index.js'),
      settings: {
        // The benchmark refreshes the explorer itself; the largest page keeps the page count low.
        'e2b.explorer.refreshIntervalSeconds': 0,
        'e2b.explorer.pageSize': 100,
      },
      env: (work) => ({ ...passOn, E2B_BENCH_STATE: join(work, 'bench-state.json') }),
      browserContext: { viewport: { width: 1400, height: 900 } },
    },
    async ({ codeServer, page, results }) => {
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
    },
  );
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
