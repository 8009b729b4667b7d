// A minimal ZeroMQ peer (ZMTP 3.0, NULL security) over TCP: enough to be the DEALER and SUB
// ends of a Jupyter kernel's shell, control and iopub sockets (the kernel binds ROUTER and PUB).
// We greet as ZMTP 3.0, so a SUB subscription is a message whose first byte is 1.
import { EventEmitter } from 'node:events';
import { connect, Socket } from 'node:net';
import { sleep } from '../sleep';

export type ZmqSocketType = 'DEALER' | 'SUB';

const GREETING_SIZE = 64;
const FLAG_MORE = 0x01;
const FLAG_LONG = 0x02;
const FLAG_COMMAND = 0x04;

function greeting(): Buffer {
  const g = Buffer.alloc(GREETING_SIZE);
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = 3; // version 3.0
  g[11] = 0;
  g.write('NULL', 12, 'ascii');
  return g; // as-server = 0 and filler are already zero
}

function frameHeader(flags: number, size: number): Buffer {
  if (size < 256) return Buffer.from([flags, size]);
  const header = Buffer.alloc(9);
  header[0] = flags | FLAG_LONG;
  header.writeBigUInt64BE(BigInt(size), 1);
  return header;
}

function command(name: string, body: Buffer): Buffer {
  const payload = Buffer.concat([Buffer.from([name.length]), Buffer.from(name, 'ascii'), body]);
  return Buffer.concat([frameHeader(FLAG_COMMAND, payload.length), payload]);
}

function readyCommand(socketType: ZmqSocketType): Buffer {
  const name = Buffer.from('Socket-Type', 'ascii');
  const value = Buffer.from(socketType, 'ascii');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(value.length);
  return command('READY', Buffer.concat([Buffer.from([name.length]), name, length, value]));
}

/**
 * One connection to one kernel socket. Emits 'message' (frames: Buffer[]) and 'close'. Messages
 * sent before the handshake completes are queued.
 */
export class ZmqSocket extends EventEmitter {
  private buffer: Buffer = Buffer.alloc(0);
  private state: 'greeting' | 'handshake' | 'open' = 'greeting';
  private frames: Buffer[] = [];
  private queued: Buffer[] = [];
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    private readonly type: ZmqSocketType,
  ) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.emit('close');
    });
    socket.write(greeting());
  }

  /** Connects, retrying while the port is not yet bound, until the deadline or `abort()` says stop. */
  static async connect(
    host: string,
    port: number,
    type: ZmqSocketType,
    deadline: number,
    abort?: () => Error | undefined,
  ): Promise<ZmqSocket> {
    for (;;) {
      const failure = abort?.();
      if (failure) throw failure;
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect({ host, port });
          s.once('connect', () => {
            s.removeAllListeners('error');
            resolve(s);
          });
          s.once('error', reject);
        });
        const zmq = new ZmqSocket(socket, type);
        await zmq.handshake(deadline);
        return zmq;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`cannot connect to the kernel's ${type} socket on port ${port}: ${(err as Error).message}`, { cause: err });
        await sleep(15);
      }
    }
  }

  private handshake(deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.close();
          reject(new Error('ZMTP handshake timed out'));
        },
        Math.max(100, deadline - Date.now()),
      );
      const cleanup = () => {
        clearTimeout(timer);
        this.off('ready', onReady);
        this.off('close', onClose);
      };
      const onReady = () => {
        cleanup();
        resolve();
      };
      const onClose = () => {
        cleanup();
        reject(new Error('connection closed during the ZMTP handshake'));
      };
      this.on('ready', onReady);
      this.on('close', onClose);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends one multipart message. */
  send(parts: Buffer[]): void {
    if (this.closed) return;
    const chunks: Buffer[] = [];
    parts.forEach((part, i) => {
      chunks.push(frameHeader(i < parts.length - 1 ? FLAG_MORE : 0, part.length), part);
    });
    const data = Buffer.concat(chunks);
    if (this.state === 'open') this.socket.write(data);
    else this.queued.push(data);
  }

  /** SUB only: receive every message. */
  subscribeAll(): void {
    this.send([Buffer.from([1])]);
  }

  close(): void {
    if (!this.closed) this.socket.destroy();
    this.closed = true;
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    try {
      this.parse();
    } catch (err) {
      this.emit('protocolError', err);
      this.close();
    }
  }

  private parse(): void {
    if (this.state === 'greeting') {
      if (this.buffer.length < GREETING_SIZE) return;
      const peer = this.buffer.subarray(0, GREETING_SIZE);
      if (peer[0] !== 0xff || peer[9] !== 0x7f || peer[10] < 3) throw new Error('the peer does not speak ZMTP 3');
      this.buffer = this.buffer.subarray(GREETING_SIZE);
      this.socket.write(readyCommand(this.type));
      this.state = 'handshake';
    }
    for (;;) {
      if (this.buffer.length < 2) return;
      const flags = this.buffer[0];
      let size: number;
      let offset: number;
      if (flags & FLAG_LONG) {
        if (this.buffer.length < 9) return;
        size = Number(this.buffer.readBigUInt64BE(1));
        offset = 9;
      } else {
        size = this.buffer[1];
        offset = 2;
      }
      if (this.buffer.length < offset + size) return;
      const body = Buffer.from(this.buffer.subarray(offset, offset + size));
      this.buffer = this.buffer.subarray(offset + size);
      if (flags & FLAG_COMMAND) {
        this.onCommand(body);
        continue;
      }
      if (this.state !== 'open') throw new Error('message before the ZMTP handshake completed');
      this.frames.push(body);
      if (!(flags & FLAG_MORE)) {
        const message = this.frames;
        this.frames = [];
        this.emit('message', message);
      }
    }
  }

  private onCommand(body: Buffer): void {
    const name = body.subarray(1, 1 + body[0]).toString('ascii');
    if (name === 'READY' && this.state === 'handshake') {
      this.state = 'open';
      for (const data of this.queued) this.socket.write(data);
      this.queued = [];
      this.emit('ready');
    } else if (name === 'ERROR') {
      throw new Error(`the peer refused the connection: ${body.subarray(2 + body[0]).toString()}`);
    } else if (name === 'PING') {
      // ZMTP 3.1 heartbeat: answer with PONG carrying the ping's context.
      const ttlAndContext = body.subarray(1 + body[0]);
      this.socket.write(command('PONG', ttlAndContext.subarray(2)));
    }
  }
}
