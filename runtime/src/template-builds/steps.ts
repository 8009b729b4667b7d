// Running one build step: a throwaway container over the parent layers, a command in it through
// its agent, then the container's overlay upper dir is kept as the step's layer. Build
// containers live in the sandboxes dir (so a restarted runtime cleans up a crashed one) but are
// not sandboxes: the API never lists them.
import { randomBytes } from 'node:crypto';
import { chownSync, copyFileSync, chmodSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Crun } from '../container/crun';
import { removeTree, SandboxBundle } from '../container/bundle';
import { HOST_ID_BASE } from '../container/idmap';
import { sandboxOciSpec } from '../container/oci-spec';
import { RuntimePaths } from '../paths';
import { SandboxNetworks } from '../network/sandbox-networks';
import { agentRequest, waitForAgent } from '../envd/agent-link';
import { startInSandbox } from '../envd/agent-process';
import { shellQuote } from '../shell-quote';
import { cgroupPathOf, containerName } from '../container/names';
import { NATIVE_PROGRAMS } from '../container/native';

export interface BuildHost {
  paths: RuntimePaths;
  crun: Crun;
  nodeBinary: string;
  agentScript: string;
  interpreterScript: string;
  noNewPrivileges: boolean;
  /** RUN steps get a sandbox's default egress (so package installs work); none: loopback only. */
  network?: SandboxNetworks;
}

export interface StepCommand {
  cmd: string;
  user: string;
  cwd?: string;
  envs: Record<string, string>;
}

/** Where a file handed to the build container appears inside it (the bundle's socket dir). */
const INBOX_IN_SANDBOX = '/run/e2b';
const RUN_TIMEOUT_MS = 60 * 60 * 1000;

/** How a step's command ended: its exit code and the agent's end status ("exit status 3"). */
export interface StepOutcome {
  exitCode: number;
  status: string;
}

/**
 * Runs `command` in a container over `lowerdirs` and moves its upper dir to `layerDir`.
 * `inbox` files are copied next to the agent socket, readable at /run/e2b/<name>.
 */
export async function runStepInContainer(
  host: BuildHost,
  lowerdirs: string,
  command: StepCommand,
  layerDir: string,
  onOutput: (line: string) => void,
  inbox: { name: string; source: string }[] = [],
  active: Set<string> = new Set(),
): Promise<StepOutcome> {
  const id = `build${randomBytes(8).toString('hex')}`;
  const bundle = new SandboxBundle(host.paths.sandboxDir(id));
  let outcome: StepOutcome = { exitCode: -1, status: 'not run' };
  active.add(id);
  try {
    mkdirSync(bundle.socketDir, { recursive: true });
    for (const file of inbox) {
      const target = join(bundle.socketDir, file.name);
      copyFileSync(file.source, target);
      chownSync(target, HOST_ID_BASE, HOST_ID_BASE);
      chmodSync(target, 0o600);
    }
    const spec = sandboxOciSpec({
      sandboxId: id,
      limits: { cpuCount: 2, memoryMB: 2048, pids: 4096 },
      nodeBinary: host.nodeBinary,
      agentScript: host.agentScript,
      interpreterScript: host.interpreterScript,
      binDir: host.paths.binDir,
      socketDir: bundle.socketDir,
      cgroupsPath: cgroupPathOf(id),
      noNewPrivileges: host.noNewPrivileges,
      extraMounts: host.network?.prepare(id, bundle.dir) ?? [],
    });
    await bundle.prepare(lowerdirs, spec, join(host.paths.binDir, NATIVE_PROGRAMS.sandboxDisk));
    const pid = await host.crun.run(containerName(id), bundle.dir, bundle.logFile);
    await host.network?.attach(id, pid, {});
    await waitForAgent(bundle.socketPath, 20_000);
    const init = await agentRequest(bundle.socketPath, 'POST', '/init', {
      envVars: {},
      defaultUser: 'root',
      timestamp: new Date().toISOString(),
    });
    if (init.status !== 204) throw new Error(`build container agent refused /init: ${init.status} ${init.body}`);
    outcome = await streamCommand(bundle.socketPath, command, onOutput);
  } finally {
    await host.crun.deleteForce(containerName(id)).catch(() => undefined);
    await host.network?.detach(id).catch(() => undefined);
    await bundle.unmount();
    if (outcome.exitCode === 0) {
      await removeTree(layerDir);
      renameSync(bundle.upper, layerDir);
    }
    await bundle.remove();
    active.delete(id);
  }
  return outcome;
}

