// The gateway's MCP Streamable HTTP endpoint: JSON-RPC over POST /mcp (answered with JSON),
// sessions by `Mcp-Session-Id`, `Authorization: Bearer <token>` on every request. Tools of all
// servers are exposed as `<prefix>_<tool>`.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { readBody } from '../http-body';
import { PROTOCOL_VERSION, RpcError, StdioServer, Tool } from './stdio-client';

const SUPPORTED_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];
const MAX_BODY = 16 * 1024 * 1024;

interface Message {
  jsonrpc?: string;
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown>;
}

export class Gateway {
  private readonly sessions = new Set<string>();
  private readonly tools = new Map<string, { server: StdioServer; tool: Tool }>();

  constructor(
    private readonly token: string,
    servers: StdioServer[],
    private readonly log: (line: string) => void,
  ) {
    for (const server of servers) {
      for (const tool of server.tools) this.tools.set(`${server.spec.prefix}_${tool.name}`, { server, tool });
    }
  }

  listen(port: number): Promise<Server> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        this.log(`request failed: ${(err as Error).stack}`);
        if (!res.headersSent) send(res, 500, { jsonrpc: '2.0', id: null, error: { code: -32603, message: 'internal error' } });
        else res.destroy();
      });
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '0.0.0.0', () => resolve(server));
    });
  }

  private authorized(req: IncomingMessage): boolean {
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (!match) return false;
    const given = Buffer.from(match[1].trim());
    const expected = Buffer.from(this.token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health' && req.method === 'GET') return send(res, 200, { status: 'ok' });
    if (path !== '/mcp' && path !== '/mcp/') return send(res, 404, { error: 'not found; the MCP endpoint is /mcp' });
    if (!this.authorized(req)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return send(res, 401, {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32001, message: 'Unauthorized: Authorization: Bearer <token> required' },
      });
    }
    const sessionId = header(req, 'mcp-session-id');
    if (req.method === 'DELETE') {
      if (!sessionId || !this.sessions.delete(sessionId)) return send(res, 404, rpcError(null, -32001, 'Session not found'));
      res.writeHead(200).end();
      return;
    }
    if (req.method === 'GET') {
      // No server-initiated messages: no SSE stream.
      res.setHeader('Allow', 'POST, DELETE');
      return send(res, 405, rpcError(null, -32000, 'Method not allowed: this gateway has no server-to-client stream'));
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST, DELETE');
      return send(res, 405, rpcError(null, -32000, 'Method not allowed'));
    }
    let body: unknown;
    try {
      body = JSON.parse(await readText(req));
    } catch (err) {
      return send(res, 400, rpcError(null, -32700, `Parse error: ${(err as Error).message}`));
    }
    const messages = (Array.isArray(body) ? body : [body]) as Message[];
    if (!messages.length || messages.some((m) => typeof m !== 'object' || m === null))
      return send(res, 400, rpcError(null, -32600, 'Invalid Request'));
    const initialize = messages.find((m) => m.method === 'initialize');
    let newSession: string | undefined;
    if (initialize) {
      if (messages.length > 1) return send(res, 400, rpcError(initialize.id ?? null, -32600, 'initialize must be sent alone'));
      newSession = randomUUID();
      this.sessions.add(newSession);
      res.setHeader('Mcp-Session-Id', newSession);
    } else if (!sessionId) {
      return send(res, 400, rpcError(null, -32000, 'Bad Request: Mcp-Session-Id header is required'));
    } else if (!this.sessions.has(sessionId)) {
      return send(res, 404, rpcError(null, -32001, 'Session not found'));
    }
    const requests = messages.filter((m) => m.method !== undefined && m.id !== undefined && m.id !== null);
    if (!requests.length) {
      res.writeHead(202).end();
      return;
    }
    const replies = await Promise.all(requests.map((m) => this.dispatch(m)));
    send(res, 200, Array.isArray(body) ? replies : replies[0]);
  }

  private async dispatch(msg: Message): Promise<object> {
    const id = msg.id ?? null;
    try {
      return { jsonrpc: '2.0', id, result: await this.call(msg.method!, msg.params ?? {}) };
    } catch (err) {
      if (err instanceof RpcError)
        return {
          jsonrpc: '2.0',
          id,
          error: { code: err.code, message: err.message, ...(err.data === undefined ? {} : { data: err.data }) },
        };
      return { jsonrpc: '2.0', id, error: { code: -32603, message: (err as Error).message } };
    }
  }

  private async call(method: string, params: Record<string, unknown>): Promise<unknown> {
    switch (method) {
      case 'initialize': {
        const requested = typeof params.protocolVersion === 'string' ? params.protocolVersion : PROTOCOL_VERSION;
        return {
          protocolVersion: SUPPORTED_VERSIONS.includes(requested) ? requested : PROTOCOL_VERSION,
          capabilities: { tools: { listChanged: false } },
          serverInfo: { name: 'e2b-local-mcp-gateway', version: '0.0.1' },
        };
      }
      case 'ping':
        return {};
      case 'tools/list':
        return { tools: [...this.tools].map(([name, { tool }]) => ({ ...tool, name })) };
      case 'tools/call': {
        const name = params.name;
        const entry = typeof name === 'string' ? this.tools.get(name) : undefined;
        if (!entry) throw new RpcError(-32602, `Unknown tool: ${String(name)}`);
        const forwarded: Record<string, unknown> = { ...params, name: entry.tool.name };
        return entry.server.request('tools/call', forwarded);
      }
      case 'resources/list':
        return { resources: [] };
      case 'resources/templates/list':
        return { resourceTemplates: [] };
      case 'prompts/list':
        return { prompts: [] };
      default:
        throw new RpcError(-32601, `Method not found: ${method}`);
    }
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function rpcError(id: string | number | null, code: number, message: string): object {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readText(req: IncomingMessage): Promise<string> {
  return (await readBody(req, MAX_BODY, () => new Error('body too large'))).toString('utf8');
}
