// The test hosts a network test's namespace holds, run inside it (ip netns exec): an HTTP and an
// HTTPS server on every address, answering with the name and address they were asked for, and a
// DNS server that resolves the test names given as NAME=IP arguments (NXDOMAIN for the rest), and
// a UDP port (9999) that prints what arrives, for tests of what gets through.
// Usage: node test-hosts-server.mjs DNS_IP CERT KEY NAME=IP...
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';

const [dnsIp, cert, key, ...entries] = process.argv.slice(2);
const names = new Map(entries.map((e) => e.split('=')).map(([n, ip]) => [n.toLowerCase(), ip]));
const answer = (req, res) => res.end(`test-host ${req.headers.host ?? ''} at ${req.socket.localAddress}\n`);
let up = 0;
const ready = () => {
  if (++up === 4) console.log('test hosts ready');
};
const udp = createSocket('udp4');
udp.on('message', (msg) => console.log(`udp ${msg.toString('latin1')}`));
udp.bind(9999, '0.0.0.0', ready);
createServer(answer).listen(80, '0.0.0.0', ready);
createTlsServer({ cert: readFileSync(cert), key: readFileSync(key) }, answer).listen(443, '0.0.0.0', ready);

const dns = createSocket('udp4');
dns.on('message', (msg, from) => {
  const labels = [];
  let at = 12;
  while (at < msg.length && msg[at] !== 0) {
    labels.push(msg.toString('latin1', at + 1, at + 1 + msg[at]));
    at += 1 + msg[at];
  }
  const questionEnd = at + 5;
  const type = msg.readUInt16BE(at + 1);
  const ip = names.get(labels.join('.').toLowerCase());
  const header = Buffer.from(msg.subarray(0, 12));
  header[2] = 0x80 | (msg[2] & 0x01) | 0x04;
  header[3] = 0x80 | (ip ? 0 : 3);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(ip && type === 1 ? 1 : 0, 6);
  header.fill(0, 8, 12);
  const parts = [header, msg.subarray(12, questionEnd)];
  if (ip && type === 1) {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(1, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(4, 10);
    ip.split('.').forEach((o, i) => {
      rr[12 + i] = Number(o);
    });
    parts.push(rr);
  }
  dns.send(Buffer.concat(parts), from.port, from.address);
});
dns.bind(53, dnsIp, ready);
