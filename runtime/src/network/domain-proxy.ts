// The transparent proxy that ports 80 and 443 of denied addresses are redirected to when a sandbox
// allows domains: it reads the name the client asks for (HTTP Host, TLS SNI), lets it through only
// if the sandbox's policy allows that name, and then connects to what the name resolves to upstream
// (never to a range no sandbox may reach). Anything else is closed, as E2B's firewall does.
import { Resolver } from 'node:dns/promises';
import { connect, createServer, Server, Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ALWAYS_DENIED, inCidr } from './egress-policy';
import { Upstream } from './dns-forwarder';

const MAX_PEEK_BYTES = 16 * 1024;
const PEEK_TIMEOUT_MS = 10_000;
/** Connections of one sandbox through the proxy at once (each holds two sockets on the host). */
const MAX_CONNECTIONS = 256;

export type Protocol = 'http' | 'tls';

export interface ProxyTarget {
  upstream: () => Upstream;
  mayConnect: (name: string) => boolean;
}

export class DomainProxy {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly listenIp: string,
    private readonly target: ProxyTarget,
  ) {}

  async start(ports: Record<Protocol, number>): Promise<void> {
    for (const protocol of ['http', 'tls'] as const) {
      const server = createServer((client) => this.handle(client, protocol, protocol === 'http' ? 80 : 443));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: this.listenIp, port: ports[protocol], exclusive: true }, () => resolve());
      });
      this.servers.push(server);
    }
  }

  close(): void {
    for (const server of this.servers) server.close();
    for (const socket of this.sockets) socket.destroy();
    this.servers.length = 0;
  }

  private handle(client: Socket, protocol: Protocol, port: number): void {
    if (this.sockets.size >= MAX_CONNECTIONS * 2) return void client.destroy();
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => undefined);
    client.setTimeout(PEEK_TIMEOUT_MS, () => client.destroy());
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const name = protocol === 'tls' ? tlsServerName(buffered) : httpHost(buffered);
      if (name === undefined && buffered.length < MAX_PEEK_BYTES) return;
      client.off('data', onData);
      client.pause();
      if (!name || !this.target.mayConnect(name)) return void client.destroy();
      void this.forward(client, name, port, buffered);
    };
    client.on('data', onData);
  }

  private async forward(client: Socket, name: string, port: number, head: Buffer): Promise<void> {
    const { servers, localAddress } = this.target.upstream();
    const resolver = new Resolver({ timeout: 4000, tries: 1 });
    try {
      resolver.setServers(servers);
      if (localAddress) resolver.setLocalAddress(localAddress);
      const address = (await resolver.resolve4(name)).find(mayReach);
      if (!address || client.destroyed) return void client.destroy();
      const server = connect({ host: address, port, localAddress });
      this.sockets.add(server);
      server.on('close', () => {
        this.sockets.delete(server);
        client.destroy();
      });
      server.on('error', () => client.destroy());
      client.on('close', () => server.destroy());
      client.setTimeout(0);
      server.once('connect', () => {
        server.write(head);
        client.pipe(server);
        server.pipe(client);
        client.resume();
      });
    } catch {
      client.destroy();
    }
  }
}

/**
 * Whether the proxy, which connects from the host, may connect to this address: never a range no
 * sandbox may reach, and never one of the host's own addresses (an allowed name can resolve to
 * one, and a connection from the host to itself would reach its services, which the sandbox's
 * own packets never can).
 */
function mayReach(ip: string): boolean {
  if (ALWAYS_DENIED.some((c) => inCidr(ip, c))) return false;
  return !Object.values(networkInterfaces()).some((addresses) => addresses?.some((a) => a.address === ip));
}

/** The Host header's name of an HTTP request head; '' when the head is complete but has none. */
export function httpHost(data: Buffer): string | undefined {
  const text = data.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const header = /\r\nhost:[ \t]*([^\r\n]*)/i.exec(text.slice(0, end + 2))?.[1].trim() ?? '';
  return header.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
}

/** The SNI of a TLS ClientHello; '' when the hello is complete but names no server. */
export function tlsServerName(data: Buffer): string | undefined {
  if (data.length < 5) return undefined;
  if (data[0] !== 0x16) return '';
  const recordEnd = 5 + data.readUInt16BE(3);
  if (data.length < recordEnd) return undefined;
  const hello = data.subarray(5, recordEnd);
  if (hello[0] !== 0x01) return '';
  let at = 4 + 2 + 32;
  const skip = (lenBytes: number) => {
    if (at + lenBytes > hello.length) return false;
    at += lenBytes + (lenBytes === 1 ? hello[at] : hello.readUInt16BE(at));
    return at <= hello.length;
  };
  if (!skip(1) || !skip(2) || !skip(1) || at + 2 > hello.length) return '';
  const extEnd = Math.min(hello.length, at + 2 + hello.readUInt16BE(at));
  at += 2;
  while (at + 4 <= extEnd) {
    const type = hello.readUInt16BE(at);
    const len = hello.readUInt16BE(at + 2);
    if (type === 0 && at + 9 <= extEnd) {
      const nameLen = hello.readUInt16BE(at + 7);
      return hello.toString('latin1', at + 9, Math.min(extEnd, at + 9 + nameLen));
    }
    at += 4 + len;
  }
  return '';
}
