// The DNS server a sandbox's /etc/resolv.conf names: it listens on the host side of the sandbox's
// link and forwards queries upstream (through the uplink), answering only names the sandbox's
// egress policy lets it resolve (REFUSED otherwise), so domain filtering starts at DNS.
import { createSocket, Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

const UPSTREAM_TIMEOUT_MS = 4000;
const RCODE_REFUSED = 5;
/** Queries of one sandbox waiting upstream at once: more are dropped (a sandbox cannot flood the host with sockets). */
const MAX_IN_FLIGHT = 64;

export interface Upstream {
  servers: string[];
  localAddress?: string;
}

/** Nameservers of a resolv.conf (the host's, or /etc/netns/<name>/resolv.conf for a netns uplink). */
export function nameserversOf(file: string): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((s): s is string => !!s && isIP(s) === 4);
  } catch {
    return [];
  }
}

/** The first question's name of a DNS message; undefined when it is not a well-formed query. */
export function questionName(msg: Buffer): { name: string; end: number } | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < msg.length) {
    const len = msg[at];
    if (len === 0) return at + 5 <= msg.length ? { name: labels.join('.'), end: at + 5 } : undefined;
    if (len > 63 || at + 1 + len > msg.length) return undefined;
    labels.push(msg.toString('latin1', at + 1, at + 1 + len));
    at += 1 + len;
  }
  return undefined;
}

function refused(query: Buffer, questionEnd: number): Buffer {
  const reply = Buffer.from(query.subarray(0, questionEnd));
  // QR set, opcode and RD kept, RA set, rcode REFUSED; one question, no records.
  reply[2] = 0x80 | (query[2] & 0x79);
  reply[3] = 0x80 | RCODE_REFUSED;
  reply.writeUInt16BE(1, 4);
  reply.fill(0, 6, 12);
  return reply;
}

export class DnsForwarder {
  private socket?: Socket;
  private inFlight = 0;

  constructor(
    private readonly listenIp: string,
    private readonly upstream: () => Upstream,
    private readonly mayResolve: (name: string) => boolean,
  ) {}

  async start(port: number): Promise<void> {
    const socket = createSocket('udp4');
    socket.on('message', (msg, from) => {
      if (this.inFlight >= MAX_IN_FLIGHT) return;
      this.inFlight++;
      void this.answer(msg)
        .then(
          (reply) => {
            if (reply && this.socket) socket.send(reply, from.port, from.address);
          },
          () => undefined,
        )
        .finally(() => {
          this.inFlight--;
        });
    });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: this.listenIp, port, exclusive: true }, () => resolve());
    });
    this.socket = socket;
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }

  private async answer(query: Buffer): Promise<Buffer | undefined> {
    const question = questionName(query);
    if (!question) return undefined;
    if (!this.mayResolve(question.name)) return refused(query, question.end);
    const { servers, localAddress } = this.upstream();
    for (const server of servers) {
      const reply = await askUpstream(query, server, localAddress).catch(() => undefined);
      if (reply) return reply;
    }
    return undefined;
  }
}

function askUpstream(query: Buffer, server: string, localAddress?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('timeout'));
    }, UPSTREAM_TIMEOUT_MS);
    socket.on('error', (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err);
    });
    socket.on('message', (msg) => {
      if (msg.length < 2 || msg.readUInt16BE(0) !== query.readUInt16BE(0)) return;
      clearTimeout(timer);
      socket.close();
      resolve(msg);
    });
    socket.bind({ address: localAddress ?? '0.0.0.0', port: 0 }, () => socket.send(query, 53, server));
  });
}
