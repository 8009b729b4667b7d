// Finding (or starting) the local runtime: it writes its URL and API key to <dataDir>/env. What
// the files there hold and how the runtime is started is the contract both sides import.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  ContractFileError,
  launchOptions,
  readEnvFile,
  readLaunchFile,
  runtimeArguments,
  runtimeFiles,
  RuntimeCommandLine,
  RuntimeEndpoint,
} from '../../runtime/src/contract/local-runtime-contract';
import { sleep } from './backoff';

export type LocalRuntimeEndpoint = RuntimeEndpoint;

/**
 * The endpoint in `dataDir`'s env file; undefined when there is none. Throws a ContractFileError
 * when the file cannot be used.
 */
export async function readLocalRuntimeEnv(dataDir: string): Promise<LocalRuntimeEndpoint | undefined> {
  return readEnvFile(dataDir);
}

/**
 * Like readLocalRuntimeEnv, but an unusable env file counts as none (`onUnusable` hears why): the
 * runtime that starts next writes it anew.
 */
export async function readUsableLocalRuntimeEnv(
  dataDir: string,
  onUnusable?: (problem: string) => void,
): Promise<LocalRuntimeEndpoint | undefined> {
  try {
    return readEnvFile(dataDir);
  } catch (err) {
    if (!(err instanceof ContractFileError)) throw err;
    onUnusable?.(err.message);
    return undefined;
  }
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
    throw new Error(
      'The local runtime manages containers and must run as root. Start it with `sudo npm start` in the extension repository, or choose another connection.',
    );
  }
  mkdirSync(dataDir, { recursive: true });
  const log = openSync(runtimeFiles(dataDir).log, 'a');
  // Only base is built if missing: other images need files from the repository (and a build
  // from here must never replace images that running sandboxes use as their lower layer).
  const unusable = (problem: string) =>
    writeSync(log, `[${new Date().toISOString()}] ${problem}; starting the runtime with its defaults\n`);
  const line: RuntimeCommandLine = { command: 'up', dataDir, images: ['base'], ...previousLaunch(dataDir, unusable) };
  const child = spawn(process.execPath, [join(extensionPath, 'runtime', 'dist', 'cli.js'), ...runtimeArguments(line)], {
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
    pid = Number(readFileSync(runtimeFiles(dataDir).pid, 'utf8').trim());
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
export async function ensureLocalRuntime(
  extensionPath: string,
  dataDir: string,
  timeoutMs: number,
  cancelled: () => boolean,
  onStart?: () => void,
): Promise<LocalRuntimeEndpoint | undefined> {
  const deadline = Date.now() + timeoutMs;
  let child: ChildProcess | undefined;
  let exited: number | null | undefined;
  while (Date.now() < deadline && !cancelled()) {
    // A runtime that is starting writes the env file anew.
    const endpoint = await readUsableLocalRuntimeEnv(dataDir);
    if (endpoint && (await isRuntimeHealthy(endpoint.apiUrl))) return endpoint;
    if (exited !== undefined)
      throw new Error(`The local runtime exited (code ${exited}) before it answered: see ${runtimeFiles(dataDir).log}.`);
    if (!child && liveRuntimePid(dataDir) === undefined) {
      onStart?.();
      child = startBundledRuntime(extensionPath, dataDir);
      child.once('exit', (code) => {
        exited = code;
      });
    }
    await sleep(500);
  }
  return undefined;
}

/** The runtime records how it was last started (runtime.json); start it the same way again. */
function previousLaunch(dataDir: string, onUnusable: (problem: string) => void): Partial<RuntimeCommandLine> {
  try {
    const record = readLaunchFile(dataDir);
    return record ? launchOptions(record) : {};
  } catch (err) {
    onUnusable((err as Error).message);
    return {};
  }
}
