// Turns a Start request into what to spawn: the user's identity, environment, working directory,
// and whether the PTY/pipes helper (e2b-ptyexec) sits in front of the command.
import { SpawnOptions } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { ConnectError } from '../connect/errors';
import { UserAccount } from '../users';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ProcessConfig {
  cmd: string;
  args: string[];
  envs: Record<string, string>;
  cwd?: string;
}

export interface PtySize {
  cols: number;
  rows: number;
}

export interface LaunchRequest {
  config: ProcessConfig;
  pty?: PtySize;
  /** Pipe for stdin (true) or /dev/null (false). */
  stdin: boolean;
}

export interface LaunchPlan {
  file: string;
  args: string[];
  options: SpawnOptions;
  pty: boolean;
  /** The helper relays output and closes our pipes once the command's output is complete. */
  viaHelper: boolean;
}

/** `~` and `~/x` expand to home; relative paths resolve against home. */
export function expandPath(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return isAbsolute(path) ? resolve(path) : resolve(home, path);
}

export function resolveWorkdir(requested: string | undefined, defaultWorkdir: string | undefined, home: string): string {
  const chosen = requested || defaultWorkdir || home;
  const dir = expandPath(chosen, home);
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new ConnectError('invalid_argument', `cwd '${dir}' does not exist`);
  }
  if (!isDir) throw new ConnectError('invalid_argument', `cwd '${dir}' is not a directory`);
  return dir;
}

/** Base variables, then the sandbox-wide ones from /init, then the request's; later ones win. */
export function processEnvironment(user: UserAccount, sandboxEnv: Record<string, string>, requestEnv: Record<string, string>): Record<string, string> {
  return {
    PATH: DEFAULT_PATH,
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    ...sandboxEnv,
    ...requestEnv,
  };
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Checked up front so a missing program is an `invalid_argument`, as envd reports it. */
function checkExecutable(cmd: string, env: Record<string, string>, cwd: string): void {
  if (cmd.includes('/')) {
    if (!isExecutableFile(resolve(cwd, cmd))) {
      throw new ConnectError('invalid_argument', `error starting process '${cmd}': fork/exec ${cmd}: no such file or directory`);
    }
    return;
  }
  for (const dir of (env.PATH ?? DEFAULT_PATH).split(delimiter)) {
    if (dir && isExecutableFile(join(resolve(cwd, dir), cmd))) return;
  }
  throw new ConnectError('invalid_argument', `error starting process '${cmd}': exec: "${cmd}": executable file not found in $PATH`);
}

export function planLaunch(
  request: LaunchRequest,
  user: UserAccount,
  sandboxEnv: Record<string, string>,
  defaultWorkdir: string | undefined,
  helperPath: string | undefined,
): LaunchPlan {
  const { config } = request;
  if (!config.cmd) throw new ConnectError('invalid_argument', 'process.cmd is required');
  const cwd = resolveWorkdir(config.cwd, defaultWorkdir, user.home);
  const env = processEnvironment(user, sandboxEnv, config.envs);
  checkExecutable(config.cmd, env, cwd);

  const agentUid = process.getuid?.() ?? 0;
  const agentGid = process.getgid?.() ?? 0;
  const switchUser = user.uid !== agentUid || user.gid !== agentGid;
  if (switchUser && agentUid !== 0) {
    throw new ConnectError('permission_denied', `the agent cannot run processes as '${user.name}' (it is not root)`);
  }
  // Detached: the command leads its own session and process group, so signals reach its whole tree.
  const base: SpawnOptions = { cwd, env, detached: true };

  if (!helperPath) {
    if (request.pty) throw new ConnectError('failed_precondition', 'PTY is unavailable: the agent has no PTY helper (E2B_PTYEXEC)');
    return {
      file: config.cmd,
      args: config.args,
      // libuv drops supplementary groups when it switches uid/gid; only the helper can keep them.
      options: { ...base, ...(switchUser ? { uid: user.uid, gid: user.gid } : {}), stdio: [request.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] },
      pty: false,
      viaHelper: false,
    };
  }

  // As root the helper switches identity itself, which keeps the user's supplementary groups.
  const identity = agentUid === 0
    ? ['--uid', String(user.uid), '--gid', String(user.gid), '--groups', [user.gid, ...user.groups].join(',')]
    : [];
  if (request.pty) {
    return {
      file: helperPath,
      args: [...identity, '--', String(request.pty.cols), String(request.pty.rows), config.cmd, ...config.args],
      // fd 0: terminal input, fd 1: terminal output, fd 2: the helper's own errors, fd 3: resize commands.
      options: { ...base, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] },
      pty: true,
      viaHelper: true,
    };
  }
  return {
    file: helperPath,
    args: [...identity, '--pipes', '--', config.cmd, ...config.args],
    options: { ...base, stdio: [request.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] },
    pty: false,
    viaHelper: true,
  };
}
