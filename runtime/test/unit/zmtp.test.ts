// The minimal ZMTP 3.0 peer (src/interpreter/zmtp.ts) against a kernel-side peer on a loopback
// socket that writes the bytes ZMTP specifies: greeting and READY, short and long frames,
// multipart messages split across TCP writes, PING, ERROR and a peer that speaks something else.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AddressInfo, createServer, Server, Socket } from 'node:net';
import { ZmqSocket, ZmqSocketType } from '../../src/interpreter/zmtp';

const FLAG_MORE = 0x01;
const FLAG_LONG = 0x02;
const FLAG_COMMAND = 0x04;

function greeting(): Buffer {
  const g = Buffer.alloc(64);
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = 3;
  g[11] = 1;
  g.write('NULL', 12, 'ascii');
  g[32] = 1; // as-server
  return g;
}

function frame(flags: number, body: Buffer): Buffer {
  if (body.length < 256) return Buffer.concat([Buffer.from([flags, body.length]), body]);
  const header = Buffer.alloc(9);
  header[0] = flags | FLAG_LONG;
  header.writeBigUInt64BE(BigInt(body.length), 1);
  return Buffer.concat([header, body]);
}

function command(name: string, body: Buffer = Buffer.alloc(0)): Buffer {
  return frame(FLAG_COMMAND, Buffer.concat([Buffer.from([name.length]), Buffer.from(name, 'ascii'), body]));
}

function readyCommand(socketType: string): Buffer {
  const value = Buffer.from(socketType);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(value.length);
  return command('READY', Buffer.concat([Buffer.from([11]), Buffer.from('Socket-Type'), length, value]));
}

const message = (parts: Buffer[]) => Buffer.concat(parts.map((p, i) => frame(i < parts.length - 1 ? FLAG_MORE : 0, p)));

/** The kernel's end: collects what the client sends, lets the test write raw bytes. */
class KernelPeer {
  received = Buffer.alloc(0);
  socket!: Socket;
  private constructor(
    readonly server: Server,
    private readonly connected: Promise<Socket>,
  ) {}

  static async listen(): Promise<KernelPeer> {
    const server = createServer();
    const connected = new Promise<Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const peer = new KernelPeer(server, connected);
    void connected.then((s) => {
      peer.socket = s;
      s.on('data', (chunk) => {
        peer.received = Buffer.concat([peer.received, chunk]);
      });
      s.on('error', () => undefined);
    });
    return peer;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }
  accepted(): Promise<Socket> {
    return this.connected;
  }

  /** Resolves once the client has sent at least `n` bytes. */
  async receivedBytes(n: number): Promise<Buffer> {
    while (this.received.length < n) await new Promise((r) => setImmediate(r));
    return this.received;
  }

