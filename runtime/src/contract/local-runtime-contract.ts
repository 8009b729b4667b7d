// The contract between the local runtime and the programs that find or start it (the VS Code
// extension, scripts, tests): where its data dir is, the files it leaves there (`env`, a shell file
// with its URL and API key; `runtime.json`, how it was started; `runtime.pid`), the command line
// that starts it, and the API key format. Both sides import this one module, so a change to any
// of these is one change. Node built-ins only: the extension bundles it.
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote } from '../shell-quote';

/** Where a runtime keeps its state unless told otherwise (also e2b.local.dataDir's default). */
export const DEFAULT_DATA_DIR = '/var/lib/e2b-local';
export const DEFAULT_LISTEN: ListenAddress = { host: '127.0.0.1', port: 49982 };

/** The files of the contract, by their place in a data dir. */
export function runtimeFiles(dataDir: string): { env: string; launch: string; pid: string; log: string } {
  return {
    /** Written by the runtime once it serves: `source` it in a shell, or read it with readEnvFile. */
    env: join(dataDir, 'env'),
    /** Written by the runtime: how it was started, so a later start can do the same. */
    launch: join(dataDir, 'runtime.json'),
    pid: join(dataDir, 'runtime.pid'),
    /** Where a runtime the extension starts writes its output. */
    log: join(dataDir, 'runtime.log'),
  };
}

/** A contract file that exists but cannot be used; the message names the file and what is wrong. */
export class ContractFileError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'ContractFileError';
  }
}

/** The file's text, or undefined when there is no such file. */
function readIfPresent(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // EACCES, for one: the runtime runs as root and keeps the env file to itself.
    throw new ContractFileError(file, `cannot be read (${code ?? (err as Error).message})`);
  }
}

/** Replaces `file` whole, so that a reader never sees half of it. */
function writeWhole(file: string, text: string, mode: number): void {
  const partial = `${file}.partial-${process.pid}`;
  rmSync(partial, { force: true });
  writeFileSync(partial, text, { mode });
  renameSync(partial, file);
}

// ---- API keys ----

/** E2B's format: `e2b_` and 20 random bytes in lowercase hex (e2b-dev/infra keys.GenerateKey). */
export const API_KEY_FORMAT = /^e2b_[0-9a-f]{40}$/;

export function newApiKey(): string {
  return `e2b_${randomBytes(20).toString('hex')}`;
}

export function isApiKey(value: string): boolean {
  return API_KEY_FORMAT.test(value);
}

// ---- the env file ----

export interface RuntimeEndpoint {
  apiUrl: string;
  sandboxUrl: string;
  volumeApiUrl: string;
  apiKey: string;
}
/** The local CA (https on the sandbox domain) and a bundle of it with the system's CAs. */
export interface TrustFiles {
  caCertFile: string;
  caBundleFile: string;
}

/** Characters a shell takes literally in a word; any other value is single-quoted. */
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function shellQuoteValue(value: string): string {
  return SHELL_SAFE.test(value) ? value : shellQuote(value);
}

/** The env file's text: `export` lines a shell can source, which parseEnvFile reads back. */
export function formatEnvFile(endpoint: RuntimeEndpoint, trust?: TrustFiles): string {
  const exports: [string, string][] = [
    ['E2B_API_URL', endpoint.apiUrl],
    ['E2B_SANDBOX_URL', endpoint.sandboxUrl],
    // The SDK's volume content API.
    ['E2B_VOLUME_API_URL', endpoint.volumeApiUrl],
    ['E2B_API_KEY', endpoint.apiKey],
  ];
  const line = ([name, value]: [string, string]) => `export ${name}=${shellQuoteValue(value)}\n`;
  let text = exports.map(line).join('');
  if (trust) {
    text += "# https://<port>-<id>.<domain> (getHost, getMcpUrl) is signed by the runtime's local CA:\n";
    text += (
      [
        ['NODE_EXTRA_CA_CERTS', trust.caCertFile],
        ['SSL_CERT_FILE', trust.caBundleFile],
        ['REQUESTS_CA_BUNDLE', trust.caBundleFile],
        ['CURL_CA_BUNDLE', trust.caBundleFile],
      ] as [string, string][]
    )
      .map(line)
      .join('');
  }
  return text;
}

/** Writes the env file (only its owner may read it: it holds the API key). */
export function writeEnvFile(dataDir: string, endpoint: RuntimeEndpoint, trust?: TrustFiles): void {
  writeWhole(runtimeFiles(dataDir).env, formatEnvFile(endpoint, trust), 0o600);
}

/**
 * The variables of `[export] NAME=value` lines, values unquoted as a shell would ('…', "…", \x).
 * Blank and comment lines are skipped; anything else throws a ContractFileError.
 */
