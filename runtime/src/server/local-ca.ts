// The runtime's own certificate authority, so that https://<port>-<id>.<domain> (what the SDKs'
// getHost() and getMcpUrl() give) can be verified. On first start the runtime makes a CA in
// DATA_DIR/tls (its key readable by root only) that may only vouch for the sandbox domain (an
// X.509 name constraint: even a stolen key cannot impersonate any other site), and the server
// certificate it signs for <domain> and *.<domain>. Both are kept across starts; the server
// certificate is renewed before it expires, both are made anew when the domain changes.
// Node's crypto makes the keys and checks the certificates; Debian's openssl signs them (Node
// cannot sign X.509 certificates, and openssl is already there: ca-certificates depends on it).
import { execFileSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { join } from 'node:path';

export interface LocalTls {
  /** The CA certificate clients trust (NODE_EXTRA_CA_CERTS). */
  caCertFile: string;
  /** The system's CAs plus ours, for clients that take one bundle (Python: SSL_CERT_FILE, REQUESTS_CA_BUNDLE). */
  caBundleFile: string;
  /** The server's key and certificate, PEM. */
  key: string;
  cert: string;
}

const CA_DAYS = 3650;
// Under the 398 days browsers accept; renewed at a start (or daily check) within RENEW_DAYS of its end.
const SERVER_DAYS = 397;
const RENEW_DAYS = 30;
const DAY_MS = 86_400_000;
// Where Debian (and other distributions) keep the system's CA bundle.
const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

/** The host part of a sandbox domain (`e2b.localhost:49982` → `e2b.localhost`), or undefined when it is not a DNS name. */
export function domainHost(domain: string): string | undefined {
  const host = domain.replace(/:\d+$/, '').toLowerCase();
  const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
  return host.length <= 253 && host.split('.').every((l) => label.test(l)) && !/^[\d.]+$/.test(host) ? host : undefined;
}

/** Makes sure DATA_DIR/tls holds a CA and a current server certificate for `host`; returns them. */
export function ensureLocalTls(dir: string, host: string, log: (line: string) => void): LocalTls {
  // The host goes into openssl's config and the certificates: only a plain DNS name may.
  if (domainHost(host) !== host) throw new Error(`not a DNS name: ${host}`);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const files = tlsFiles(dir);
  const current = readCurrent(files, host);
  if (!current.caUsable) {
    makeCa(files, host);
    log(`tls: made a new local CA for ${host} (${files.caCert}; clients trust it through the env file)`);
  }
  if (!current.caUsable || !current.serverUsable) signServerCertificate(files, host);
  writeBundle(files);
  return {
    caCertFile: files.caCert,
    caBundleFile: files.bundle,
    key: readFileSync(files.serverKey, 'utf8'),
    cert: readFileSync(files.serverCert, 'utf8'),
  };
}

interface TlsFiles {
  caKey: string;
  caCert: string;
  serverKey: string;
  serverCert: string;
  bundle: string;
}

function tlsFiles(dir: string): TlsFiles {
  return {
    caKey: join(dir, 'ca.key'),
    caCert: join(dir, 'ca.crt'),
    serverKey: join(dir, 'server.key'),
    serverCert: join(dir, 'server.crt'),
    bundle: join(dir, 'ca-bundle.crt'),
  };
}

function caSubject(host: string): string {
  return `CN=E2B local runtime CA for ${host}`;
}

/** Whether the CA (and the server certificate it signed) on disk can go on being used for `host`. */
function readCurrent(files: TlsFiles, host: string): { caUsable: boolean; serverUsable: boolean } {
  const soon = Date.now() + RENEW_DAYS * DAY_MS;
  let ca: X509Certificate;
  try {
    ca = new X509Certificate(readFileSync(files.caCert));
    // A key others could read may have been copied: never keep using it.
    if (!ownedByRootOnly(files.caKey) || !ca.ca || ca.subject !== caSubject(host) || Date.parse(ca.validTo) < soon)
      return { caUsable: false, serverUsable: false };
    if (!ca.checkPrivateKey(createPrivateKey(readFileSync(files.caKey)))) return { caUsable: false, serverUsable: false };
  } catch {
    return { caUsable: false, serverUsable: false };
  }
  try {
    const server = new X509Certificate(readFileSync(files.serverCert));
    const serverUsable =
      ownedByRootOnly(files.serverKey) &&
      server.checkIssued(ca) &&
      server.verify(ca.publicKey) &&
      server.checkPrivateKey(createPrivateKey(readFileSync(files.serverKey))) &&
      server.subjectAltName === `DNS:${host}, DNS:*.${host}` &&
      Date.parse(server.validTo) > soon;
    return { caUsable: true, serverUsable };
  } catch {
    return { caUsable: true, serverUsable: false };
  }
}

function ownedByRootOnly(file: string): boolean {
  const stat = statSync(file);
  return stat.uid === process.getuid?.() && (stat.mode & 0o077) === 0;
}

function makeCa(files: TlsFiles, host: string): void {
  writeKey(files.caKey);
  const cert = withConfig(files, host, (config) =>
    openssl(['req', '-x509', '-new', '-config', config, '-extensions', 'ca_ext', '-key', files.caKey, '-sha256', '-days', String(CA_DAYS)]),
  );
  writeAtomically(files.caCert, cert, 0o644);
}

function signServerCertificate(files: TlsFiles, host: string): void {
  const keyFile = `${files.serverKey}.new`;
  writeKey(keyFile);
  try {
    const cert = withConfig(files, host, (config) => {
      const request = openssl(['req', '-new', '-config', config, '-key', keyFile, '-subj', `/CN=${host}`]);
      return openssl(
        [
          'x509',
          '-req',
          '-CA',
          files.caCert,
          '-CAkey',
          files.caKey,
          '-set_serial',
          `0x${randomBytes(16).toString('hex')}`,
          '-days',
          String(SERVER_DAYS),
          '-sha256',
          '-extfile',
          config,
          '-extensions',
          'server_ext',
        ],
        request,
      );
    });
    renameSync(keyFile, files.serverKey);
    writeAtomically(files.serverCert, cert, 0o644);
  } finally {
    rmSync(keyFile, { force: true });
  }
}

/** Runs `fn` with an openssl config naming `host`, removed afterwards. */
function withConfig(files: TlsFiles, host: string, fn: (config: string) => string): string {
  const config = `${files.caCert}.cnf`;
  writeFileSync(
    config,
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      caSubject(host).replace(/^CN=/, 'CN = '),
      '[ca_ext]',
      'basicConstraints = critical,CA:TRUE,pathlen:0',
      'keyUsage = critical,keyCertSign,cRLSign',
      // Only names in the sandbox domain, never an IP address.
      `nameConstraints = critical,permitted;DNS:${host},excluded;IP:0.0.0.0/0.0.0.0,excluded;IP:0:0:0:0:0:0:0:0/0:0:0:0:0:0:0:0`,
      'subjectKeyIdentifier = hash',
      '[server_ext]',
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature',
      'extendedKeyUsage = serverAuth',
      `subjectAltName = DNS:${host},DNS:*.${host}`,
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  try {
    return fn(config);
  } finally {
    rmSync(config, { force: true });
  }
}

function openssl(args: string[], input?: string): string {
  try {
    return execFileSync('openssl', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error('openssl is not installed: run scripts/setup.sh (it installs what the runtime needs)', { cause: err });
    throw new Error(`openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim().split('\n')[0]}`, { cause: err });
  }
}

/** A new P-256 key, created readable by its owner (root) only. */
function writeKey(file: string): void {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  writeAtomically(file, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
}

function writeAtomically(file: string, text: string, mode: number): void {
  const temp = `${file}.tmp-${process.pid}`;
  rmSync(temp, { force: true });
  writeFileSync(temp, text, { mode, flag: 'wx' });
  chmodSync(temp, mode);
  renameSync(temp, file);
}

/** The system's CAs (or, without a system bundle, Node's) followed by ours: adds trust, never replaces it. */
function writeBundle(files: TlsFiles): void {
  const system = SYSTEM_BUNDLES.find((file) => existsSync(file));
  const systemPems = system ? readFileSync(system, 'utf8') : rootCertificates.join('\n');
  writeAtomically(files.bundle, `${systemPems.trimEnd()}\n${readFileSync(files.caCert, 'utf8')}`, 0o644);
}
