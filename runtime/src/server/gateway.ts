// Routes in-sandbox traffic: requests carrying E2b-Sandbox-Id + E2b-Sandbox-Port (what the SDKs
// send when E2B_SANDBOX_URL points here) or a host name <port>-<sandboxId>.<domain> are forwarded
// to that port inside the sandbox, streaming both ways; WebSocket upgrades are spliced through.
// When the port cannot be reached, API clients get E2B's JSON body and browsers a readable page.
import { Agent, IncomingMessage, OutgoingHttpHeaders, request, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import { connectAgentSocket, ENVD_PORT, openPortSocket, openSandboxSocket, PortClosedError } from '../envd/agent-link';
import { SandboxManager } from '../sandbox/manager';
import { maskedHost } from '../sandbox/network-config';
import { ErrorPage, html, sendErrorPage, wantsHtml } from './error-page';
import { IdleSocketAgent } from './idle-socket-agent';
import { sendJson } from './http-util';
import { relayResponse } from './response-relay';

export interface SandboxTarget {
  sandboxId: string;
  port: number;
}

// envd routes that only the runtime itself may call (through the agent's socket, not this proxy).
const INTERNAL_ENVD_PATHS = /^\/(init|logs|freeze|unfreeze|fsfreeze|fsthaw|collapse|upgrade)(\/|\?|$)/;
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-authenticate',
]);

/** Why the gateway could not reach a sandbox, when it is about the sandbox itself. */
export type SandboxUnreachable = 'gone' | 'paused' | 'creating';

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly sandbox?: SandboxUnreachable,
  ) {
    super(message);
  }
}

/** Which sandbox port a request is for, or undefined when it is a control-plane request. */
export function sandboxTargetOf(req: IncomingMessage): SandboxTarget | undefined {
  const idHeader = req.headers['e2b-sandbox-id'];
  const portHeader = req.headers['e2b-sandbox-port'];
  if (idHeader !== undefined || portHeader !== undefined) {
    const port = Number(portHeader);
    if (typeof idHeader !== 'string' || !idHeader || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new GatewayError(400, 'both E2b-Sandbox-Id and a valid E2b-Sandbox-Port header are required');
    }
    return { sandboxId: idHeader, port };
  }
  const host = req.headers.host ?? '';
  const dot = host.indexOf('.');
  if (dot < 0) return undefined;
  // Upstream: the left-most label is <port>-<sandboxId>[-<anything>].
  const match = /^(\d+)-([a-z0-9]+)(?:-[^.]*)?$/.exec(host.slice(0, dot));
  return match ? { sandboxId: match[2], port: Number(match[1]) } : undefined;
}

export class SandboxGateway {
  private readonly agents = new Map<string, Agent>();

  constructor(private readonly sandboxes: SandboxManager) {}

  async forward(req: IncomingMessage, res: ServerResponse, target: SandboxTarget): Promise<void> {
    try {
      await this.resumeIfAutoResume(target);
      this.checkAccess(req, target);
      const upstream = request({
        agent: this.agentFor(target),
        method: req.method,
        path: req.url,
        headers: this.headersFor(req, target),
      });
      upstream.on('response', (upRes) => relayResponse(upRes, res, endToEndHeaders(upRes)));
      upstream.on('error', (err) => this.fail(req, res, target, err));
      // A client that goes away must be seen inside the sandbox (a command stream ends, a cell is interrupted).
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
      req.pipe(upstream);
    } catch (err) {
      this.fail(req, res, target, err);
    }
  }

