// Finding (or starting) the local runtime: it writes its URL and API key to <dataDir>/env.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface LocalRuntimeEndpoint { apiUrl: string; sandboxUrl: string; apiKey: string }

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
  return { apiUrl: vars.E2B_API_URL, sandboxUrl: vars.E2B_SANDBOX_URL ?? vars.E2B_API_URL, apiKey: vars.E2B_API_KEY };
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
export function startBundledRuntime(extensionPath: string, dataDir: string): void {
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

export async function waitForLocalRuntime(dataDir: string, timeoutMs: number, cancelled: () => boolean): Promise<LocalRuntimeEndpoint | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !cancelled()) {
    const endpoint = await readLocalRuntimeEnv(dataDir);
    if (endpoint && (await isRuntimeHealthy(endpoint.apiUrl))) return endpoint;
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}
