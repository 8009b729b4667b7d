// Turns a Start request into what to start: the user's identity, environment, working directory,
// as the launcher takes it and as Node's spawn would (with or without the e2b-ptyexec helper).
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

/** The command as the launcher takes it (see native/launcher.c). */
export interface CommandSpec {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** Switch to this identity (the agent is root); absent: run as the agent. */
  identity?: { uid: number; gid: number; groups: number[] };
  pty?: PtySize;
  stdin: boolean;
}

/** How Node's spawn would start it (without the launcher). */
export interface SpawnForm {
  file: string;
  args: string[];
  options: SpawnOptions;
  /** The helper relays output and closes our pipes once the command's output is complete. */
  viaHelper: boolean;
}

export interface LaunchPlan {
  command: CommandSpec;
  spawn: SpawnForm;
  pty: boolean;
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
export function processEnvironment(
  user: UserAccount,
  sandboxEnv: Record<string, string>,
  requestEnv: Record<string, string>,
): Record<string, string> {
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
  const identity = agentUid === 0 ? { uid: user.uid, gid: user.gid, groups: [user.gid, ...user.groups] } : undefined;
  const command: CommandSpec = { argv: [config.cmd, ...config.args], env, cwd, identity, pty: request.pty, stdin: request.stdin };
  return { command, spawn: spawnForm(command, switchUser, helperPath), pty: !!request.pty };
}

function spawnForm(command: CommandSpec, switchUser: boolean, helperPath: string | undefined): SpawnForm {
  const [file, ...args] = command.argv;
  // Detached: the command leads its own session and process group, so signals reach its whole tree.
  const base: SpawnOptions = { cwd: command.cwd, env: command.env, detached: true };
  const stdinMode = command.stdin ? 'pipe' : 'ignore';

  if (!helperPath) {
    if (command.pty) throw new ConnectError('failed_precondition', 'PTY is unavailable: the agent has no PTY helper (E2B_PTYEXEC)');
    const { identity } = command;
    return {
      file,
      args,
      // libuv drops supplementary groups when it switches uid/gid; only the helper can keep them.
      options: { ...base, ...(switchUser && identity ? { uid: identity.uid, gid: identity.gid } : {}), stdio: [stdinMode, 'pipe', 'pipe'] },
      viaHelper: false,
    };
  }

  // As root the helper switches identity itself, which keeps the user's supplementary groups.
  const identity = command.identity
    ? ['--uid', String(command.identity.uid), '--gid', String(command.identity.gid), '--groups', command.identity.groups.join(',')]
    : [];
  if (command.pty) {
    return {
      file: helperPath,
      args: [...identity, '--', String(command.pty.cols), String(command.pty.rows), ...command.argv],
      // fd 0: terminal input, fd 1: terminal output, fd 2: the helper's own errors, fd 3: resize commands.
      options: { ...base, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] },
      viaHelper: true,
    };
  }
  return {
    file: helperPath,
    args: [...identity, '--pipes', '--', ...command.argv],
    options: { ...base, stdio: [stdinMode, 'pipe', 'pipe'] },
    viaHelper: true,
  };
}