export function parseEnvFile(text: string, file = 'env file'): Record<string, string> {
  const vars: Record<string, string> = {};
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (/^\s*(#.*)?$/.test(line)) return;
    const fail = (problem: string): never => {
      throw new ContractFileError(file, `line ${index + 1}: ${problem}`);
    };
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) fail('expected `export NAME=value`');
    vars[match![1]] = shellWord(match![2], fail);
  });
  return vars;
}

/** One shell word without expansions, then nothing but spaces or a comment. */
function shellWord(text: string, fail: (problem: string) => never): string {
  let value = '';
  let i = 0;
  while (i < text.length && !/\s/.test(text[i])) {
    const c = text[i];
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) fail("a quote (') is not closed");
      value += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && '$`"\\'.includes(text[i + 1] ?? '')) i++;
        else if (text[i] === '$' || text[i] === '`') fail('expansions ($, `) are not supported');
        value += text[i++];
      }
      if (i >= text.length) fail('a quote (") is not closed');
      i++;
    } else if (c === '\\') {
      if (i + 1 >= text.length) fail('a backslash ends the line');
      value += text[i + 1];
      i += 2;
    } else if (c === '$' || c === '`' || c === ';' || c === '&' || c === '|' || c === '<' || c === '>' || c === '(' || c === ')') {
      fail(`"${c}" must be quoted`);
    } else {
      value += c;
      i++;
    }
  }
  if (!/^\s*(#.*)?$/.test(text.slice(i))) fail('a value with spaces must be quoted');
  return value;
}

/** The endpoint an env file announces. Runtimes older than volumes wrote no E2B_VOLUME_API_URL (the content API shares the port anyway). */
export function endpointFromEnv(vars: Record<string, string>, file = 'env file'): RuntimeEndpoint {
  for (const name of ['E2B_API_URL', 'E2B_API_KEY']) {
    if (!vars[name]) throw new ContractFileError(file, `no ${name}`);
  }
  const endpoint = {
    apiUrl: vars.E2B_API_URL,
    sandboxUrl: vars.E2B_SANDBOX_URL || vars.E2B_API_URL,
    volumeApiUrl: vars.E2B_VOLUME_API_URL || vars.E2B_API_URL,
    apiKey: vars.E2B_API_KEY,
  };
  for (const [name, url] of [
    ['E2B_API_URL', endpoint.apiUrl],
    ['E2B_SANDBOX_URL', endpoint.sandboxUrl],
    ['E2B_VOLUME_API_URL', endpoint.volumeApiUrl],
  ]) {
    if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url)) throw new ContractFileError(file, `${name} is not an http(s) URL: ${url}`);
  }
  return endpoint;
}

/** The endpoint of the runtime that serves `dataDir`; undefined when it has written no env file. */
export function readEnvFile(dataDir: string): RuntimeEndpoint | undefined {
  const file = runtimeFiles(dataDir).env;
  const text = readIfPresent(file);
  return text === undefined ? undefined : endpointFromEnv(parseEnvFile(text, file), file);
}

// ---- the command line ----

export type RuntimeCommand = 'up' | 'build';
export interface ListenAddress {
  host: string;
  port: number;
}

/** A runtime command line; options left out take the CLI's defaults. */
export interface RuntimeCommandLine {
  command: RuntimeCommand;
  listen?: ListenAddress;
  dataDir?: string;
  imagesDir?: string;
  domain?: string;
  /** Images to build if missing (--image, repeated). */
  images?: string[];
  /** --warm-pool values, each `T=N,...`. */
  warmPool?: string[];
  noNewPrivileges?: boolean;
  offlineFallback?: boolean;
  diskSizeMB?: number;
  volumeSizeMB?: number;
  uplink?: string;
  /** --agent-idle-exit: seconds (fractions allowed) before an idle sandbox's agent exits; 0 = never. */
  agentIdleExitSeconds?: number;
}

/** A command line that parseRuntimeArguments cannot read; `showUsage` for options it does not know. */
export class RuntimeArgumentError extends Error {
  constructor(
    message: string,
    readonly showUsage = false,
  ) {
    super(message);
    this.name = 'RuntimeArgumentError';
  }
}

/** `address[:port]`, `[v6]:port`, `:port`; the defaults fill what is left out. */
export function parseListen(value: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]+))?(?::(\d+))?$/.exec(value);
  if (!match) throw new RuntimeArgumentError(`--listen: cannot parse "${value}"`);
  return { host: match[1] ?? match[2] ?? DEFAULT_LISTEN.host, port: match[3] ? Number(match[3]) : DEFAULT_LISTEN.port };
}