  /**
   * An upgrade request goes through Node's HTTP client, so that only a real switch of protocols
   * (101) turns the connection into a byte stream. Any other answer is relayed as one response and
   * the connection closes with it: bytes spliced after an answered request would reach the agent
   * unchecked (a /init that clears the access token, a CONNECT to a private port).
   */
  async upgrade(req: IncomingMessage, client: Duplex, head: Buffer, target: SandboxTarget): Promise<void> {
    client.on('error', () => client.destroy());
    try {
      await this.resumeIfAutoResume(target);
      this.checkAccess(req, target);
      const socketPath = this.sandboxes.socketPath(target.sandboxId);
      const upstream = request({
        method: req.method,
        path: req.url,
        headers: { ...this.headersFor(req, target), connection: 'Upgrade', upgrade: req.headers.upgrade ?? '' },
        createConnection: (_opts, done) => {
          openSandboxSocket(socketPath, target.port).then(
            (s) => done(null, s),
            (err) => done(err, undefined as never),
          );
          return undefined;
        },
      });
      upstream.on('upgrade', (upRes, socket, upHead) => {
        client.write(responseHead(upRes));
        if (upHead.length > 0) client.write(upHead);
        if (head.length > 0) socket.write(head);
        socket.on('error', () => client.destroy());
        client.on('close', () => socket.destroy());
        socket.on('close', () => client.destroy());
        socket.pipe(client);
        client.pipe(socket);
      });
      upstream.on('response', (upRes) => {
        client.write(responseHead(upRes, { connection: 'close' }));
        upRes.pipe(client);
        upRes.on('error', () => client.destroy());
      });
      upstream.on('error', (err) => this.failUpgrade(client, target, err));
      client.on('close', () => upstream.destroy());
      upstream.end();
    } catch (err) {
      this.failUpgrade(client, target, err);
    }
  }

  /** Drops pooled connections of sandboxes that no longer exist. */
  forget(sandboxId: string): void {
    for (const [key, agent] of this.agents) {
      if (key.startsWith(`${sandboxId}:`)) {
        agent.destroy();
        this.agents.delete(key);
      }
    }
  }

  /**
   * A paused sandbox created with autoResume wakes up when traffic arrives for it; one paused
   * without memory does not (as on E2B: arbitrary traffic must not reboot it), connect resumes it.
   */
  private async resumeIfAutoResume(target: SandboxTarget): Promise<void> {
    const record = this.sandboxes.get(target.sandboxId);
    if (record?.state === 'paused' && record.lifecycle.autoResume && record.memoryKept !== false)
      await this.sandboxes.resume(target.sandboxId).catch(() => undefined);
  }

  private checkAccess(req: IncomingMessage, target: SandboxTarget): void {
    const record = this.sandboxes.get(target.sandboxId);
    if (!record) {
      this.forget(target.sandboxId);
      // E2B's client-proxy words it exactly so; the sandbox id travels in the body's sandboxId.
      throw new GatewayError(502, 'The sandbox was not found', 'gone');
    }
    if (record.state !== 'running') throw new GatewayError(502, `The sandbox ${target.sandboxId} is ${record.state}`, record.state);
    if (target.port === ENVD_PORT && INTERNAL_ENVD_PATHS.test(req.url ?? '')) throw new GatewayError(403, 'this envd route is internal');
    if (target.port !== ENVD_PORT && record.trafficAccessToken) {
      const given = Buffer.from(String(req.headers['e2b-traffic-access-token'] ?? ''));
      const wanted = Buffer.from(record.trafficAccessToken);
      if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
        throw new GatewayError(403, 'missing or invalid E2B-Traffic-Access-Token header');
      }
    }
  }

  /**
   * The request's end-to-end headers; a sandbox created with `network.maskRequestHost` sees that
   * Host on its own ports (envd's excepted) and the original one in X-Forwarded-Host, as on E2B.
   */
  private headersFor(req: IncomingMessage, target: SandboxTarget): OutgoingHttpHeaders {
    const headers = endToEndHeaders(req);
    const mask = target.port === ENVD_PORT ? undefined : maskedHost(this.sandboxes.get(target.sandboxId)?.network, target.port);
    if (mask) {
      if (req.headers.host !== undefined) headers['x-forwarded-host'] = req.headers.host;
      headers.host = mask;
    }
    return headers;
  }

  private agentFor(target: SandboxTarget): Agent {
    const key = `${target.sandboxId}:${target.port}`;
    let agent = this.agents.get(key);
    if (!agent) {
      const socketPath = this.sandboxes.socketPath(target.sandboxId);
      agent = new IdleSocketAgent();
      // Connections go through unix sockets in the sandbox's socket dir (the port's own, or the
      // agent's tunnel), never TCP; pooled per sandbox and port, so never shared between sandboxes.
      (agent as unknown as { createConnection: unknown }).createConnection = (
        _opts: unknown,
        callback: (err: Error | null, socket?: Duplex) => void,
      ) => {
        // envd's port is the agent's socket itself: returned at once, the request is written as it
        // connects (a failure reaches the request as the socket's error), without waiting a turn.
        if (target.port === ENVD_PORT) return connectAgentSocket(socketPath);
        openPortSocket(socketPath, target.port).then(
          (s) => callback(null, s),
          (err) => callback(err),
        );
        return undefined;
      };
      this.agents.set(key, agent);
    }
    return agent;
  }

  private failUpgrade(client: Duplex, target: SandboxTarget, err: unknown): void {
    if (client.destroyed) return;
    const { status, body } = errorAnswer(target, err);
    const payload = JSON.stringify(body);
    client.end(
      `HTTP/1.1 ${status} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`,
    );
  }

  private fail(req: IncomingMessage, res: ServerResponse, target: SandboxTarget, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const { status, body } = errorAnswer(target, err);
    if (wantsHtml(req.headers.accept)) sendErrorPage(res, errorPage(target, status, err));
    else sendJson(res, status, body);
  }
}

