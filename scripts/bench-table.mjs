// The README's benchmark tables, made from the JSON results the benchmarks keep in .cache/bench
// (npm run bench writes them): the targets with each runtime row beside the SDK's floor
// (the runtime's share is the difference) and beside Podman on the same root filesystem, with the
// ratios; then the other measures, then Podman's own rows. Prints the tables and keeps the same
// rows as JSON in .cache/bench/comparison.json; with --write, replaces them in README.md between
// the <!-- bench-table --> markers.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(REPO, '.cache', 'bench');
const SANDBOX = 'runtime-sandbox-latency';
const INTERPRETER = 'runtime-code-interpreter-latency';
const MEMORY = 'runtime-idle-sandbox-memory';

/**
 * The rows: [what, result file, path to a { p50, p95 } summary (alternatives split by |),
 * target (text), target check (p50, summary), Podman's comparable path in podman.json].
 */
const TARGETS = [
  ['Create → first command, cold', SANDBOX, 'create_to_first_command_cold', '≤ 40 ms p50', (v) => v <= 40, 'run_rm_true'],
  ['Create → first command, warm pool', SANDBOX, 'create_to_first_command_warm', '≤ 10 ms p50', (v) => v <= 10],
  [
    "`commands.run('true')`",
    SANDBOX,
    'command_run_true',
    '≤ 1.5× floor, ≤ 3 ms',
    (v, s) => v <= 1.5 * s.floor.p50 && (v <= 3 || 1.5 * s.floor.p50 > 3),
    'exec_true',
  ],
  [
    'Create → first command, N at once, pool of N (p95)',
    SANDBOX,
    'create_to_first_command_at_once_warm_pool|create_to_first_command_100_at_once_warm_pool_100',
    'p95 ≤ 1 s',
    (v, s) => s.p95 <= 1000,
  ],
  [
    'Create → first command, N at once, cold (p95)',
    SANDBOX,
    'create_to_first_command_at_once_cold|create_to_first_command_100_at_once_cold',
    'p95 ≤ 3 s',
    (v, s) => s.p95 <= 3000,
    'run_rm_true_at_once',
  ],
  ["`runCode('1+1')` (Python)", INTERPRETER, 'run_code_1_plus_1_python', '≤ 5 ms', (v) => v <= 5],
  ["`runCode('1+1')` (JavaScript)", INTERPRETER, 'run_code_1_plus_1_javascript', '≤ 5 ms', (v) => v <= 5],
  ['Explorer full refresh, 500 sandboxes (p95)', 'extension', 'explorer.refresh_full', 'p95 ≤ 150 ms', (v, s) => s.p95 <= 150],
  ['Notebook cell `1+1` (run → output)', 'extension', 'notebook.cell_1_plus_1', '≤ 50 ms', (v) => v <= 50],
  // The measure is the file system provider's own read and write; what VS Code adds
  // around them (its document model of 10 MB, the window's round trips) is in the rows below.
  [
    'Read a 10 MB sandbox file through the provider (opening it)',
    'extension',
    'files.open_text_document_provider_read',
    '≤ 100 ms',
    (v) => v <= 100,
  ],
  ['Write a 10 MB sandbox file through the provider (saving it)', 'extension', 'files.save_provider_write', '≤ 100 ms', (v) => v <= 100],
];

