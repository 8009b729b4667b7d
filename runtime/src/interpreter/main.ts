// The code interpreter that runs inside code-interpreter sandboxes on port 49999, speaking what
// E2B's code-interpreter clients expect (protocol §3): POST /execute streaming NDJSON, /contexts,
// GET /health. Kernels are real Jupyter kernels (ipykernel, Deno, our bash kernel, IRkernel) that
// this process starts and talks to over ZeroMQ directly. It listens once the default Python
// context answers, with the default JavaScript one on its way.
//
// Run: /opt/e2b/node /opt/e2b/interpreter.js [--port 49999] [--host 0.0.0.0]
import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, IncomingMessage, request as httpRequest, RequestListener, Server, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { portSocketName, SOCKET_DIR_IN_SANDBOX } from '../envd/port-sockets';
import { readBody } from '../http-body';
import { CodeContext, ContextInfo } from './context';
import { DEFAULT_CWD, languageSupport, normalizeLanguage } from './languages';
import { stringifyKeepingFloats } from './json-floats';
import { NdjsonStream } from './ndjson-stream';
import { OutputLine } from './output';

const ENVD_URL = { host: '127.0.0.1', port: 49983 };
const KEEPALIVE_MS = 5000;
const MAX_BODY = 64 * 1024 * 1024;

function log(line: string): void {
  process.stderr.write(`[${new Date().toISOString()}] ${line}\n`);
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The sandbox-wide env vars, from envd's GET /envs (what upstream does on a first execution). */
function sandboxEnvs(accessToken: string | undefined): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { ...ENVD_URL, path: '/envs', method: 'GET', headers: accessToken ? { 'X-Access-Token': accessToken } : {}, timeout: 5000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`envd /envs answered ${res.statusCode}`));
          try {
            const parsed = JSON.parse(body) as Record<string, unknown>;
            resolve(Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'string')) as Record<string, string>);
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('envd /envs timed out')));
    req.on('error', reject);
    req.end();
  });
}

class Interpreter {
  /** Insertion order is creation order, as GET /contexts lists them. */
  private readonly contexts = new Map<string, CodeContext>();
  /** The default context of each language (created at start for python and javascript, else lazily). */
  private readonly defaults = new Map<string, Promise<CodeContext>>();

  async createContext(language: string, cwd: string): Promise<CodeContext> {
    const support = languageSupport(language);
    if (typeof support === 'string') throw new HttpError(500, support);
    const context = new CodeContext(language, cwd, support, sandboxEnvs, log);
    this.contexts.set(context.id, context);
    try {
      await context.start();
    } catch (err) {
      this.contexts.delete(context.id);
      await context.remove().catch(() => undefined);
      throw new HttpError(500, `Failed to create context: ${(err as Error).message}`);
    }
    log(`context ${context.id} (${language}, ${cwd}) ready`);
    return context;
  }

  /** The per-language default context, created once (concurrent callers share the creation). */
  defaultContext(language: string): Promise<CodeContext> {
    let context = this.defaults.get(language);
    if (!context) {
      context = this.createContext(language, DEFAULT_CWD);
      this.defaults.set(language, context);
      // A failed creation is retried by the next request.
      context.catch(() => {
        if (this.defaults.get(language) === context) this.defaults.delete(language);
      });
    }
    return context;
  }

  get(id: string): CodeContext | undefined {
    return this.contexts.get(id);
  }
  list(): ContextInfo[] {
    return [...this.contexts.values()].map((c) => c.info);
  }

  async remove(id: string): Promise<boolean> {
    const context = this.contexts.get(id);
    if (!context) return false;
    this.contexts.delete(id);
    for (const [language, promise] of this.defaults) {
      if ((await promise.catch(() => undefined)) === context) this.defaults.delete(language);
    }
    await context.remove();
    return true;
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.contexts.values()].map((c) => c.remove().catch(() => undefined)));
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = (await readBody(req, MAX_BODY, () => new HttpError(413, 'request body too large'))).toString('utf8').trim();
  if (!text) return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(422, 'the body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(422, 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new HttpError(422, `${field} must be a string`);
  return value;
}

