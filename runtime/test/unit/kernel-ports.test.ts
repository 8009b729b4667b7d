// The ports picked for kernels' connection files (src/interpreter/kernel-ports.ts), on real
// loopback sockets: picks made at once (every context restarted together) never share a port,
// since a kernel that binds a port another one got first exits with "Address already in use".
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { releasePorts, reservePorts } from '../../src/interpreter/kernel-ports';

describe('kernel ports', () => {
  it('never hands out a port twice until it is released, picked one after another or at once', async () => {
    // 2000 ports from a range of ~28000: picks of what is free alone would repeat dozens of them
    // (a port picked earlier is free again until its kernel binds it).
    const picks: number[][] = [];
    for (let i = 0; i < 200; i++) picks.push(await reservePorts(5));
    picks.push(...(await Promise.all(Array.from({ length: 200 }, () => reservePorts(5)))));
    const ports = picks.flat();
    try {
      assert.equal(ports.length, 2000);
      assert.equal(new Set(ports).size, ports.length, 'a port was handed out twice');
    } finally {
      picks.forEach(releasePorts);
    }
  });

  it('hands out ports nothing listens on, for the kernel to bind', async () => {
    const ports = await reservePorts(5);
    for (const port of ports)
      await new Promise<void>((resolve, reject) => {
        const server = createServer().once('error', reject);
        server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
      });
    releasePorts(ports);
  });
});
