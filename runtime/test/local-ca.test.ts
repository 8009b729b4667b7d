// The runtime's local CA (server/local-ca.ts) with the real openssl: what it makes, what it keeps
// across starts, when it makes anew, and that clients accept its certificate only for the domain.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, TLSSocket } from 'node:tls';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { domainHost, ensureLocalTls } from '../src/server/local-ca';

const logs: string[] = [];
const log = (line: string) => logs.push(line);
const fingerprint = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;

/** Whether a TLS client that trusts only `ca` accepts `cert` for `servername` (undefined) or why not (`code: message`). */
async function clientVerdict(ca: string, key: string, cert: string, servername: string): Promise<string | undefined> {
  const server = createServer({ key, cert }, (socket) => socket.end());
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  try {
    return await new Promise<string | undefined>((resolve) => {
      const socket: TLSSocket = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, servername, ca }, () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(`${err.code}: ${err.message}`));
    });
  } finally {
    server.close();
  }
}

/** Signs a certificate for `san` with the CA in `dir`, as someone holding its key could. */
function signWithCa(dir: string, san: string, days = 30): { key: string; cert: string } {
  const keyFile = join(dir, 'other.key');
  const extFile = join(dir, 'other.ext');
  writeFileSync(extFile, `subjectAltName = ${san}\nextendedKeyUsage = serverAuth\n`);
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', keyFile]);
  const csr = execFileSync('openssl', ['req', '-new', '-key', keyFile, '-subj', '/CN=other'], { stdio: 'pipe' });
  const cert = execFileSync(
    'openssl',
    [
      'x509',
      '-req',
      '-CA',
      join(dir, 'ca.crt'),
      '-CAkey',
      join(dir, 'ca.key'),
      '-set_serial',
      '7',
      '-days',
      String(days),
      '-extfile',
      extFile,
    ],
    { input: csr, stdio: 'pipe' },
  ).toString();
  const key = readFileSync(keyFile, 'utf8');
  rmSync(keyFile);
  rmSync(extFile);
  return { key, cert };
}

