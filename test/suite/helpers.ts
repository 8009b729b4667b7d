// Shared helpers for the extension-host tests: the extension's services, the local runtime's
// endpoint (read the same way the extension reads it), waiting for conditions.
import * as vscode from 'vscode';
import type { E2BExtensionApi } from '../../src/extension';
import { readLocalRuntimeEnv } from '../../src/connection/local-runtime';

export const EXTENSION_ID = 'e2b-local.e2b-sandboxes';

export async function extensionApi(): Promise<E2BExtensionApi> {
  const extension = vscode.extensions.getExtension<E2BExtensionApi>(EXTENSION_ID);
  if (!extension) throw new Error(`${EXTENSION_ID} is not installed`);
  return extension.activate();
}

export function runtimeDataDir(): string {
  return vscode.workspace.getConfiguration('e2b').get<string>('local.dataDir', '/var/lib/e2b-local');
}

/** SDK options for talking to the same runtime directly (to set up and check from outside). */
export async function sdkOptions(): Promise<{ apiKey: string; apiUrl: string; sandboxUrl: string }> {
  const endpoint = await readLocalRuntimeEnv(runtimeDataDir());
  if (!endpoint) throw new Error(`no local runtime env file in ${runtimeDataDir()}`);
  return endpoint;
}

export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}
