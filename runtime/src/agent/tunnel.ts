// HTTP CONNECT tunnels (unix socket only): how the host's gateway reaches any port inside the
// sandbox, whose network namespace the host cannot enter otherwise.
import { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { Duplex } from 'node:stream';

const CONNECT_TIMEOUT_MS = 10_000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** "127.0.0.1:8080" → target; only loopback, the sandbox's own services. */
export function parseTunnelTarget(authority: string | undefined): { host: string; port: number } | undefined {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(authority ?? '');
  if (!match) return undefined;
  const port = Number(match[2]);
  if (!LOOPBACK.has(match[1]) || port < 1 || port > 65535) return undefined;
  const host = match[1] === 'localhost' ? '127.0.0.1' : match[1].replace(/^\[|\]$/g, '');
  return { host, port };
}

export function handleTunnel(req: IncomingMessage, client: Duplex, head: Buffer): void {
  client.on('error', () => client.destroy());
  const target = parseTunnelTarget(req.url);
  if (!target) {
    client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true });
  let established = false;
  upstream.setTimeout(CONNECT_TIMEOUT_MS, () => upstream.destroy(new Error('connect timeout')));
  upstream.once('connect', () => {
    established = true;
    upstream.setTimeout(0);
    upstream.setNoDelay(true);
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', () => {
    if (!established && !client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
    else client.destroy();
  });
  // A clean close reaches the client through pipe() (end after the last byte); only errors cut it.
  upstream.on('close', (hadError) => {
    if (established && hadError) client.destroy();
  });
  client.on('close', () => upstream.destroy());
}