/** Everything else the benchmarks measure: [what, result file, path, target, check]. */
const OTHERS = [
  ['Extension activation (VS Code: load + activate)', 'extension', 'activation.vscode_reported', '< 150 ms', (v) => v < 150],
  ['Notebook chart cell (matplotlib)', 'extension', 'notebook.cell_chart'],
  ['10 MB sandbox file: `workspace.fs.readFile`', 'extension', 'files.fs_read_file'],
  ['10 MB sandbox file: `openTextDocument` (VS Code builds its text model)', 'extension', 'files.open_text_document'],
  ['10 MB sandbox file: `document.save()` of an edit', 'extension', 'files.save'],
  ["10 MB sandbox file: the SDK's own `files.read`", 'extension', 'files.sdk_files_read'],
  ["10 MB sandbox file: the SDK's own `files.write`", 'extension', 'files.sdk_files_write'],
  ['`runCode` matplotlib chart', INTERPRETER, 'run_code_matplotlib_chart'],
  ['Create → first `runCode` result, warm pool', INTERPRETER, 'create_to_first_result_warm'],
  ['Create → first `runCode` result, cold', INTERPRETER, 'create_to_first_result_cold'],
  ["`commands.run('true')` as the first request after the agent slept (it starts again)", MEMORY, 'first_command_after_agent_slept'],
  ['… and the next one, agent awake', MEMORY, 'second_command_after_wake'],
  ['Pause (cgroup freezer)', 'runtime-pause-resume-latency', 'pause'],
  ['Resume', 'runtime-pause-resume-latency', 'resume'],
  ['`createSnapshot` of a fresh sandbox (it is frozen meanwhile)', 'runtime-snapshot-latency', 'create_snapshot_fresh'],
  ['`createSnapshot` after writing 100 MB', 'runtime-snapshot-latency', 'create_snapshot_100mb'],
  ['`Sandbox.create(<snapshot>)` → first command', 'runtime-snapshot-latency', 'start_from_snapshot_to_first_command'],
  ['`fork()` → first command of the fork', 'runtime-snapshot-latency', 'fork_to_first_command'],
  ['Create → first command, cold, no uplink', 'runtime-network-latency', 'create_to_first_command_cold_no_uplink'],
  [
    'Create → first command, cold, with an uplink (veth, rules, DNS)',
    'runtime-network-latency',
    'create_to_first_command_cold_with_uplink',
  ],
  ['HTTP request from a sandbox to a test host (NAT)', 'runtime-network-latency', 'http_request_through_nat'],
  ['HTTP request to an allowed domain (through the domain proxy)', 'runtime-network-latency', 'http_request_through_domain_proxy'],
  ["The API's `/health` while N sandboxes are created and killed at once, cold", 'runtime-noisy-neighbour', 'api_health_during_cold_burst'],
  [
    "A neighbour's `commands.run('echo')` during a fork bomb in another sandbox",
    'runtime-noisy-neighbour',
    'neighbour_echo_during_fork_bomb',
    'p95 ≤ 250 ms',
    (v, s) => s.p95 <= 250,
  ],
];

/** Podman's own rows: [what, path in podman.json]. */
const PODMAN_ROWS = [
  ['`podman run --rm … true` (new container + first command)', 'run_rm_true'],
  ['`podman run -d … sleep infinity` + `podman exec … true`', 'run_detached_then_exec_true'],
  ['`podman exec … true` in a running container', 'exec_true'],
  ['`podman run --rm … true`, N at once', 'run_rm_true_at_once'],
];

// Set by scripts/bench.sh: a result file older than this run was kept from an earlier one (its
// benchmark failed or was not selected), and its rows say so.
const RUN_STARTED = Number(process.env.BENCH_STARTED) || 0;

