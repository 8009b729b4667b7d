// The README's benchmark table, made from the JSON results the benchmarks keep in .cache/bench
// (npm run bench writes them). Prints the table; with --write, replaces it in README.md between
// the <!-- bench-table --> markers.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(REPO, '.cache', 'bench');

/** [what, result file, path to a { p50, p95 } summary or a number, target (text), target check on p50]. */
const ROWS = [
  ['Extension activation (VS Code: load + activate)', 'extension', 'activation.vscode_reported', '< 150 ms', (v) => v < 150],
  ['Explorer full refresh, 500 sandboxes', 'extension', 'explorer.refresh_full', '', undefined],
  ['Open a 10 MB sandbox file (`openTextDocument`)', 'extension', 'files.open_text_document', '', undefined],
  ['Save a 10 MB sandbox file', 'extension', 'files.save', '', undefined],
  ['Notebook cell `1+1` (run → output)', 'extension', 'notebook.cell_1_plus_1', '', undefined],
  ['Notebook chart cell (matplotlib)', 'extension', 'notebook.cell_chart', '', undefined],
  ['Create → first command, warm pool', 'runtime-sandbox-latency', 'create_to_first_command_warm', '≤ 10 ms', (v) => v <= 10],
  ['Create → first command, cold', 'runtime-sandbox-latency', 'create_to_first_command_cold', '≤ 40 ms', (v) => v <= 40],
  ['Create → first command, 100 at once (pool of 100)', 'runtime-sandbox-latency', 'create_to_first_command_100_at_once_warm_pool_100', 'p95 ≤ 1 s', (v, s) => s.p95 <= 1000],
  ['Create → first command, 100 at once, cold', 'runtime-sandbox-latency', 'create_to_first_command_100_at_once_cold', '', undefined],
  ["`commands.run('true')`", 'runtime-sandbox-latency', 'command_run_true', '≤ 3 ms', (v) => v <= 3],
  ["`runCode('1+1')` (Python)", 'runtime-code-interpreter-latency', 'run_code_1_plus_1_python', '≤ 5 ms', (v) => v <= 5],
  ['`runCode` matplotlib chart', 'runtime-code-interpreter-latency', 'run_code_matplotlib_chart', '', undefined],
  ['Create → first `runCode` result, warm pool', 'runtime-code-interpreter-latency', 'create_to_first_result_warm', '', undefined],
  ['Create → first `runCode` result, cold', 'runtime-code-interpreter-latency', 'create_to_first_result_cold', '', undefined],
  ['Pause (cgroup freezer)', 'runtime-pause-resume-latency', 'pause', '', undefined],
  ['Resume', 'runtime-pause-resume-latency', 'resume', '', undefined],
  ['`createSnapshot` of a fresh sandbox (it is frozen meanwhile)', 'runtime-snapshot-latency', 'create_snapshot_fresh', '', undefined],
  ['`createSnapshot` after writing 100 MB', 'runtime-snapshot-latency', 'create_snapshot_100mb', '', undefined],
  ['`Sandbox.create(<snapshot>)` → first command', 'runtime-snapshot-latency', 'start_from_snapshot_to_first_command', '', undefined],
  ['`fork()` → first command of the fork', 'runtime-snapshot-latency', 'fork_to_first_command', '', undefined],
  ['Create → first command, cold, no uplink', 'runtime-network-latency', 'create_to_first_command_cold_no_uplink', '', undefined],
  ['Create → first command, cold, with an uplink (veth, rules, DNS)', 'runtime-network-latency', 'create_to_first_command_cold_with_uplink', '', undefined],
  ['HTTP request from a sandbox to a test host (NAT)', 'runtime-network-latency', 'http_request_through_nat', '', undefined],
  ['HTTP request to an allowed domain (through the domain proxy)', 'runtime-network-latency', 'http_request_through_domain_proxy', '', undefined],
  ['A neighbour\'s `commands.run(\'echo\')` during a fork bomb in another sandbox', 'runtime-noisy-neighbour', 'neighbour_echo_during_fork_bomb', 'p95 ≤ 250 ms', (v, s) => s.p95 <= 250],
];

function load(name) {
  const file = join(RESULTS, `${name}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

function at(object, path) {
  return path.split('.').reduce((value, key) => (value === undefined || value === null ? undefined : value[key]), object);
}

const ms = (v) => (v === undefined ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Number(v).toFixed(v < 10 ? 1 : 0)} ms`);

export function benchTable() {
  const lines = ['| what | p50 | p95 | target | met |', '|---|---|---|---|---|'];
  for (const [what, file, path, target, check] of ROWS) {
    const summary = at(load(file), path);
    if (!summary) {
      lines.push(`| ${what} | not measured | | ${target} | |`);
      continue;
    }
    const s = typeof summary === 'number' ? { p50: summary, p95: undefined } : summary;
    const met = check ? (check(s.p50, s) ? 'yes' : 'no') : '';
    lines.push(`| ${what} | ${ms(s.p50)} | ${ms(s.p95)} | ${target} | ${met} |`);
  }
  const memory = load('runtime-idle-sandbox-memory');
  if (memory) {
    const ok = memory.host_memory_per_sandbox <= 15 && memory.sandboxes >= 500 && memory.answering === memory.sandboxes;
    lines.push(`| Host memory per idle sandbox (${memory.sandboxes} idle, ${memory.answering} answering) | ${memory.host_memory_per_sandbox} MB | | ≥ 500 at ≤ 15 MB | ${ok ? 'yes' : 'no'} |`);
  } else {
    lines.push('| Host memory per idle sandbox | not measured | | ≥ 500 at ≤ 15 MB | |');
  }
  const measured = ['extension', 'runtime-sandbox-latency', 'runtime-code-interpreter-latency', 'runtime-idle-sandbox-memory']
    .map((name) => load(name)?.measuredAt).filter(Boolean).sort();
  if (measured.length) lines.push('', `Measured ${measured[0].slice(0, 10)} on this project's 2-core CI machine kind (\`npm run bench\`).`);
  return lines.join('\n');
}

const table = benchTable();
if (process.argv.includes('--write')) {
  const readmeFile = join(REPO, 'README.md');
  const readme = readFileSync(readmeFile, 'utf8');
  const pattern = /(<!-- bench-table -->)[\s\S]*?(<!-- \/bench-table -->)/;
  if (!pattern.test(readme)) throw new Error('README.md has no <!-- bench-table --> … <!-- /bench-table --> markers');
  writeFileSync(readmeFile, readme.replace(pattern, `$1\n${table}\n$2`));
}
console.log(table);
