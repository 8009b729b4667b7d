// Relays an upstream HTTP answer to the client: its head, then its body as it streams. What the
// upstream sent together goes out together: the head with the first body bytes, small chunks
// (a Connect stream's events and its end) in one write, each write being a syscall here and a
// read and a wake-up for the client. Nothing waits longer than the event loop's next turn.
import { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** Chunks below this are held for the next turn; bigger ones are worth their own write. */
const SMALL_CHUNK_BYTES = 16 * 1024;

export function relayResponse(upRes: IncomingMessage, res: ServerResponse, headers: OutgoingHttpHeaders): void {
  res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, headers);
  const socket = res.socket;
  const holdUntilNextTurn = () => {
    if (!socket || socket.destroyed || socket.writableCorked) return;
    socket.cork();
    setImmediate(() => socket.uncork());
  };
  holdUntilNextTurn();
  let bodyStarted = false;
  // An upstream that answers with its head only (a stream that has nothing to say yet) still
  // gets its head to the client at once.
  setImmediate(() => {
    if (!bodyStarted && !res.destroyed && !res.writableEnded) res.flushHeaders();
  });
  // Registered before pipe's own listener: the socket is held before the chunk is written.
  upRes.on('data', (chunk: Buffer) => {
    bodyStarted = true;
    if (chunk.length < SMALL_CHUNK_BYTES) holdUntilNextTurn();
  });
  upRes.pipe(res);
  upRes.on('error', () => res.destroy());
}