function load(name) {
  const file = join(RESULTS, `${name}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

/** ' (earlier run, <date>)' for a result this run did not write, else ''. */
function earlier(name) {
  const file = join(RESULTS, `${name}.json`);
  if (!RUN_STARTED || !existsSync(file)) return '';
  const { mtimeMs, mtime } = statSync(file);
  return mtimeMs < RUN_STARTED ? ` (earlier run, ${mtime.toISOString().slice(0, 16).replace('T', ' ')})` : '';
}

/** A part of a benchmark that failed keeps { error } in place of its numbers. */
const failure = (v) => (v && typeof v === 'object' && 'error' in v ? `failed: ${String(v.error).split('\n')[0].slice(0, 80)}` : undefined);

function at(object, paths) {
  for (const path of paths.split('|')) {
    const value = path.split('.').reduce((v, key) => (v === undefined || v === null ? undefined : v[key]), object);
    if (value !== undefined) return value;
  }
  return undefined;
}

const ms = (v) =>
  v === undefined || Number.isNaN(v)
    ? ''
    : Math.abs(v) >= 1000
      ? `${(v / 1000).toFixed(2)} s`
      : `${Number(v).toFixed(Math.abs(v) < 10 ? 1 : 0)} ms`;
const mb = (v) => (v === undefined || Number.isNaN(v) ? '' : `${Number(v).toFixed(1)} MB`);
// Host memory growth divided by the count: other work freeing memory meanwhile can make it
// negative, and then it measured nothing.
const hostMb = (v) => (typeof v === 'number' && v <= 0 ? 'below the noise' : mb(v));
const ratio = (a, b) => (a === undefined || b === undefined || !b ? undefined : Number((a / b).toFixed(2)));
const times = (r) => (r === undefined ? '' : `${r}×`);
const asSummary = (v) => (typeof v === 'number' ? { p50: v, p95: undefined } : v);

const podman = load('podman');
const podmanRan = podman && !podman.skipped;
const comparison = [];

function targetRow([what, file, path, target, check, podmanPath]) {
  const result = load(file);
  const value = result && at(result, path);
  const failed = failure(value);
  const s = !failed && value !== undefined ? asSummary(value) : undefined;
  const atOnce = result?.at_once ?? 100;
  const label = what.replace(/\bN\b/g, String(atOnce));
  // A burst compares only with one of the same size.
  const p = podmanRan && podmanPath && !(what.includes('N at once') && podman.at_once !== atOnce) ? at(podman, podmanPath) : undefined;
  if (!s) {
    comparison.push({ what: label, target, measured: null, ...(failed && { failed }) });
    return `| ${label} | ${target} | ${failed ?? 'not measured'} | | | | ${ms(p?.p50)} | | | |`;
  }
  const met = check ? (check(s.p50, s) ? 'yes' : 'no') : '';
  const row = {
    what: label,
    target,
    met: check ? met === 'yes' : undefined,
    measured: { p50: s.p50, p95: s.p95 },
    floor: s.floor,
    runtime_share: s.runtime_share,
    podman: p && { p50: p.p50, p95: p.p95 },
    ratio_to_podman: p && { p50: ratio(s.p50, p.p50), p95: ratio(s.p95, p.p95) },
    ratio_to_floor: s.ratio_to_floor,
  };
  comparison.push(row);
  return `| ${label} | ${target} | ${ms(s.p50)}${earlier(file)} | ${ms(s.p95)} | ${ms(s.floor?.p50)} | ${ms(s.runtime_share?.p50)} | ${ms(p?.p50)} | ${times(row.ratio_to_podman?.p50)} | ${times(s.ratio_to_floor?.p50)} | ${met} |`;
}

/**
 * Two rows: the host's memory growth per idle sandbox (what the target names; noisy with small
 * counts on a shared machine) and what each sandbox's own processes hold, read per sandbox
 * (the runtime: the sandbox's cgroup; Podman: the container's cgroup plus its conmon's RSS).
 */
function memoryRows() {
  const memory = load(MEMORY);
  const p = podmanRan ? podman.idle_memory : undefined;
  const target = '≤ 2 MB';
  const hostLabel = 'Host memory per idle base sandbox';
  const ownLabel = "Memory of an idle sandbox's own processes (Podman: container cgroup + conmon RSS)";
  if (!memory) {
    return [
      `| ${hostLabel} | ${target} | not measured | | | | ${hostMb(p?.host_memory_per_container)} | | | |`,
      `| ${ownLabel} | | not measured | | | | ${mb(p?.conmon_plus_cgroup_per_container)} | | | |`,
    ];
  }
  const host = memory.host_memory_per_sandbox;
  const own = memory.cgroup_memory_per_sandbox_mean;
  // A count too small for the machine's noise can even read below zero: that meets nothing.
  const met = memory.sandboxes >= 500 && memory.answering === memory.sandboxes && host > 0 && host <= 2;
  const hostRatio = host > 0 && p?.host_memory_per_container > 0 ? ratio(host, p.host_memory_per_container) : undefined;
  const ownRatio = ratio(own, p?.conmon_plus_cgroup_per_container);
  comparison.push({
    what: hostLabel,
    unit: 'MB',
    target,
    met,
    measured: host,
    sandboxes: memory.sandboxes,
    answering: memory.answering,
    podman: p?.host_memory_per_container,
    podman_containers: p?.containers,
    ratio_to_podman: hostRatio,
  });
  comparison.push({
    what: ownLabel,
    unit: 'MB',
    measured: own,
    podman: p?.conmon_plus_cgroup_per_container,
    podman_conmon_rss: p?.conmon_rss_mean,
    ratio_to_podman: ownRatio,
  });
  return [
    `| ${hostLabel} (${memory.sandboxes} idle, ${memory.agents_asleep ?? 0} agents asleep, ${memory.answering} answering) | ${target} | ${mb(host)}${earlier(MEMORY)} | | | | ${hostMb(p?.host_memory_per_container)} | ${times(hostRatio)} | | ${met ? 'yes' : 'no'} |`,
    `| ${ownLabel} | | ${mb(own)} | | | | ${mb(p?.conmon_plus_cgroup_per_container)} | ${times(ownRatio)} | | |`,
  ];
}

function otherRow([what, file, path, target = '', check]) {
  const value = at(load(file), path);
  if (!value) return `| ${what} | not measured | | ${target} | |`;
  const failed = failure(value);
  if (failed) return `| ${what} | ${failed} | | ${target} | |`;
  const s = asSummary(value);
  const met = check ? (check(s.p50, s) ? 'yes' : 'no') : '';
  return `| ${what} | ${ms(s.p50)}${earlier(file)} | ${ms(s.p95)} | ${target} | ${met} |`;
}

function podmanTable() {
  if (!podman) return ['Podman: not measured (`npm run bench` measures it).'];
  if (podman.skipped) return [`Podman: skipped (${podman.skipped}).`];
  const lines = [
    `Podman ${podman.podman} (${podman.oci_runtime}) on the same root filesystem as the runtime's base image (\`podman import\`), \`--network none\`, measured in the same run:`,
    '',
    '| what | p50 | p95 |',
    '|---|---|---|',
  ];
  for (const [what, path] of PODMAN_ROWS) {
    const s = at(podman, path);
    lines.push(`| ${what.replace(/\bN\b/g, String(podman.at_once))} | ${ms(s?.p50)} | ${ms(s?.p95)} |`);
  }
  const m = podman.idle_memory;
  lines.push(
    `| Idle container (${m.containers}): host memory / conmon RSS / container cgroup | ${hostMb(m.host_memory_per_container)} / ${mb(m.conmon_rss_mean)} / ${mb(m.cgroup_memory_per_container_mean)} | |`,
  );
  return lines;
}