/** The --listen value parseListen reads back (an IPv6 host in brackets). */
export function formatListen({ host, port }: ListenAddress): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The arguments after the CLI script (`cli.js`) for `line`. */
export function runtimeArguments(line: RuntimeCommandLine): string[] {
  const args: string[] = [line.command];
  const option = (name: string, value: string | number | undefined) => {
    if (value !== undefined) args.push(name, String(value));
  };
  option('--listen', line.listen && formatListen(line.listen));
  option('--data-dir', line.dataDir);
  option('--images-dir', line.imagesDir);
  option('--domain', line.domain);
  for (const image of line.images ?? []) option('--image', image);
  for (const sizes of line.warmPool ?? []) option('--warm-pool', sizes);
  if (line.noNewPrivileges) args.push('--no-new-privileges');
  if (line.offlineFallback) args.push('--offline-fallback');
  option('--disk-size-mb', line.diskSizeMB);
  option('--volume-size-mb', line.volumeSizeMB);
  option('--uplink', line.uplink);
  option('--agent-idle-exit', line.agentIdleExitSeconds);
  return args;
}

/** Reads what runtimeArguments writes; throws a RuntimeArgumentError that says what is wrong. */
export function parseRuntimeArguments(argv: readonly string[]): RuntimeCommandLine {
  const [command, ...rest] = argv;
  if (command !== 'up' && command !== 'build') throw new RuntimeArgumentError(`unknown command ${command ?? '(none)'}`, true);
  const line: RuntimeCommandLine = { command };
  for (let i = 0; i < rest.length; i++) {
    const value = () => {
      const v = rest[++i];
      if (v === undefined) throw new RuntimeArgumentError(`${rest[i - 1]} needs a value`);
      return v;
    };
    const megabytes = (name: string) => {
      const mb = Number(value());
      if (!Number.isInteger(mb) || mb < 16) throw new RuntimeArgumentError(`${name} takes a whole number of MB, at least 16`);
      return mb;
    };
    switch (rest[i]) {
      case '--listen':
        line.listen = parseListen(value());
        break;
      case '--data-dir':
        line.dataDir = value();
        break;
      case '--images-dir':
        line.imagesDir = value();
        break;
      case '--domain':
        line.domain = value();
        break;
      case '--image':
        (line.images ??= []).push(value());
        break;
      case '--warm-pool':
        (line.warmPool ??= []).push(value());
        break;
      case '--no-new-privileges':
        line.noNewPrivileges = true;
        break;
      case '--offline-fallback':
        line.offlineFallback = true;
        break;
      case '--disk-size-mb':
        line.diskSizeMB = megabytes('--disk-size-mb');
        break;
      case '--volume-size-mb':
        line.volumeSizeMB = megabytes('--volume-size-mb');
        break;
      case '--uplink':
        line.uplink = value();
        break;
      case '--agent-idle-exit': {
        const seconds = Number(value());
        if (!Number.isFinite(seconds) || seconds < 0)
          throw new RuntimeArgumentError('--agent-idle-exit takes a number of seconds, 0 or more');
        line.agentIdleExitSeconds = seconds;
        break;
      }
      default:
        throw new RuntimeArgumentError(`unknown option ${rest[i]}`, true);
    }
  }
  return line;
}

// ---- runtime.json ----

/** How a runtime was started: a later start with the same record serves the same address, images and domain. */
export interface LaunchRecord {
  listen?: string;
  imagesDir?: string;
  domain?: string;
}

export function formatLaunchFile(record: LaunchRecord): string {
  return JSON.stringify(record, null, 2);
}

export function writeLaunchFile(dataDir: string, record: LaunchRecord): void {
  writeWhole(runtimeFiles(dataDir).launch, formatLaunchFile(record), 0o644);
}

/** Reads what formatLaunchFile writes; keys it does not know are left out (a newer runtime's). */
export function parseLaunchFile(text: string, file = 'runtime.json'): LaunchRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ContractFileError(file, `not JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ContractFileError(file, 'not a JSON object');
  const fields = parsed as Record<string, unknown>;
  const record: LaunchRecord = {};
  for (const key of ['listen', 'imagesDir', 'domain'] as const) {
    const value = fields[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || value === '')
      throw new ContractFileError(file, `"${key}" must be a non-empty string, not ${JSON.stringify(value)}`);
    record[key] = value;
  }
  if (record.listen !== undefined) {
    try {
      parseListen(record.listen);
    } catch (err) {
      throw new ContractFileError(file, `"listen": ${(err as Error).message}`);
    }
  }
  return record;
}

/** The launch record of `dataDir`; undefined when no runtime has written one. */
export function readLaunchFile(dataDir: string): LaunchRecord | undefined {
  const file = runtimeFiles(dataDir).launch;
  const text = readIfPresent(file);
  return text === undefined ? undefined : parseLaunchFile(text, file);
}

/** The command line options that start a runtime the way `record` says the last one was. */
export function launchOptions(record: LaunchRecord): Pick<RuntimeCommandLine, 'listen' | 'imagesDir' | 'domain'> {
  return {
    ...(record.listen ? { listen: parseListen(record.listen) } : {}),
    ...(record.imagesDir ? { imagesDir: record.imagesDir } : {}),
    ...(record.domain ? { domain: record.domain } : {}),
  };
}
