// Unit tests for reading the listening ports out of a sandbox's /proc/net/tcp{,6} (pure parsing;
// the tables below are what a local sandbox printed for the LISTING_SCRIPT).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAddress, isReachableAddress, listeningPortsFrom, parseListeningSockets } from '../../src/connection/listening-ports';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1FBC 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1366543 1 000000001d095216 100 0 0 10 0
   1: 00000000:C33F 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1367186 1 00000000c326287e 100 0 0 10 0
   2: 00000000:1FBB 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1367492 1 0000000083b0a97a 100 0 0 10 0
   3: 0100007F:1FBB 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 1367999 1 0000000083b0a97a 100 0 0 10 0
   4: 1500FEA9:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1368000 1 0000000083b0a97a 100 0 0 10 0
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1FBD 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1367487 1 0000000068cf5226 100 0 0 10 0
   1: 00000000000000000000000000000000:1FBE 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1366554 1 00000000eb0f23c4 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:1FBF 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1366600 1 00000000eb0f23c4 100 0 0 10 0
`;
const SOCKETS = `--sockets--
12 socket:[1366543] python3
15 socket:[1367487] python3
18 socket:[1366554] node
2 socket:[1367186] envd
`;

describe('listening ports', () => {
  it("decodes the kernel's little-endian addresses", () => {
    assert.equal(decodeAddress('0100007F'), '127.0.0.1');
    assert.equal(decodeAddress('00000000'), '0.0.0.0');
    assert.equal(decodeAddress('1500FEA9'), '169.254.0.21');
    assert.equal(decodeAddress('00000000000000000000000000000000'), '::');
    assert.equal(decodeAddress('00000000000000000000000001000000'), '::1');
    assert.equal(decodeAddress('0000000000000000FFFF00000100007F'), '::ffff:127.0.0.1');
    assert.equal(decodeAddress('B80D0120000000000000000001000000'), '2001:db8:0:0:0:0:0:1');
    assert.equal(decodeAddress('0100007'), undefined);
    assert.equal(decodeAddress('zz00007F'), undefined);
  });

  it('keeps only LISTEN sockets, with address, port and inode', () => {
    assert.deepEqual(parseListeningSockets(TCP), [
      { address: '127.0.0.1', port: 8124, inode: '1366543' },
      { address: '0.0.0.0', port: 49983, inode: '1367186' },
      { address: '0.0.0.0', port: 8123, inode: '1367492' },
      { address: '169.254.0.21', port: 8000, inode: '1368000' },
    ]);
    assert.deepEqual(parseListeningSockets(''), []);
    assert.deepEqual(parseListeningSockets('garbage\n   0: nothing here'), []);
  });

  it('offers wildcard and 127.0.0.1 listeners, which both gateways reach, and nothing else', () => {
    for (const address of ['0.0.0.0', '::', '127.0.0.1', '::ffff:127.0.0.1']) assert.ok(isReachableAddress(address), address);
    for (const address of ['::1', '169.254.0.21', '10.0.0.5', '127.0.0.2']) assert.ok(!isReachableAddress(address), address);
  });

  it('lists the ports a user can open: one per port, named, ascending, without envd', () => {
    assert.deepEqual(listeningPortsFrom(TCP + TCP6 + SOCKETS), [
      { port: 8123 },
      { port: 8124, process: 'python3' },
      { port: 8126, process: 'node' },
      { port: 8127 },
    ]);
  });

  it('lists ports without names when the descriptors could not be read, and nothing from empty tables', () => {
    assert.deepEqual(
      listeningPortsFrom(TCP).map((p) => p.port),
      [8123, 8124],
    );
    assert.deepEqual(listeningPortsFrom(`${TCP.split('\n')[0]}\n--sockets--\n`), []);
  });

  it('names a port from any of its sockets (IPv4 and IPv6 listeners on one port)', () => {
    const both = `${TCP.split('\n')[0]}
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 111 1 0 100 0 0 10 0
${TCP6.split('\n')[0]}
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 222 1 0 100 0 0 10 0
--sockets--
7 socket:[222] uvicorn
`;
    assert.deepEqual(listeningPortsFrom(both), [{ port: 8080, process: 'uvicorn' }]);
  });
});