describe('local CA', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'e2b-local-ca-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the host of the domain, refusing what is not a DNS name', () => {
    assert.equal(domainHost('e2b.localhost:49982'), 'e2b.localhost');
    assert.equal(domainHost('Sandbox.Example.test'), 'sandbox.example.test');
    assert.equal(domainHost('127.0.0.1:49982'), undefined);
    assert.equal(domainHost('bad_name.localhost'), undefined);
  });

  it('makes a CA, keys readable by root only, and a certificate for the domain and its wildcard', async () => {
    const tls = ensureLocalTls(dir, 'e2b.localhost', log);
    assert.match(logs.join('\n'), /made a new local CA for e2b\.localhost/);
    for (const key of ['ca.key', 'server.key']) {
      const stat = statSync(join(dir, key));
      assert.equal(stat.mode & 0o777, 0o600, `${key} mode`);
      assert.equal(stat.uid, 0);
    }
    assert.ok(!logs.join('\n').includes('PRIVATE KEY'));
    const ca = new X509Certificate(readFileSync(tls.caCertFile));
    const server = new X509Certificate(tls.cert);
    assert.equal(ca.ca, true);
    assert.equal(server.ca, false);
    assert.ok(server.checkIssued(ca) && server.verify(ca.publicKey));
    assert.equal(server.subjectAltName, 'DNS:e2b.localhost, DNS:*.e2b.localhost');
    const text = execFileSync('openssl', ['x509', '-in', tls.caCertFile, '-noout', '-text']).toString();
    assert.match(
      text,
      /Name Constraints: critical\s+Permitted:\s+DNS:e2b\.localhost\s+Excluded:\s+IP:0\.0\.0\.0\/0\.0\.0\.0\s+IP:0:0:0:0:0:0:0:0\/0:0:0:0:0:0:0:0/,
    );
    const caPem = readFileSync(tls.caCertFile, 'utf8');
    assert.equal(await clientVerdict(caPem, tls.key, tls.cert, '8000-abc.e2b.localhost'), undefined);
    assert.equal(await clientVerdict(caPem, tls.key, tls.cert, 'e2b.localhost'), undefined);
    assert.match((await clientVerdict(caPem, tls.key, tls.cert, '8000-abc.other.localhost')) ?? '', /^ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('the bundle is the system CAs followed by ours', () => {
    const system = readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8');
    const bundle = readFileSync(join(dir, 'ca-bundle.crt'), 'utf8');
    const count = (pem: string) => pem.split('BEGIN CERTIFICATE').length - 1;
    assert.ok(count(system) > 100);
    assert.equal(count(bundle), count(system) + 1);
    assert.ok(bundle.startsWith(system.trimEnd()));
    assert.ok(bundle.endsWith(readFileSync(join(dir, 'ca.crt'), 'utf8')));
  });

  it('even with its key, the CA vouches for no other name and no IP address', async () => {
    const caPem = readFileSync(join(dir, 'ca.crt'), 'utf8');
    const foreign = signWithCa(dir, 'DNS:example.com');
    assert.match((await clientVerdict(caPem, foreign.key, foreign.cert, 'example.com')) ?? '', /permitted subtree violation/);
    const ip = signWithCa(dir, 'DNS:x.e2b.localhost,IP:127.0.0.1');
    assert.match((await clientVerdict(caPem, ip.key, ip.cert, 'x.e2b.localhost')) ?? '', /excluded subtree violation/);
  });

  it('keeps the CA and certificate across starts', () => {
    const ca = fingerprint(join(dir, 'ca.crt'));
    const server = fingerprint(join(dir, 'server.crt'));
    logs.length = 0;
    ensureLocalTls(dir, 'e2b.localhost', log);
    assert.equal(fingerprint(join(dir, 'ca.crt')), ca);
    assert.equal(fingerprint(join(dir, 'server.crt')), server);
    assert.deepEqual(logs, []);
  });

  it('renews a server certificate near its end, with the same CA', () => {
    const ca = fingerprint(join(dir, 'ca.crt'));
    const { key, cert } = signWithCa(dir, 'DNS:e2b.localhost,DNS:*.e2b.localhost', 5);
    writeFileSync(join(dir, 'server.key'), key, { mode: 0o600 });
    writeFileSync(join(dir, 'server.crt'), cert);
    const tls = ensureLocalTls(dir, 'e2b.localhost', log);
    assert.equal(fingerprint(join(dir, 'ca.crt')), ca);
    assert.notEqual(new X509Certificate(tls.cert).fingerprint256, new X509Certificate(cert).fingerprint256);
    assert.ok(Date.parse(new X509Certificate(tls.cert).validTo) > Date.now() + 300 * 86_400_000);
  });

  it('makes a new CA when the domain changes', async () => {
    const old = readFileSync(join(dir, 'ca.crt'), 'utf8');
    const tls = ensureLocalTls(dir, 'sandboxes.example.test', log);
    assert.notEqual(fingerprint(tls.caCertFile), new X509Certificate(old).fingerprint256);
    assert.equal(new X509Certificate(tls.cert).subjectAltName, 'DNS:sandboxes.example.test, DNS:*.sandboxes.example.test');
    // Clients that still trust the old CA do not accept the new certificate.
    assert.match(
      (await clientVerdict(old, tls.key, tls.cert, '8000-abc.sandboxes.example.test')) ?? '',
      /^UNABLE_TO_VERIFY_LEAF_SIGNATURE/,
    );
  });

  it('makes a new CA when its key became readable by others', () => {
    const ca = fingerprint(join(dir, 'ca.crt'));
    chmodSync(join(dir, 'ca.key'), 0o644);
    ensureLocalTls(dir, 'sandboxes.example.test', log);
    assert.notEqual(fingerprint(join(dir, 'ca.crt')), ca);
    assert.equal(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);
  });
});