export function benchTable() {
  comparison.length = 0;
  const lines = [
    '| what | target | p50 | p95 | SDK floor p50 | runtime share p50 | Podman p50 | × Podman | × floor | met |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...TARGETS.slice(0, 5).map(targetRow),
    ...memoryRows(),
    ...TARGETS.slice(5).map(targetRow),
    '',
    "The SDK floor is the same SDK call against a benchmark-only loopback endpoint that answers at once (`runtime/bench/sdk-floor-server.ts`); the runtime's share is p50 − floor p50. The notebook cell's floor is VS Code's own: the same cell on a benchmark-only controller that answers at once with the same output (`test/bench/suite/notebook-floor.ts`), so its share is the extension's and the sandbox's. Podman's cold create is `podman run --rm … true`, its command `podman exec … true` (the CLI, which is what a user runs).",
    '',
    '| what | p50 | p95 | target | met |',
    '|---|---|---|---|---|',
    ...OTHERS.map(otherRow),
    '',
    ...podmanTable(),
  ];
  const measured = ['extension', SANDBOX, INTERPRETER, MEMORY, 'podman']
    .map((name) => load(name)?.measuredAt)
    .filter(Boolean)
    .sort();
  if (measured.length) lines.push('', `Measured ${measured[0].slice(0, 10)} on this project's 2-core CI machine kind (\`npm run bench\`).`);
  return lines.join('\n');
}

const table = benchTable();
if (existsSync(RESULTS))
  writeFileSync(join(RESULTS, 'comparison.json'), `${JSON.stringify({ benchmark: 'comparison', rows: comparison }, null, 2)}\n`);
if (process.argv.includes('--write')) {
  const readmeFile = join(REPO, 'README.md');
  const readme = readFileSync(readmeFile, 'utf8');
  const pattern = /(<!-- bench-table -->)[\s\S]*?(<!-- \/bench-table -->)/;
  if (!pattern.test(readme)) throw new Error('README.md has no <!-- bench-table --> … <!-- /bench-table --> markers');
  writeFileSync(readmeFile, readme.replace(pattern, `$1\n${table}\n$2`));
}
console.log(table);
