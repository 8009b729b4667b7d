// A network namespace a test makes to be a runtime's uplink (`--uplink netns:<name>`): test hosts
// at addresses in 198.18.0.0/15 (reserved for such tests, outside every range the runtime gives
// sandboxes) with HTTP, HTTPS and a DNS server for test names. Nothing in it routes anywhere else,
// so no packet that goes in ever leaves the machine.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const TEST_HOSTS = { one: '198.18.0.10', two: '198.18.0.11', dns: '198.18.0.53' } as const;
export const TEST_UDP_PORT = 9999;
export const TEST_NAMES = { one: 'one.hosts.test.example', two: 'two.hosts.test.example', host: 'host.hosts.test.example' } as const;
/** What TEST_NAMES.host resolves to: an address a test may give the host itself (not the netns). */
export const HOST_ALIAS_ADDRESS = '198.19.255.1';

export class TestNetns {
  private servers?: ChildProcess;
  private output = '';

  private constructor(
    readonly name: string,
    private readonly certDir: string,
  ) {}

  /** What the test hosts printed (`udp <payload>` for each datagram to port 9999). */
  get log(): string {
    return this.output;
  }

  get uplinkArg(): string[] {
    return ['--uplink', `netns:${this.name}`];
  }

  static async create(): Promise<TestNetns> {
    const name = `e2bt-${randomBytes(3).toString('hex')}`;
    const certDir = mkdtempSync(join(tmpdir(), 'e2b-test-netns-'));
    const netns = new TestNetns(name, certDir);
    execFileSync('ip', ['netns', 'add', name]);
    try {
      const ip = (...args: string[]) => execFileSync('ip', ['-n', name, ...args]);
      ip('link', 'set', 'lo', 'up');
      // On its loopback (no dummy interfaces on every kernel): reachable through the uplink link, routed nowhere.
      for (const addr of Object.values(TEST_HOSTS)) ip('addr', 'add', `${addr}/32`, 'dev', 'lo');
      mkdirSync(`/etc/netns/${name}`, { recursive: true });
      writeFileSync(`/etc/netns/${name}/resolv.conf`, `nameserver ${TEST_HOSTS.dns}\n`);
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          `/CN=${TEST_NAMES.one}`,
          '-keyout',
          join(certDir, 'key.pem'),
          '-out',
          join(certDir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      await netns.startServers();
    } catch (err) {
      netns.remove();
      throw err;
    }
    return netns;
  }

  private async startServers(): Promise<void> {
    const script = resolve(__dirname, 'test-hosts-server.mjs');
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        this.name,
        process.execPath,
        script,
        TEST_HOSTS.dns,
        join(this.certDir, 'cert.pem'),
        join(this.certDir, 'key.pem'),
        `${TEST_NAMES.one}=${TEST_HOSTS.one}`,
        `${TEST_NAMES.two}=${TEST_HOSTS.two}`,
        `${TEST_NAMES.host}=${HOST_ALIAS_ADDRESS}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.servers = child;
    await new Promise<void>((done, fail) => {
      const onData = (c: Buffer) => {
        this.output += c.toString();
        if (this.output.includes('test hosts ready')) done();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => fail(new Error(`the test hosts exited with ${code}: ${this.output}`)));
    });
  }

  /** Stops the servers and removes the namespace and its files. */
  remove(): void {
    this.servers?.kill('SIGKILL');
    try {
      execFileSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
    rmSync(`/etc/netns/${this.name}`, { recursive: true, force: true });
    rmSync(this.certDir, { recursive: true, force: true });
  }
}