function stringMap(body: Record<string, unknown>, field: string): Record<string, string> | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new HttpError(422, `${field} must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new HttpError(422, `${field}.${k} must be a string`);
    out[k] = v;
  }
  return out;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function execute(interpreter: Interpreter, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJson(req);
  if (typeof body.code !== 'string') throw new HttpError(422, 'code must be a string');
  const contextId = optionalString(body, 'context_id');
  const language = optionalString(body, 'language');
  const envVars = stringMap(body, 'env_vars');
  if (contextId && language) throw new HttpError(400, 'Only one of context_id or language can be provided');

  let context: CodeContext | undefined;
  if (language) context = await interpreter.defaultContext(normalizeLanguage(language));
  else if (contextId) context = interpreter.get(contextId);
  else context = await interpreter.defaultContext('python');
  if (!context) throw new HttpError(404, `Context ${contextId} not found`);

  const client = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) client.abort();
  });
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  const stream = new NdjsonStream(res);
  client.signal.addEventListener('abort', () => stream.cancel(), { once: true });
  let keepalive: NodeJS.Timeout | undefined;
  const write = (line: OutputLine) => {
    if (client.signal.aborted || res.writableEnded) return;
    stream.write(stringifyKeepingFloats(line));
    clearTimeout(keepalive);
    keepalive = setTimeout(() => write({ type: 'keepalive' }), KEEPALIVE_MS);
  };
  keepalive = setTimeout(() => write({ type: 'keepalive' }), KEEPALIVE_MS);
  const accessToken = req.headers['x-access-token'];
  try {
    await context.execute({
      code: body.code,
      envVars,
      accessToken: typeof accessToken === 'string' ? accessToken : undefined,
      write,
      signal: client.signal,
    });
  } catch (err) {
    log(`execute failed: ${String(err)}`);
    write({
      type: 'error',
      name: 'UnexpectedEndOfExecution',
      value: 'Connection to the execution was closed before the execution was finished',
      traceback: '',
    });
  } finally {
    clearTimeout(keepalive);
    if (!res.writableEnded && !client.signal.aborted) stream.end(JSON.stringify({ type: 'end_of_execution' }));
  }
}

async function route(interpreter: Interpreter, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  if (method === 'OPTIONS') {
    res.writeHead(204);
    res.end();
    return;
  }
  if (path === '/health' && method === 'GET') return sendJson(res, 200, 'OK');
  if (path === '/execute' && method === 'POST') return execute(interpreter, req, res);
  if (path === '/contexts' && method === 'POST') {
    const body = await readJson(req);
    const language = normalizeLanguage(optionalString(body, 'language'));
    const cwd = optionalString(body, 'cwd') || DEFAULT_CWD;
    const context = await interpreter.createContext(language, cwd);
    return sendJson(res, 200, context.info);
  }
  if (path === '/contexts' && method === 'GET') return sendJson(res, 200, interpreter.list());
  const match = /^\/contexts\/([^/]+)(\/restart)?$/.exec(path);
  if (match) {
    let id: string;
    try {
      id = decodeURIComponent(match[1]);
    } catch {
      throw new HttpError(400, `invalid percent-encoding in the context id: "${match[1]}"`);
    }
    if (match[2] && method === 'POST') {
      const context = interpreter.get(id);
      if (!context) throw new HttpError(404, `Context ${id} not found`);
      try {
        await context.restart();
      } catch (err) {
        throw new HttpError(500, `Failed to restart context ${id}: ${(err as Error).message}`);
      }
      return sendJson(res, 200, null);
    }
    if (!match[2] && method === 'DELETE') {
      if (!(await interpreter.remove(id))) throw new HttpError(404, `Context ${id} not found`);
      return sendJson(res, 200, null);
    }
  }
  throw new HttpError(404, 'Not Found');
}

/** An HTTP server for `handle` on a TCP port or on a unix socket (a stale socket there is replaced). */
async function listen(handle: RequestListener, where: { port: number; host: string } | { path: string }): Promise<Server> {
  if ('path' in where) removeStaleSocket(where.path);
  const server = createServer(handle);
  server.requestTimeout = 0;
  server.keepAliveTimeout = 640_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, () => resolve());
  });
  if ('path' in where) chmodSync(where.path, 0o600);
  return server;
}

/** A socket left by a previous run (that did not close its server) would make listen fail. */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Nothing there.
  }
}

async function main(argv: string[]): Promise<void> {
  let port = 49999;
  let host = '0.0.0.0';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--port') port = Number(argv[++i]);
    else if (argv[i] === '--host') host = argv[++i];
  }
  const interpreter = new Interpreter();
  const started = Date.now();
  // Both default contexts start together; we listen once Python answers.
  const python = interpreter.defaultContext('python');
  interpreter
    .defaultContext('javascript')
    .then((context) => context.warmUp())
    .then(
      () => log(`default javascript context ready after ${Date.now() - started} ms`),
      (err) => log(`default javascript context failed: ${String(err)}`),
    );
  await (await python).warmUp();
  log(`default python context ready after ${Date.now() - started} ms`);

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-allow-methods', '*');
    res.setHeader('access-control-allow-headers', '*');
    route(interpreter, req, res).catch((err) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500 && !(err instanceof HttpError)) log(`${req.method} ${req.url}: ${String(err)}`);
      sendText(res, status, (err as Error).message);
    });
  };
  const server = await listen(handle, { port, host });
  // The host's gateway comes in here directly (port-sockets.ts); TCP stays for everyone else.
  const socketPath = join(SOCKET_DIR_IN_SANDBOX, portSocketName(port));
  const direct = existsSync(SOCKET_DIR_IN_SANDBOX)
    ? await listen(handle, { path: socketPath }).catch((err) => log(`not serving on ${socketPath}: ${String(err)}`))
    : undefined;
  log(`code interpreter listening on ${host}:${port}${direct ? ` and ${socketPath}` : ''}`);
  const stop = () => {
    server.close();
    direct?.close();
    void interpreter.shutdown().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main(process.argv.slice(2)).catch((err) => {
  log(`code interpreter failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
