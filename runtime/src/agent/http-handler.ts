// The agent's HTTP surface, shared by its two listeners: plain routes (/health, /init, /envs) and
// the Connect services. The unix socket (the host) is "trusted": only it may call /init.
import type { FileHandle } from 'node:fs/promises';
import { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../http-body';
import { hasValidAccessToken } from './auth';
import { RpcRouter } from './connect/rpc';
import { isObject } from './connect/proto-json';
import { log } from './log';
import { AgentSettings } from './settings';

const MAX_JSON_BODY = 1024 * 1024;

export interface Listener {
  /** True for the host's unix socket, false for the in-sandbox TCP port. */
  trusted: boolean;
}

export interface PlainRoute {
  method: string;
  path: string;
  /** 'token': needs X-Access-Token when one is set; 'none': open; 'custom': the handler decides. */
  auth: 'token' | 'none' | 'custom';
  trustedOnly?: boolean;
  handle(req: IncomingMessage, res: ServerResponse, listener: Listener): void | Promise<void>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

/** envd's REST error shape: {"code": <status>, "message": "..."} */
export function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { code: status, message });
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const text = (await readBody(req, MAX_JSON_BODY, () => new Error('body too large'))).toString('utf8').trim();
  return text ? JSON.parse(text) : {};
}

/** The routes envd itself serves besides its Connect services. */
/** The tail of the agent's log (the host's logs API reads it here: it lives on the sandbox's tmpfs). */
const LOG_TAIL_BYTES = 1024 * 1024;

async function readLogTail(file: string): Promise<Buffer> {
  // Loaded here, not at start-up: only this rarely used route needs it among the agent's first ones.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { open } = require('node:fs/promises') as typeof import('node:fs/promises');
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, LOG_TAIL_BYTES);
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, size - length);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** `afterInit` runs once each /init was answered. */
export function coreRoutes(settings: AgentSettings, logFile: string | undefined, afterInit: () => void): PlainRoute[] {
  return [
    {
      method: 'GET',
      path: '/logs',
      auth: 'none',
      trustedOnly: true,
      async handle(_req, res) {
        const tail = logFile ? await readLogTail(logFile) : Buffer.alloc(0);
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': tail.length });
        res.end(tail);
      },
    },
    {
      method: 'GET',
      path: '/health',
      auth: 'none',
      handle(_req, res) {
        res.writeHead(204);
        res.end();
      },
    },
    {
      method: 'POST',
      path: '/init',
      auth: 'none',
      trustedOnly: true,
      async handle(req, res) {
        let body: unknown;
        try {
          body = await readJsonBody(req);
          if (!isObject(body)) throw new Error('expected a JSON object');
          settings.applyInit(body);
        } catch (err) {
          sendError(res, 400, `invalid init request: ${(err as Error).message}`);
          return;
        }
        res.writeHead(204);
        res.end();
        afterInit();
      },
    },
    {
      method: 'GET',
      path: '/envs',
      auth: 'token',
      handle(_req, res) {
        sendJson(res, 200, settings.envVars);
      },
    },
  ];
}

export interface RequestHandlerOptions {
  settings: AgentSettings;
  rpc: RpcRouter;
  routes: PlainRoute[];
}

export function createRequestHandler({ settings, rpc, routes }: RequestHandlerOptions, listener: Listener) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      log(`request ${req.method} ${req.url} failed: ${(err as Error)?.stack ?? String(err)}`);
      if (!res.headersSent) sendError(res, 500, 'internal error');
      else res.destroy();
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';

    const matching = routes.filter((r) => r.path === path && (!r.trustedOnly || listener.trusted));
    if (matching.length > 0) {
      const route = matching.find((r) => r.method === method || (method === 'HEAD' && r.method === 'GET'));
      if (!route) {
        res.setHeader('allow', [...new Set(matching.map((r) => r.method))].join(', '));
        return sendError(res, 405, `method ${method} not allowed on ${path}`);
      }
      if (route.auth === 'token' && !hasValidAccessToken(req, settings.accessToken)) return unauthorized(res);
      return route.handle(req, res, listener);
    }

    if (rpc.has(path)) {
      if (method !== 'POST') {
        res.setHeader('allow', 'POST');
        return sendError(res, 405, 'Connect RPCs take POST');
      }
      if (!hasValidAccessToken(req, settings.accessToken)) return unauthorized(res);
      return rpc.serve(path, req, res);
    }

    sendError(res, 404, `no route for ${method} ${path}`);
  }
}

function unauthorized(res: ServerResponse): void {
  sendError(res, 401, 'unauthorized access, please provide a valid access token');
}
