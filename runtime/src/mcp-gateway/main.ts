// `mcp-gateway`: what E2B's SDK runs in `mcp-gateway` sandboxes after `Sandbox.create({mcp})`:
//   GATEWAY_ACCESS_TOKEN=<token> mcp-gateway --config '<json>'
// It writes the token to /etc/mcp-gateway/.token (0600), starts a detached daemon (log in
// /var/log/mcp-gateway.log) that starts every configured stdio MCP server and serves their tools
// over MCP Streamable HTTP on port 50005, and exits 0 once the daemon serves (non-zero with the
// reason on stderr otherwise: the SDK then kills the sandbox). `mcp-gateway pull <names>` (the
// template builder's addMcpServer) only checks the names: the catalog servers are preinstalled.
import { fork } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gateway } from './http';
import { CATALOG, ConfigError, DATA_DIR, LOG_FILE, parseConfig, PORT, STATE_DIR, TOKEN_FILE } from './servers';
import { StdioServer } from './stdio-client';
import { sleep } from '../sleep';

const CONFIG_FILE = join(STATE_DIR, 'config.json');
const PID_FILE = join(STATE_DIR, 'gateway.pid');
const SERVERS_DIR = process.env.MCP_GATEWAY_SERVERS_DIR ?? join(__dirname, 'mcp-servers');
const START_TIMEOUT_MS = Number(process.env.MCP_GATEWAY_START_TIMEOUT_MS ?? 120_000);

const USAGE = `usage: GATEWAY_ACCESS_TOKEN=<token> mcp-gateway --config '<json>'
       mcp-gateway pull <server>...
servers: ${CATALOG.join(', ')}, or "github/<owner>/<repo>": {"runCmd": ..., "installCmd"?: ..., "envs"?: {...}}
tools are exposed on http://localhost:${PORT}/mcp as <server>_<tool> (other characters than [A-Za-z0-9_-] in <server> become _)`;

function die(message: string, code = 1): never {
  process.stderr.write(`mcp-gateway: ${message}\n`);
  process.exit(code);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a gateway started earlier in this sandbox, so that the new one can take the port. */
async function stopPrevious(): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(PID_FILE, 'utf8').trim());
  } catch {
    return;
  }
  if (!pid || !alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

async function launch(configJson: string): Promise<void> {
  const token = process.env.GATEWAY_ACCESS_TOKEN;
  if (!token) die('GATEWAY_ACCESS_TOKEN is not set: it is the token clients must send as Authorization: Bearer <token>');
  try {
    parseConfig(configJson, SERVERS_DIR, process.execPath);
  } catch (err) {
    if (err instanceof ConfigError) die(err.message);
    throw err;
  }
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
  await stopPrevious();
  writeFileSync(TOKEN_FILE, token, { mode: 0o600 });
  chmodSync(TOKEN_FILE, 0o600);
  writeFileSync(CONFIG_FILE, configJson, { mode: 0o600 });
  const log = openSync(LOG_FILE, 'a', 0o600);
  const child = fork(__filename, ['--serve'], {
    detached: true,
    stdio: ['ignore', log, log, 'ipc'],
    env: { ...process.env, GATEWAY_ACCESS_TOKEN: '' },
  });
  const outcome = await new Promise<{ ok: boolean; error?: string }>((resolve) => {
    const timer = setTimeout(
      () => resolve({ ok: false, error: `the gateway did not start within ${START_TIMEOUT_MS / 1000} s (log: ${LOG_FILE})` }),
      START_TIMEOUT_MS,
    );
    child.on('message', (msg: { ok: boolean; error?: string }) => {
      clearTimeout(timer);
      resolve(msg);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ ok: false, error: `the gateway exited (${signal ?? `code ${code}`}) while starting; see ${LOG_FILE}` });
    });
  });
  if (!outcome.ok) {
    child.kill('SIGKILL');
    die(outcome.error ?? 'the gateway failed to start');
  }
  child.disconnect();
  child.unref();
  process.stdout.write(`mcp-gateway: serving on http://localhost:${PORT}/mcp (pid ${child.pid}, log ${LOG_FILE})\n`);
  process.exit(0);
}

/** The daemon: starts the servers, then serves; tells its launcher over IPC. */
async function serve(): Promise<void> {
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const report = (msg: { ok: boolean; error?: string }) => {
    if (process.send && process.connected) process.send(msg);
  };
  const token = readFileSync(TOKEN_FILE, 'utf8').trim();
  const specs = parseConfig(readFileSync(CONFIG_FILE, 'utf8'), SERVERS_DIR, process.execPath);
  mkdirSync(DATA_DIR, { recursive: true });
  const servers = specs.map((spec) => new StdioServer(spec, log));
  const stopAll = () => {
    for (const s of servers) s.stop();
  };
  try {
    await Promise.all(
      servers.map(async (server) => {
        if (server.spec.cwd) mkdirSync(server.spec.cwd, { recursive: true });
        try {
          await server.start();
        } catch (err) {
          throw new Error(`MCP server "${server.spec.name}" failed to start: ${(err as Error).message}`, { cause: err });
        }
        log(`server ${server.spec.name}: ${server.tools.length} tools (${server.tools.map((t) => t.name).join(', ')})`);
      }),
    );
    const gateway = new Gateway(token, servers, log);
    await gateway.listen(PORT);
  } catch (err) {
    const message = (err as Error).message;
    log(`start failed: ${message}`);
    stopAll();
    report({ ok: false, error: message });
    process.exit(1);
  }
  writeFileSync(PID_FILE, String(process.pid));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      log(`${signal}: stopping`);
      stopAll();
      rmSync(PID_FILE, { force: true });
      process.exit(0);
    });
  }
  log(`serving ${specs.map((s) => s.name).join(', ')} on port ${PORT}`);
  report({ ok: true });
  if (process.connected) process.disconnect();
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--serve') return serve();
  if (argv[0] === 'pull') {
    const unknown = argv.slice(1).filter((n) => !(CATALOG as readonly string[]).includes(n));
    if (unknown.length) die(`unknown MCP server(s): ${unknown.join(', ')}; supported: ${CATALOG.join(', ')}`);
    process.stdout.write(`mcp-gateway: ${argv.slice(1).join(', ') || 'nothing'} preinstalled\n`);
    return;
  }
  if (argv[0] === '-h' || argv[0] === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let config: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--config') config = argv[++i];
    else if (argv[i].startsWith('--config=')) config = argv[i].slice('--config='.length);
    else die(`unexpected argument ${JSON.stringify(argv[i])}\n${USAGE}`, 2);
  }
  if (config === undefined) die(`--config is required\n${USAGE}`, 2);
  await launch(config);
}

main(process.argv.slice(2)).catch((err) => {
  try {
    appendFileSync(LOG_FILE, `${new Date().toISOString()} fatal: ${(err as Error).stack}\n`);
  } catch {
    /* no log */
  }
  die((err as Error).message);
});
