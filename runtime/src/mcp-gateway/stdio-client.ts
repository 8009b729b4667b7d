// A JSON-RPC client for one stdio MCP server (newline-delimited messages on stdin/stdout).
import { ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ServerSpec } from './servers';

export const PROTOCOL_VERSION = '2025-06-18';

export interface Tool {
  name: string;
  [key: string]: unknown;
}

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class StdioServer {
  private child?: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited?: string;
  tools: Tool[] = [];

  constructor(
    readonly spec: ServerSpec,
    private readonly log: (line: string) => void,
  ) {}

  /** Runs the install command (if any), starts the server, initializes it and lists its tools. */
  async start(timeoutMs = 60_000): Promise<void> {
    const { spec } = this;
    if (spec.installCommand) await this.install(spec.installCommand, timeoutMs * 5);
    const env = { ...process.env, ...spec.env };
    const child = spec.argv
      ? spawn(spec.argv[0], spec.argv.slice(1), { env, cwd: spec.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', spec.command!], { env, cwd: spec.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.on('error', (err) => this.fail(`cannot start: ${err.message}`));
    child.on('exit', (code, signal) => this.fail(`exited (${signal ?? `code ${code}`})`));
    child.stdin!.on('error', () => undefined);
    createInterface({ input: child.stderr! }).on('line', (line) => this.log(`[${spec.name}] ${line}`));
    createInterface({ input: child.stdout! }).on('line', (line) => this.onLine(line));
    await this.request(
      'initialize',
      {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'e2b-local-mcp-gateway', version: '0.0.1' },
      },
      timeoutMs,
    );
    this.notify('notifications/initialized');
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = (await this.request('tools/list', cursor ? { cursor } : {}, timeoutMs)) as { tools?: Tool[]; nextCursor?: string };
      tools.push(...(page.tools ?? []));
      cursor = page.nextCursor;
    } while (cursor);
    this.tools = tools;
  }

  private install(command: string, timeoutMs: number): Promise<void> {
    const { spec } = this;
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', command], {
        env: { ...process.env, ...spec.env },
        cwd: spec.cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let tail = '';
      const onOutput = (chunk: Buffer) => {
        tail = (tail + chunk.toString()).slice(-2000);
        for (const line of chunk.toString().split('\n')) if (line) this.log(`[${spec.name} install] ${line}`);
      };
      child.stdout!.on('data', onOutput);
      child.stderr!.on('data', onOutput);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`install command failed: ${err.message}`));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`install command failed (${signal ?? `exit ${code}`}): ${tail.trim()}`));
      });
    });
  }

  private fail(reason: string): void {
    if (this.exited) return;
    this.exited = reason;
    this.log(`[${this.spec.name}] ${reason}`);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`MCP server "${this.spec.name}" ${reason}`));
      this.pending.delete(id);
    }
  }

  private send(message: object): void {
    if (this.exited) throw new Error(`MCP server "${this.spec.name}" ${this.exited}`);
    this.child!.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  private onLine(line: string): void {
    if (!line.trim()) return;
    let msg: { id?: number | string; method?: string; result?: unknown; error?: { code: number; message: string; data?: unknown } };
    try {
      msg = JSON.parse(line);
    } catch {
      this.log(`[${this.spec.name}] non-JSON output: ${line.slice(0, 200)}`);
      return;
    }
    if (msg.method !== undefined) {
      // A request from the server (roots, sampling, elicitation...): the gateway offers none.
      if (msg.id !== undefined) {
        try {
          this.send({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: `the gateway does not support ${msg.method}` } });
        } catch {
          /* gone */
        }
      }
      return;
    }
    const pending = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
    if (!pending) return;
    this.pending.delete(msg.id as number);
    clearTimeout(pending.timer);
    if (msg.error) pending.reject(new RpcError(msg.error.code, msg.error.message, msg.error.data));
    else pending.resolve(msg.result);
  }

  request(method: string, params: unknown, timeoutMs = 300_000): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`MCP server "${this.spec.name}" did not answer ${method} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      try {
        this.send({ jsonrpc: '2.0', id, method, params });
      } catch (err) {
        this.pending.delete(id);
        clearTimeout(timer);
        reject(err as Error);
      }
    });
  }

  notify(method: string, params?: unknown): void {
    this.send({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
  }

  stop(): void {
    this.child?.kill('SIGTERM');
  }
}
