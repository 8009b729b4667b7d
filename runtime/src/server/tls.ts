// One listening port for http:// and https://. The SDKs' getHost() and getMcpUrl() always name
// https, while the extension, the tests and E2B_API_URL use plain http on the same address: each
// new connection's first byte tells them apart (a TLS ClientHello starts with 0x16, an HTTP request
// with a letter). TLS connections are decrypted here and handed, like plain ones, to the runtime's
// one HTTP server, so routing, timeouts and WebSocket upgrades are the same for both.
import { createServer as createNetServer, Server as NetServer, Socket } from 'node:net';
import { Server as HttpServer } from 'node:http';
import { createServer as createTlsServer, SecureContextOptions, TLSSocket } from 'node:tls';

const TLS_HANDSHAKE_RECORD = 0x16;
// A connection that says nothing is dropped after as long as the HTTP server waits for headers.
const FIRST_BYTE_TIMEOUT_MS = 60_000;

export interface HttpAndHttpsListener {
  /** Replaces the server certificate for new connections (a renewed one). */
  setCredentials(credentials: SecureContextOptions): void;
  close(): Promise<void>;
}

/** Listens on host:port; TLS connections get `credentials` (none: they are refused). */
export function listenForHttpAndHttps(
  http: HttpServer,
  credentials: SecureContextOptions | undefined,
  port: number,
  host: string,
): Promise<HttpAndHttpsListener> {
  const tls = createTlsServer({ ...credentials, ALPNProtocols: ['http/1.1'] });
  tls.on('secureConnection', (socket: TLSSocket) => http.emit('connection', socket));
  tls.on('tlsClientError', (_err, socket) => socket.destroy());
  // Every accepted connection until it closes, so that close() ends those still in a handshake too.
  const sockets = new Set<Socket>();

  const listener: NetServer = createNetServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const drop = () => socket.destroy();
    socket.on('error', drop);
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, drop);
    socket.once('data', (first: Buffer) => {
      socket.setTimeout(0);
      socket.off('timeout', drop);
      if (first[0] === TLS_HANDSHAKE_RECORD && credentials) {
        // Paused, the ClientHello stays buffered until the TLS socket takes it over; the HTTP
        // server instead reads on from the flowing stream, the first bytes included.
        socket.pause();
        socket.unshift(first);
        tls.emit('connection', socket);
      } else {
        // The HTTP server answers errors on its connections itself (a 400 for a malformed request).
        socket.off('error', drop);
        socket.unshift(first);
        http.emit('connection', socket);
      }
    });
  });

  return new Promise((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(port, host, () => {
      listener.off('error', reject);
      resolve({
        setCredentials: (next) => {
          credentials = next;
          tls.setSecureContext(next);
        },
        close: () =>
          new Promise<void>((done) => {
            listener.close(() => done());
            http.closeAllConnections();
            for (const socket of sockets) socket.destroy();
          }),
      });
    });
  });
}