/** Whether a layer holds nothing but the mount points crun creates (an empty step). */
export function layerIsEmpty(layerDir: string): boolean {
  const top = readdirSync(layerDir);
  if (top.some((n) => n !== 'opt')) return false;
  if (top.length === 0) return true;
  const opt = readdirSync(join(layerDir, 'opt'));
  if (opt.some((n) => n !== 'e2b')) return false;
  // /opt/e2b/{node,agent.js,interpreter.js,bin} are mount points: empty files and dirs.
  return readdirSync(join(layerDir, 'opt', 'e2b')).every((n) => ['node', 'agent.js', 'interpreter.js', 'bin'].includes(n));
}

export function inboxPath(name: string): string {
  return `${INBOX_IN_SANDBOX}/${name}`;
}

/** Extracts a COPY archive at `archive` (in the container) into dest, Docker-style. */
export function copyScript(archive: string, src: string, dest: string, owner: string, mode: string): string {
  const q = shellQuote;
  return [
    'set -e',
    `archive=${q(archive)}; src=${q(src.replace(/^\.\/+/, '').replace(/\/+$/, '') || '.')}; dest=${q(dest)}; owner=${q(owner)}; mode=${q(mode)}`,
    'tmp=/run/e2b/copy; rm -rf "$tmp"; mkdir -p "$tmp"',
    'tar -xf "$archive" -C "$tmp"',
    'if [ -n "$owner" ] && [ "$owner" != root ]; then chown -R "$owner": "$tmp"; fi',
    'if [ -n "$mode" ]; then find "$tmp" -mindepth 1 -type f -exec chmod "$mode" {} +; fi',
    'cd "$tmp"',
    'set -f; matches=""; case "$src" in *[*?[]*) set +f; matches=$(ls -d -- $src 2>/dev/null || true);; *) matches="$src";; esac; set +f',
    '[ -n "$matches" ] || { echo "COPY: nothing matches $src" >&2; exit 1; }',
    'count=$(printf "%s\\n" "$matches" | wc -l)',
    'printf "%s\\n" "$matches" | while IFS= read -r p; do',
    '  if [ -d "$p" ]; then',
    '    if [ ! -e "$dest" ]; then mkdir -p "$dest"; [ -z "$owner" ] || chown "$owner": "$dest"; fi',
    '    (cd "$p" && tar -cf - .) | tar -xf - -C "$dest" --no-overwrite-dir',
    '  else',
    '    case "$dest" in */) target="$dest$(basename "$p")";; *) if [ -d "$dest" ] || [ "$count" -gt 1 ]; then target="$dest/$(basename "$p")"; else target="$dest"; fi;; esac',
    '    mkdir -p "$(dirname "$target")"',
    '    cp -a "$p" "$target"',
    '  fi',
    'done',
    'cd /; rm -rf "$tmp"',
  ].join('\n');
}

/** `bash -l -c cmd` through the agent's process service, its output line by line; → how it ended. */
async function streamCommand(socketPath: string, command: StepCommand, onLine: (line: string) => void): Promise<StepOutcome> {
  let pending = '';
  const outcome = await startInSandbox(socketPath, undefined, command, {
    waitForExit: true,
    timeoutMs: RUN_TIMEOUT_MS,
    onOutput: (text) => {
      const lines = (pending + text).split('\n');
      pending = lines.pop()!;
      for (const line of lines) onLine(line.replace(/\r$/, ''));
    },
  });
  if (pending) onLine(pending.replace(/\r$/, ''));
  const exitCode = outcome.exitCode ?? 0;
  return { exitCode, status: outcome.status ?? `exit status ${exitCode}` };
}
