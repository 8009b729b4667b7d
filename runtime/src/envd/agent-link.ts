// How the host reaches into a sandbox: every connection goes through the agent's unix socket.
// envd's port is the agent itself; any other port is reached by an HTTP CONNECT tunnel that the
// agent opens to 127.0.0.1:<port> inside the sandbox's network namespace.
import { closeSync, constants, fstatSync, lstatSync, openSync } from 'node:fs';
import { request } from 'node:http';
import { connect, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { sleep } from '../sleep';
import { portSocketName } from './port-sockets';

export const ENVD_PORT = 49983;

export class PortClosedError extends Error {}

// Linux's O_PATH: a handle on the directory entry itself, which connect() can go through.
const O_PATH = 0o10000000;

/**
 * Connects to the agent's socket. Its directory is the sandbox's /run/e2b, where sandbox root can
 * put a symlink (to a host socket, or another sandbox's agent) in place of the socket: so the
 * entry is opened without following links, checked to be a socket, and connected to through that
 * handle, never by path. What is checked is what is reached.
 */
export function connectAgentSocket(socketPath: string): Socket {
  let fd: number | undefined;
  try {
    fd = openSync(socketPath, O_PATH | constants.O_NOFOLLOW);
    if (!fstatSync(fd).isSocket()) throw new Error(`${socketPath} is not a socket`);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    const failed = new Socket();
    process.nextTick(() => failed.destroy(err as Error));
    return failed;
  }
  const socket = connect(`/proc/self/fd/${fd}`);
  const release = () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  socket.once('connect', release);
  socket.once('close', release);
  return socket;
}

/**
 * A connection to `port` in the sandbox: straight to the socket of the service on that port when
 * it offers one (port-sockets.ts), else through the agent's tunnel. envd's port is always the
 * agent itself.
 */
export function openPortSocket(agentSocketPath: string, port: number): Promise<Socket> {
  if (port === ENVD_PORT) return openSandboxSocket(agentSocketPath, port);
  const direct = connectAgentSocket(join(dirname(agentSocketPath), portSocketName(port)));
  return new Promise<Socket>((resolve, reject) => {
    direct.once('connect', () => {
      direct.off('error', reject);
      resolve(direct);
    });
    direct.once('error', reject);
  }).catch(() => {
    direct.destroy();
    return openSandboxSocket(agentSocketPath, port);
  });
}

export function openSandboxSocket(socketPath: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectAgentSocket(socketPath);
    socket.once('error', reject);
    if (port === ENVD_PORT) {
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
      return;
    }
    socket.once('connect', () => socket.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.off('error', reject);
      const rest = head.subarray(end + 4);
      if (!/^HTTP\/1\.[01] 200/.test(head.toString('latin1', 0, 12))) {
        socket.destroy();
        reject(new PortClosedError(`nothing is listening on port ${port} in the sandbox`));
        return;
      }
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    socket.on('data', onData);
  });
}

/** A request to the agent itself over its socket (host-side control calls: health, init). */
export function agentRequest(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 5000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        createConnection: () => connectAgentSocket(socketPath),
        method,
        path,
        timeout: timeoutMs,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`agent did not answer ${method} ${path} in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export async function waitForAgent(socketPath: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    // A request before the agent has bound its socket only fails, at ~0.5 ms of the runtime's CPU
    // each (every 5 ms, for every sandbox starting at once); an lstat costs ~20 µs.
    if (!entryExists(socketPath)) {
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    try {
      const res = await agentRequest(socketPath, 'GET', '/health', undefined, 1000);
      if (res.status === 204) return;
    } catch (err) {
      lastError = err;
    }
    await sleep(5);
  }
  throw new Error(`the sandbox agent did not start within ${timeoutMs} ms (${String(lastError ?? `no ${socketPath}`)})`);
}

function entryExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