/** E2B's gateway error: the status (502 unless the gateway said otherwise) and its JSON body. */
function errorAnswer(target: SandboxTarget, err: unknown): { status: number; body: object } {
  const status = err instanceof GatewayError ? err.status : 502;
  return { status, body: { sandboxId: target.sandboxId, message: (err as Error).message, code: status } };
}

/** The same failure told to a person in a browser: what happened and what to do about it. */
function errorPage(target: SandboxTarget, status: number, err: unknown): ErrorPage {
  const { sandboxId, port } = target;
  const about = { sandboxId, port, status };
  if (err instanceof PortClosedError) {
    return {
      ...about,
      title: `Nothing is listening on port ${port}`,
      explanation: html`The sandbox <code>${sandboxId}</code> is running, but no server in it listens on port ${port}.`,
      advice: html`start a server listening on <code>0.0.0.0:${port}</code> inside the sandbox (for example
        <code>python3 -m http.server ${port}</code> in a sandbox terminal), then reload this page.`,
    };
  }
  if (err instanceof GatewayError && err.sandbox === 'gone') {
    return {
      ...about,
      title: 'This sandbox does not exist',
      explanation: html`There is no sandbox <code>${sandboxId}</code>: it was killed, or its timeout passed.`,
      advice: 'create a new sandbox, start the server in it, and open its port from there.',
    };
  }
  if (err instanceof GatewayError && err.sandbox === 'paused') {
    return {
      ...about,
      title: 'This sandbox is paused',
      explanation: html`The sandbox <code>${sandboxId}</code> is paused, so nothing in it can answer.`,
      advice: 'resume the sandbox (Resume in the E2B view, or connect to it with the SDK), then reload this page.',
    };
  }
  if (err instanceof GatewayError && err.sandbox === 'creating') {
    return {
      ...about,
      title: 'This sandbox is still starting',
      explanation: html`The sandbox <code>${sandboxId}</code> is not running yet.`,
      advice: 'reload this page in a moment.',
    };
  }
  return {
    ...about,
    title: `Port ${port} of the sandbox could not be reached`,
    explanation: html`The gateway could not reach port ${port} of the sandbox <code>${sandboxId}</code>: ${(err as Error).message}.`,
    advice: 'check that a server listens on that port and that the request carries what the sandbox requires, then reload this page.',
  };
}

/** A message's headers minus the hop-by-hop ones, which describe one connection, not the message. */
function endToEndHeaders(message: IncomingMessage): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(message.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
  return headers;
}

/** The status line and headers of an upstream answer, as they go to a client's raw connection. */
function responseHead(res: IncomingMessage, extra: Record<string, string> = {}): string {
  const lines = [`HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}`];
  const switching = res.statusCode === 101;
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    const name = res.rawHeaders[i].toLowerCase();
    // A switched connection keeps its Connection/Upgrade headers; any other answer loses hop-by-hop ones.
    if (!switching && (HOP_BY_HOP.has(name) || name in extra)) continue;
    lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
  }
  for (const [name, value] of Object.entries(extra)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}
