// Finding (or starting) the local runtime: it writes its URL and API key to <dataDir>/env.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from './backoff';

export interface LocalRuntimeEndpoint { apiUrl: string; sandboxUrl: string; apiKey: string; volumeApiUrl: string }

/** Parses the `export E2B_…=…` lines the runtime writes. Undefined when the file is missing. */
export async function readLocalRuntimeEnv(dataDir: string): Promise<LocalRuntimeEndpoint | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, 'env'), 'utf8');
  } catch {
    return undefined;
  }
  const vars = parseEnvExports(text);
  if (!vars.E2B_API_URL || !vars.E2B_API_KEY) return undefined;
  return {
    apiUrl: vars.E2B_API_URL,
    sandboxUrl: vars.E2B_SANDBOX_URL ?? vars.E2B_API_URL,
    apiKey: vars.E2B_API_KEY,
    // Runtimes older than volumes wrote no E2B_VOLUME_API_URL; the content API shares the port anyway.
    volumeApiUrl: vars.E2B_VOLUME_API_URL ?? vars.E2B_API_URL,
  };
}

export function parseEnvExports(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) vars[match[1]] = match[2].trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return vars;
}

export async function isRuntimeHealthy(apiUrl: string, timeoutMs = 1500): Promise<boolean> {
  try {
    const res = await fetch(`${apiUrl}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Starts the runtime bundled with the extension, detached so it outlives this window, logging to
 * <dataDir>/runtime.log. It needs root (it manages containers).
 */
export function startBundledRuntime(extensionPath: string, dataDir: string): ChildProcess {
  if (process.getuid?.() !== 0) {
    throw new Error('The local runtime manages containers and must run as root. Start it with `sudo npm start` in the extension repository, or choose another connection.');
  }
  mkdirSync(dataDir, { recursive: true });
  const log = openSync(join(dataDir, 'runtime.log'), 'a');
  // Only base is built if missing: other images need files from the repository (and a build
  // from here must never replace images that running sandboxes use as their lower layer).
  const args = [join(extensionPath, 'runtime', 'dist', 'cli.js'), 'up', '--data-dir', dataDir, '--image', 'base', ...previousLaunchArgs(dataDir)];
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();
  return child;
}

/**
 * The pid of a runtime process that serves `dataDir` (it wrote runtime.pid and is alive), or
 * undefined. A runtime that is starting, busy or stopping does not answer /health but must not
 * get a second runtime next to it.
 */
export function liveRuntimePid(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, 'runtime.pid'), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    // A zombie (exited, not yet reaped) still has its /proc entry: its state letter says Z.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') return undefined;
    // The pid may have been reused since: a runtime is a process started with `up`.
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes('up') ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes sure a runtime serves `dataDir` and returns its endpoint once it answers: one that is
 * running already (starting, busy, stopping) is waited for; when none is, or the one waited for
 * exits, the bundled runtime is started (once). Undefined on timeout or cancellation; throws
 * when the runtime cannot be started or exits before answering.
 */
export async function ensureLocalRuntime(extensionPath: string, dataDir: string, timeoutMs: number, cancelled: () => boolean, onStart?: () => void): Promise<LocalRuntimeEndpoint | undefined> {
  const deadline = Date.now() + timeoutMs;
  let child: ChildProcess | undefined;
  let exited: number | null | undefined;
  while (Date.now() < deadline && !cancelled()) {
    const endpoint = await readLocalRuntimeEnv(dataDir);
    if (endpoint && (await isRuntimeHealthy(endpoint.apiUrl))) return endpoint;
    if (exited !== undefined) throw new Error(`The local runtime exited (code ${exited}) before it answered: see ${join(dataDir, 'runtime.log')}.`);
    if (!child && liveRuntimePid(dataDir) === undefined) {
      onStart?.();
      child = startBundledRuntime(extensionPath, dataDir);
      child.once('exit', (code) => { exited = code; });
    }
    await sleep(500);
  }
  return undefined;
}

/** The runtime records how it was last started (runtime.json); start it the same way again. */
function previousLaunchArgs(dataDir: string): string[] {
  try {
    const launch = JSON.parse(readFileSync(join(dataDir, 'runtime.json'), 'utf8')) as { listen?: string; imagesDir?: string; domain?: string };
    return [
      ...(launch.listen ? ['--listen', launch.listen] : []),
      ...(launch.imagesDir ? ['--images-dir', launch.imagesDir] : []),
      ...(launch.domain ? ['--domain', launch.domain] : []),
    ];
  } catch {
    return [];
  }
}
