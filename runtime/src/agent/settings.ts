// Sandbox-wide settings the host delivers through POST /init: env vars for every process, the
// access token, the default user and working directory. /init may come again (e.g. on resume).
// Kept in a root-only file on the sandbox's /run tmpfs too, so that an agent restarted by init
// (after it was killed, or woken after it slept when idle) serves with the same token at once,
// never open for a moment.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConnectError } from './connect/errors';
import { JsonObject, isObject } from './connect/proto-json';
import { UserAccount, UserDatabase } from './users';

export class AgentSettings {
  envVars: Record<string, string> = {};
  accessToken: string | undefined;
  defaultUser: string | undefined;
  defaultWorkdir: string | undefined;
  /** True when the settings came from the state file: an agent that init started again. */
  readonly restored: boolean;
  /** Exit after this long with nothing to do (idle-exit.ts); undefined: never. Only the host sets it. */
  idleExitMs: number | undefined;
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly users: UserDatabase,
    private readonly stateFile?: string,
  ) {
    this.restored = stateFile !== undefined && this.load(stateFile);
  }

  private load(file: string): boolean {
    let saved: Partial<Pick<AgentSettings, 'envVars' | 'accessToken' | 'defaultUser' | 'defaultWorkdir' | 'idleExitMs'>>;
    try {
      saved = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      return false; // first start
    }
    this.envVars = saved.envVars ?? {};
    this.accessToken = saved.accessToken;
    this.defaultUser = saved.defaultUser;
    this.defaultWorkdir = saved.defaultWorkdir;
    this.idleExitMs = saved.idleExitMs;
    return true;
  }

  /** Calls `listener` after every /init. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private save(file: string): void {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const state = {
      envVars: this.envVars,
      accessToken: this.accessToken,
      defaultUser: this.defaultUser,
      defaultWorkdir: this.defaultWorkdir,
      idleExitMs: this.idleExitMs,
    };
    writeFileSync(`${file}.tmp`, JSON.stringify(state), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }

  /** Applies an /init body; each field given replaces the stored one. Throws on a malformed body. */
  applyInit(body: JsonObject): void {
    const next = {
      envVars: this.envVars,
      accessToken: this.accessToken,
      defaultUser: this.defaultUser,
      defaultWorkdir: this.defaultWorkdir,
      idleExitMs: this.idleExitMs,
    };
    if ('envVars' in body && body.envVars !== undefined) {
      if (body.envVars === null) next.envVars = {};
      else if (isObject(body.envVars) && Object.values(body.envVars).every((v) => typeof v === 'string')) {
        next.envVars = { ...(body.envVars as Record<string, string>) };
      } else throw new Error('envVars must be an object of strings');
    }
    // An empty or null token switches authentication off again.
    if ('accessToken' in body && body.accessToken !== undefined) next.accessToken = stringOrUnset(body.accessToken, 'accessToken');
    if ('defaultUser' in body && body.defaultUser !== undefined) next.defaultUser = stringOrUnset(body.defaultUser, 'defaultUser');
    if ('defaultWorkdir' in body && body.defaultWorkdir !== undefined)
      next.defaultWorkdir = stringOrUnset(body.defaultWorkdir, 'defaultWorkdir');
    // 0 or null: never exit when idle (a pool sandbox's boot, a template build).
    if ('idleExitMs' in body && body.idleExitMs !== undefined) next.idleExitMs = millisecondsOrUnset(body.idleExitMs, 'idleExitMs');
    Object.assign(this, next);
    if (this.stateFile) this.save(this.stateFile);
    for (const listener of this.listeners) listener();
  }

  /** The account a request runs as: the named one, else the default user. */
  resolveUser(requested: string | undefined): UserAccount {
    const name = requested ?? this.defaultUserName();
    const account = this.users.lookup(name);
    if (!account) throw new ConnectError('unauthenticated', `invalid username: '${name}'`);
    return account;
  }

  /** The configured default user, else "user" when the image has one, else root. */
  defaultUserName(): string {
    if (this.defaultUser) return this.defaultUser;
    return this.users.exists('user') ? 'user' : 'root';
  }
}

function stringOrUnset(value: unknown, name: string): string | undefined {
  if (value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`${name} must be a string`);
  return value;
}

function millisecondsOrUnset(value: unknown, name: string): number | undefined {
  if (value === null || value === 0) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number of milliseconds`);
  return value;
}
