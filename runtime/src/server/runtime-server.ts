// The runtime's one HTTP port: control-plane API and sandbox gateway side by side, told apart by
// the sandbox headers or host name (so E2B_API_URL and E2B_SANDBOX_URL can be the same URL).
import { createServer, Server } from 'node:http';
import { SandboxManager } from '../sandbox/manager';
import { TemplateCatalog } from '../template-catalog';
import { ApiExtras, ControlPlaneApi } from './api';
import { GatewayError, SandboxGateway, sandboxTargetOf, SandboxTarget } from './gateway';
import { sendJson } from './http-util';
import { IncomingMessage } from 'node:http';
import { ENVD_PORT } from '../envd/agent-link';
import { sandboxOfSignedFileUrl } from './signed-urls';

export function createRuntimeServer(
  sandboxes: SandboxManager,
  templates: TemplateCatalog,
  apiKey: string,
  domain: string,
  extras: ApiExtras = {},
): Server {
  const api = new ControlPlaneApi(sandboxes, templates, apiKey, domain, extras);
  const gateway = new SandboxGateway(sandboxes);
  const server = createServer((req, res) => {
    const target = targetOrError(req) ?? signedFileTarget(req, sandboxes);
    if (target instanceof GatewayError) sendJson(res, target.status, { message: target.message, code: target.status });
    else if (target) void gateway.forward(req, res, target);
    else void api.handle(req, res);
  });
  server.on('upgrade', (req, socket, head) => {
    const target = targetOrError(req);
    if (target && !(target instanceof GatewayError)) void gateway.upgrade(req, socket, head, target);
    else socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  // Command, PTY and watch streams stay open for as long as the client wants.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 650_000;
  server.headersTimeout = 60_000;
  return server;
}

function signedFileTarget(req: IncomingMessage, sandboxes: SandboxManager): SandboxTarget | undefined {
  const sandbox = sandboxOfSignedFileUrl(req, sandboxes.list());
  return sandbox ? { sandboxId: sandbox.sandboxID, port: ENVD_PORT } : undefined;
}

function targetOrError(req: IncomingMessage): SandboxTarget | GatewayError | undefined {
  try {
    return sandboxTargetOf(req);
  } catch (err) {
    return err as GatewayError;
  }
}