  /** Writes each piece separately, letting the client read between them. */
  async writeInPieces(bytes: Buffer, size: number): Promise<void> {
    for (let at = 0; at < bytes.length; at += size) {
      await new Promise<void>((r) => this.socket.write(bytes.subarray(at, at + size), () => r()));
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  close(): void {
    this.socket?.destroy();
    this.server.close();
  }
}

const peers: KernelPeer[] = [];
const clients: ZmqSocket[] = [];
after(() => {
  for (const c of clients) c.close();
  for (const p of peers) p.close();
});

/** A client connected through the handshake: the peer greets and answers READY. */
async function connected(type: ZmqSocketType = 'DEALER'): Promise<{ peer: KernelPeer; client: ZmqSocket }> {
  const peer = await KernelPeer.listen();
  peers.push(peer);
  const pending = ZmqSocket.connect('127.0.0.1', peer.port, type, Date.now() + 10_000);
  const socket = await peer.accepted();
  await peer.receivedBytes(64);
  socket.write(greeting());
  await peer.receivedBytes(64 + readyCommand(type).length);
  socket.write(readyCommand('ROUTER'));
  const client = await pending;
  clients.push(client);
  return { peer, client };
}

function nextMessage(client: ZmqSocket): Promise<Buffer[]> {
  return new Promise((resolve) => client.once('message', resolve));
}

describe('ZMTP 3.0 peer', () => {
  it('greets as a ZMTP 3.0 NULL client and announces its socket type', async () => {
    const { peer } = await connected('SUB');
    const sent = await peer.receivedBytes(64 + readyCommand('SUB').length);
    assert.equal(sent[0], 0xff);
    assert.equal(sent[9], 0x7f);
    assert.equal(sent[10], 3);
    assert.equal(sent.subarray(12, 16).toString(), 'NULL');
    assert.equal(sent[32], 0, 'as-server is 0');
    assert.deepEqual(sent.subarray(64, 64 + readyCommand('SUB').length), readyCommand('SUB'));
  });

  it('sends multipart messages as MORE frames, long frames with a 64-bit size', async () => {
    const { peer, client } = await connected();
    const before = peer.received.length;
    const big = Buffer.alloc(300, 0x61);
    client.send([Buffer.from('<IDS|MSG>'), Buffer.alloc(0), big]);
    const expected = message([Buffer.from('<IDS|MSG>'), Buffer.alloc(0), big]);
    const sent = await peer.receivedBytes(before + expected.length);
    assert.deepEqual(sent.subarray(before), expected);
  });

  it('subscribes a SUB socket to everything with a message whose first byte is 1', async () => {
    const { peer, client } = await connected('SUB');
    const before = peer.received.length;
    client.subscribeAll();
    assert.deepEqual((await peer.receivedBytes(before + 3)).subarray(before), Buffer.from([0, 1, 1]));
  });

  it('reassembles messages whose frames arrive split anywhere', async () => {
    const { peer, client } = await connected();
    const parts = [Buffer.from('id'), Buffer.from('<IDS|MSG>'), Buffer.alloc(255, 1), Buffer.alloc(256, 2), Buffer.alloc(1000, 3)];
    const bytes = Buffer.concat([message(parts), message([Buffer.from('second')])]);
    const got: Buffer[][] = [];
    client.on('message', (m: Buffer[]) => got.push(m));
    await peer.writeInPieces(bytes, 7);
    while (got.length < 2) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(got, [parts, [Buffer.from('second')]]);
  });

  it('queues what is sent before the handshake completes', async () => {
    const peer = await KernelPeer.listen();
    peers.push(peer);
    const pending = ZmqSocket.connect('127.0.0.1', peer.port, 'DEALER', Date.now() + 10_000);
    const socket = await peer.accepted();
    socket.write(Buffer.concat([greeting(), readyCommand('ROUTER'), message([Buffer.from('early')])]));
    const client = await pending;
    clients.push(client);
    client.send([Buffer.from('hello')]);
    const expected = Buffer.concat([readyCommand('DEALER'), message([Buffer.from('hello')])]);
    assert.deepEqual((await peer.receivedBytes(64 + expected.length)).subarray(64), expected);
  });

  it('answers PING with PONG carrying the context', async () => {
    const { peer, client } = await connected();
    const before = peer.received.length;
    const ttl = Buffer.from([0, 10]);
    peer.socket.write(command('PING', Buffer.concat([ttl, Buffer.from('ctx')])));
    const pong = command('PONG', Buffer.from('ctx'));
    assert.deepEqual((await peer.receivedBytes(before + pong.length)).subarray(before), pong);
    const reply = nextMessage(client);
    peer.socket.write(message([Buffer.from('still open')]));
    assert.deepEqual(await reply, [Buffer.from('still open')]);
  });

  it('closes with a protocol error when the peer sends ERROR', async () => {
    const { peer, client } = await connected();
    const failed = new Promise<Error>((resolve) => client.once('protocolError', resolve));
    const closed = new Promise((resolve) => client.once('close', resolve));
    peer.socket.write(command('ERROR', Buffer.concat([Buffer.from([6]), Buffer.from('denied')])));
    assert.equal((await failed).message, 'the peer refused the connection: denied');
    await closed;
    assert.equal(client.isClosed, true);
  });

  it('hangs up on a peer that does not speak ZMTP 3, or sends a message before READY', async () => {
    const notZmtp3 = greeting();
    notZmtp3[10] = 2;
    for (const bytes of [Buffer.alloc(64, 0x20), notZmtp3, Buffer.concat([greeting(), message([Buffer.from('too early')])])]) {
      const peer = await KernelPeer.listen();
      peers.push(peer);
      // The client retries until its deadline; the first connection is the one it hangs up on.
      const pending = ZmqSocket.connect('127.0.0.1', peer.port, 'DEALER', Date.now() + 300);
      const socket = await peer.accepted();
      const hungUp = new Promise((resolve) => socket.once('close', resolve));
      socket.write(bytes);
      await hungUp;
      await assert.rejects(pending, /^Error: cannot connect to the kernel's DEALER socket on port \d+: /);
    }
  });
});
