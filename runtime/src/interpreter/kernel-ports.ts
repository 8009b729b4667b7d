// Free loopback ports for a kernel's connection file. A port is free when we pick it, but the
// kernel binds it only a few hundred milliseconds later; meanwhile another kernel's pick (a
// restart of every context at once) could get the same port, and the kernel that binds second
// exits with "Address already in use". So a port stays handed out until its kernel is gone.
import { AddressInfo, createServer, Server } from 'node:net';

const HOST = '127.0.0.1';
const handedOut = new Set<number>();

/** `count` ports that are free now and not handed out to another kernel; release them when done. */
export async function reservePorts(count: number): Promise<number[]> {
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      // Each listener stays open until the end, so the system does not offer its port again.
      const server = await listenOnAnyPort();
      held.push(server);
      const port = (server.address() as AddressInfo).port;
      if (handedOut.has(port)) continue;
      // Taken at once, before any await, so a concurrent pick skips it.
      handedOut.add(port);
      ports.push(port);
    }
  } catch (err) {
    releasePorts(ports);
    throw err;
  } finally {
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
  }
  return ports;
}

/** The kernel that had these ports is gone: they may be picked again. */
export function releasePorts(ports: readonly number[]): void {
  for (const port of ports) handedOut.delete(port);
}

function listenOnAnyPort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => resolve(server));
  });
}
