// The MCP servers the gateway knows by name, and how `mcp-gateway --config` entries become
// commands: catalog names (bundled into the image) and `github/<owner>/<repo>` entries that
// bring their own install and run commands.
import { join } from 'node:path';

/** A stdio MCP server the gateway starts: `command` runs with `sh -c` unless `argv` is given. */
export interface ServerSpec {
  /** The config key (e.g. `filesystem`, `github/owner/repo`). */
  name: string;
  /** Prefix of its tools in the gateway: `<prefix>_<tool>`. */
  prefix: string;
  argv?: string[];
  command?: string;
  installCommand?: string;
  env: Record<string, string>;
  cwd?: string;
}

/** Where the gateway keeps its token, config, pid, log and the memory server's graph. */
// (The MCP_GATEWAY_* variables exist for trying the gateway outside a sandbox.)
export const STATE_DIR = process.env.MCP_GATEWAY_STATE_DIR ?? '/etc/mcp-gateway';
export const TOKEN_FILE = join(STATE_DIR, '.token');
export const DATA_DIR = process.env.MCP_GATEWAY_DATA_DIR ?? '/var/lib/mcp-gateway';
export const LOG_FILE = process.env.MCP_GATEWAY_LOG ?? '/var/log/mcp-gateway.log';
export const PORT = Number(process.env.MCP_GATEWAY_PORT ?? 50005);

/** The bundled servers (dist/mcp-servers/<name>.mjs next to this script). */
export const CATALOG = ['filesystem', 'memory'] as const;

export class ConfigError extends Error {}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Tool-name-safe prefix of a server name: `github/a/b` → `github_a_b`. */
export function serverPrefix(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

function stringMap(value: unknown, what: string): Record<string, string> {
  if (value === undefined) return {};
  if (!isObject(value)) throw new ConfigError(`${what} must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new ConfigError(`${what}.${k} must be a string`);
    out[k] = v;
  }
  return out;
}

/** Parses and validates the `--config` JSON; throws ConfigError with a message for the user. */
export function parseConfig(json: string, serversDir: string, nodeBinary: string): ServerSpec[] {
  let config: unknown;
  try {
    config = JSON.parse(json);
  } catch (err) {
    throw new ConfigError(`--config is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(config)) throw new ConfigError('--config must be a JSON object of server name → server config');
  const specs: ServerSpec[] = [];
  const unknown: string[] = [];
  for (const [name, raw] of Object.entries(config)) {
    const entry = raw ?? {};
    if (!isObject(entry)) throw new ConfigError(`the config of server "${name}" must be an object`);
    const prefix = serverPrefix(name);
    if (specs.some((s) => s.prefix === prefix))
      throw new ConfigError(
        `servers "${name}" and "${specs.find((s) => s.prefix === prefix)!.name}" have the same tool prefix "${prefix}"`,
      );
    if (name.startsWith('github/')) {
      if (!/^github\/[^/]+\/[^/]+$/.test(name)) throw new ConfigError(`"${name}": GitHub servers are named github/<owner>/<repo>`);
      if (typeof entry.runCmd !== 'string' || !entry.runCmd.trim()) throw new ConfigError(`"${name}": runCmd (a string) is required`);
      if (entry.installCmd !== undefined && typeof entry.installCmd !== 'string')
        throw new ConfigError(`"${name}": installCmd must be a string`);
      specs.push({
        name,
        prefix,
        command: entry.runCmd,
        installCommand: entry.installCmd as string | undefined,
        env: stringMap(entry.envs, `"${name}".envs`),
        cwd: join(DATA_DIR, 'servers', prefix),
      });
      continue;
    }
    switch (name) {
      case 'filesystem': {
        const paths = entry.paths ?? ['/home/user'];
        if (!Array.isArray(paths) || paths.some((p) => typeof p !== 'string'))
          throw new ConfigError('"filesystem": paths must be an array of directory paths');
        specs.push({
          name,
          prefix,
          argv: [nodeBinary, join(serversDir, 'filesystem.mjs'), ...(paths.length ? paths : ['/home/user'])],
          env: {},
        });
        break;
      }
      case 'memory': {
        const file = entry.memoryFilePath ?? join(DATA_DIR, 'memory.jsonl');
        if (typeof file !== 'string') throw new ConfigError('"memory": memoryFilePath must be a string');
        specs.push({ name, prefix, argv: [nodeBinary, join(serversDir, 'memory.mjs')], env: { MEMORY_FILE_PATH: file } });
        break;
      }
      default:
        unknown.push(name);
    }
  }
  if (unknown.length) {
    throw new ConfigError(
      `unknown MCP server${unknown.length > 1 ? 's' : ''}: ${unknown.map((n) => `"${n}"`).join(', ')}; ` +
        `supported: ${CATALOG.join(', ')}, or "github/<owner>/<repo>": {"runCmd": ..., "installCmd"?: ..., "envs"?: {...}}`,
    );
  }
  if (!specs.length) throw new ConfigError('--config names no MCP servers');
  return specs;
}
