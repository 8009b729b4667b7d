// Sandbox egress against test hosts in a network namespace this test makes (the runtime's uplink
// is that namespace: no packet leaves the machine), through the official SDK: defaults, E2B's
// allow/deny lists by CIDR and by domain, updateNetwork, what no list can open, and what a
// sandbox's network leaves on the host.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer, Server } from 'node:http';
import { ALL_TRAFFIC, Sandbox, Template } from 'e2b';
import { RuntimeProcess, SHARED_IMAGES_DIR } from './helpers/runtime-process';
import { HOST_ALIAS_ADDRESS, TEST_HOSTS, TEST_NAMES, TEST_UDP_PORT, TestNetns } from './helpers/test-netns';
import { waitUntil } from './helpers/wait';

/** Sends one UDP datagram from a raw socket, with any source address. */
const SEND_RAW_UDP = `import socket, struct, sys
src, dst, port, payload = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].encode()
udp = struct.pack('!HHHH', 40000, port, 8 + len(payload), 0) + payload
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, socket.inet_aton(src), socket.inet_aton(dst))
socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW).sendto(ip + udp, (dst, 0))`;
const OWN_ADDRESS = `python3 -c "import socket; s = socket.socket(2, 2); s.connect(('${TEST_HOSTS.one}', 9)); print(s.getsockname()[0])"`;

function gatewayOf(ip: string): string {
  const octets = ip.split('.').map(Number);
  octets[3] = (octets[3] & ~3) + 1;
  return octets.join('.');
}

/** Exit code 0 and the body, or the failure: what a `curl` in the sandbox got. */
async function fetchFrom(sandbox: Sandbox, url: string): Promise<{ ok: boolean; out: string }> {
  const result = await sandbox.commands
    .run(`curl -sS -k -m 3 ${url}`)
    .catch((err) => err as { exitCode: number; stdout: string; stderr: string });
  return { ok: result.exitCode === 0, out: `${result.stdout}${result.stderr}` };
}

async function reaches(sandbox: Sandbox, url: string): Promise<boolean> {
  const { ok, out } = await fetchFrom(sandbox, url);
  return ok && out.startsWith('test-host');
}

function hostTraces(): string {
  const links = execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /^e2b[vu]/.test(l));
  const rules = execFileSync('ip', ['rule'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /10\.229\./.test(l));
  return [...links, ...rules].join('\n');
}

/** Whether the nftables table of the runtime with this data dir exists (named as the runtime names it). */
function hasRuleTable(dataDir: string): boolean {
  const name = `e2b_${createHash('sha256').update(realpathSync(dataDir)).digest('hex').slice(0, 8)}`;
  return execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' })
    .split('\n')
    .some((l) => l.trim() === `table inet ${name}`);
}

describe('sandbox network (egress through a test uplink)', () => {
  let netns: TestNetns;
  let runtime: RuntimeProcess;
  let hostService: Server;
  let hostServicePort = 0;
  const linksBefore = hostTraces();

  before(async () => {
    netns = await TestNetns.create();
    runtime = await RuntimeProcess.start([...netns.uplinkArg, '--warm-pool', 'base=0']);
    hostService = createServer((_req, res) => res.end('test-host on the host loopback\n'));
    await new Promise<void>((r) => hostService.listen(0, '0.0.0.0', r));
    hostServicePort = (hostService.address() as { port: number }).port;
  });
  after(async () => {
    hostService?.close();
    await runtime?.dispose();
    netns?.remove();
  });

  it('reaches a test host by address and by name by default, over HTTP and HTTPS, with DNS inside', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk });
    try {
      assert.ok(await reaches(sandbox, `http://${TEST_HOSTS.one}/`), 'by address');
      assert.ok(await reaches(sandbox, `http://${TEST_NAMES.one}/`), 'by name');
      assert.ok(await reaches(sandbox, `https://${TEST_NAMES.two}/`), 'https by name');
      const resolved = await sandbox.commands.run(`getent hosts ${TEST_NAMES.two}`);
      assert.match(resolved.stdout, new RegExp(TEST_HOSTS.two.replace(/\./g, '\\.')));
      const info = await sandbox.getInfo();
      assert.equal(info.allowInternetAccess, true);
    } finally {
      await sandbox.kill();
    }
  });

  it('reaches nothing with allowInternetAccess: false, while commands and files still work', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, allowInternetAccess: false });
    try {
      assert.equal(await reaches(sandbox, `http://${TEST_HOSTS.one}/`), false);
      assert.equal(await reaches(sandbox, `http://${TEST_NAMES.one}/`), false);
      await sandbox.files.write('/tmp/x', 'still works');
      assert.equal(await sandbox.files.read('/tmp/x'), 'still works');
    } finally {
      await sandbox.kill();
    }
  });

  it('allows and denies by CIDR, allow winning over deny as in E2B', async () => {
    const onlyOne = await Sandbox.create({ ...runtime.sdk, network: { denyOut: [ALL_TRAFFIC], allowOut: [`${TEST_HOSTS.one}/32`] } });
    const notTwo = await Sandbox.create({ ...runtime.sdk, network: { denyOut: [TEST_HOSTS.two] } });
    try {
      assert.ok(await reaches(onlyOne, `http://${TEST_HOSTS.one}/`), 'allowed inside a denied range');
      assert.equal(await reaches(onlyOne, `http://${TEST_HOSTS.two}/`), false, 'denied by ALL_TRAFFIC');
      assert.ok(await reaches(notTwo, `http://${TEST_HOSTS.one}/`), 'not on the deny list');
      assert.equal(await reaches(notTwo, `http://${TEST_HOSTS.two}/`), false, 'on the deny list');
    } finally {
      await Promise.all([onlyOne.kill(), notTwo.kill()]);
    }
  });

  it('allows by domain: HTTP Host and TLS SNI decide, and DNS answers only allowed names', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, network: { denyOut: [ALL_TRAFFIC], allowOut: [TEST_NAMES.one] } });
    try {
      assert.ok(await reaches(sandbox, `http://${TEST_NAMES.one}/`), 'http to the allowed name');
      assert.ok(await reaches(sandbox, `https://${TEST_NAMES.one}/`), 'https to the allowed name');
      assert.equal(await reaches(sandbox, `http://${TEST_NAMES.two}/`), false, 'another name does not resolve');
      assert.equal((await sandbox.commands.run(`getent hosts ${TEST_NAMES.two}`).catch((e) => e)).exitCode, 2);
      // The address of the other host with the allowed name's Host header reaches the allowed host only.
      const spoofed = await fetchFrom(sandbox, `--resolve ${TEST_NAMES.two}:80:${TEST_HOSTS.two} http://${TEST_NAMES.two}/`);
      assert.equal(spoofed.ok && spoofed.out.startsWith('test-host'), false, 'a denied name at its address');
      const other = await fetchFrom(sandbox, `-H 'Host: ${TEST_NAMES.one}' http://${TEST_HOSTS.two}/`);
      assert.ok(other.ok, other.out);
      assert.match(
        other.out,
        new RegExp(`at ${TEST_HOSTS.one.replace(/\./g, '\\.')}`),
        'the proxy connects to what the allowed name resolves to',
      );
    } finally {
      await sandbox.kill();
    }
  });

  it('never proxies an allowed name to an address of the host itself', async () => {
    // The host gets an address outside every private range, with a web server on port 80, and
    // an allowed name resolves to it: the domain proxy (which connects from the host) must refuse.
    execFileSync('ip', ['addr', 'add', `${HOST_ALIAS_ADDRESS}/32`, 'dev', 'lo']);
    let server: Server | undefined;
    try {
      server = createServer((_req, res) => res.end('test-host: a service of the host itself\n'));
      await new Promise<void>((r, j) => {
        server!.once('error', j);
        server!.listen(80, HOST_ALIAS_ADDRESS, () => r());
      });
      const sandbox = await Sandbox.create({
        ...runtime.sdk,
        network: { denyOut: [ALL_TRAFFIC], allowOut: [TEST_NAMES.host, TEST_NAMES.one] },
      });
      try {
        assert.ok(await reaches(sandbox, `http://${TEST_NAMES.one}/`), 'the proxy works for an allowed name elsewhere');
        const got = await fetchFrom(sandbox, `http://${TEST_NAMES.host}/`);
        assert.equal(got.ok && got.out.includes('of the host itself'), false, `the host's own service must stay out of reach: ${got.out}`);
        const direct = await fetchFrom(sandbox, `http://${HOST_ALIAS_ADDRESS}/`);
        assert.equal(direct.ok, false, `nor directly: ${direct.out}`);
      } finally {
        await sandbox.kill();
      }
    } finally {
      server?.close();
      execFileSync('ip', ['addr', 'del', `${HOST_ALIAS_ADDRESS}/32`, 'dev', 'lo']);
    }
  });

  it('updateNetwork on a running sandbox changes what it reaches', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk });
    try {
      assert.ok(await reaches(sandbox, `http://${TEST_HOSTS.two}/`));
      await sandbox.updateNetwork({ denyOut: [ALL_TRAFFIC] });
      assert.equal(await reaches(sandbox, `http://${TEST_HOSTS.two}/`), false, 'after denying everything');
      await sandbox.updateNetwork({ denyOut: [ALL_TRAFFIC], allowOut: [TEST_HOSTS.two] });
      assert.ok(await reaches(sandbox, `http://${TEST_HOSTS.two}/`), 'after allowing it again');
      assert.equal(await reaches(sandbox, `http://${TEST_HOSTS.one}/`), false, 'the other host stays denied');
      await sandbox.updateNetwork({});
      assert.ok(await reaches(sandbox, `http://${TEST_HOSTS.one}/`), 'after clearing the lists');
    } finally {
      await sandbox.kill();
    }
  });

  it('keeps its rules across a pause with memory and a files-only pause (which boots it on a new link)', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, network: { denyOut: [TEST_HOSTS.two] } });
    try {
      await sandbox.pause();
      await Sandbox.connect(sandbox.sandboxId, { ...runtime.sdk });
      assert.ok(await reaches(sandbox, `http://${TEST_HOSTS.one}/`), 'after a pause with memory');
      await sandbox.pause({ keepMemory: false });
      assert.deepEqual(
        hostTraces()
          .split('\n')
          .filter((l) => l.startsWith('e2bv')),
        [],
        'a files-only pause leaves no sandbox link',
      );
      await Sandbox.connect(sandbox.sandboxId, { ...runtime.sdk });
      assert.ok(await reaches(sandbox, `http://${TEST_NAMES.one}/`), 'after booting again');
      assert.equal(await reaches(sandbox, `http://${TEST_HOSTS.two}/`), false, 'still denied');
    } finally {
      await sandbox.kill();
    }
  });

  it('never reaches another sandbox, the host or the runtime, whatever the lists say', async () => {
    const everything = ['10.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'];
    const target = await Sandbox.create({ ...runtime.sdk });
    const prober = await Sandbox.create({ ...runtime.sdk, network: { allowOut: everything } });
    try {
      await target.commands.run('python3 -m http.server 8000 --bind 0.0.0.0', { background: true });
      const targetIp = (await target.commands.run(OWN_ADDRESS)).stdout.trim();
      const proberIp = (await prober.commands.run(OWN_ADDRESS)).stdout.trim();
      const gateway = gatewayOf(proberIp);
      assert.match(targetIp, /^10\.229\./);
      // The server starts in the background: ask until it answers.
      const up = await target.commands.run(
        'for i in $(seq 100); do curl -s -m 1 -o /dev/null -w %{http_code} http://127.0.0.1:8000/ && break; sleep 0.1; done',
      );
      assert.match(up.stdout, /200/, 'the server is up');
      const hostIps = execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' })
        .split('\n')
        .map((l) => /inet (\S+)\//.exec(l)?.[1])
        .filter((ip): ip is string => !!ip && !ip.startsWith('127.'));
      const urls = [
        `http://${targetIp}:8000/`,
        `http://${gateway}:${hostServicePort}/`,
        `http://${gateway}:${runtime.port}/health`,
        ...hostIps.map((ip) => `http://${ip}:${hostServicePort}/`),
        ...hostIps.map((ip) => `http://${ip}:${runtime.port}/health`),
        'http://169.254.169.254/latest/meta-data/',
      ];
      for (const url of urls) {
        const got = await fetchFrom(prober, url);
        assert.equal(got.ok, false, `${url} must be unreachable, got: ${got.out}`);
      }
      // Sandboxes lack CAP_NET_RAW, but were one to forge another sandbox's source address (sent here
      // from the host into its netns, with every capability), the host drops it.
      const pid = JSON.parse(
        execFileSync('crun', ['--root', `${runtime.dataDir}/crun`, 'state', `e2b-${prober.sandboxId}`], { encoding: 'utf8' }),
      ).pid as number;
      const tag = Date.now().toString(36);
      const sendRaw = (src: string, payload: string) =>
        execFileSync('nsenter', [
          `--net=/proc/${pid}/ns/net`,
          'python3',
          '-c',
          SEND_RAW_UDP,
          src,
          TEST_HOSTS.one,
          String(TEST_UDP_PORT),
          payload,
        ]);
      sendRaw(targetIp, `spoofed-${tag}`);
      sendRaw(proberIp, `genuine-${tag}`);
      await waitUntil('the genuine datagram to arrive', () => netns.log.includes(`udp genuine-${tag}`), 5000);
      assert.equal(netns.log.includes(`spoofed-${tag}`), false, 'a forged source address is dropped on the host');
    } finally {
      await Promise.all([target.kill(), prober.kill()]);
    }
  });

  it("gives a template build's RUN steps the same egress: they reach the test host by name", async () => {
    const name = `net-build-${Date.now().toString(36)}`;
    await Template.build(
      Template().fromTemplate('base').runCmd(`curl -sS -m 5 http://${TEST_NAMES.one}/fetched > /tmp/fetched.txt`),
      name,
      { ...runtime.sdk, cpuCount: 1, memoryMB: 512 },
    );
    const sandbox = await Sandbox.create(name, { ...runtime.sdk });
    try {
      assert.match(
        await sandbox.files.read('/tmp/fetched.txt'),
        new RegExp(`^test-host ${TEST_NAMES.one.replace(/\./g, '\\.')} at ${TEST_HOSTS.one.replace(/\./g, '\\.')}`),
      );
    } finally {
      await sandbox.kill();
    }
  });

  it("hands out a pooled sandbox under the caller's rules (a second runtime on the same uplink namespace)", async () => {
    const pooling = await RuntimeProcess.start([...netns.uplinkArg, '--warm-pool', 'base=1']);
    try {
      await pooling.waitForOutput('warm pool: 1 base sandbox(es) ready', 0);
      const closed = await Sandbox.create({ ...pooling.sdk, allowInternetAccess: false });
      await pooling.waitForOutput('warm pool: 1 base sandbox(es) ready', pooling.output.indexOf('warm pool: 1 base') + 1);
      const open = await Sandbox.create({ ...pooling.sdk });
      assert.equal(await reaches(closed, `http://${TEST_HOSTS.one}/`), false, 'the pooled sandbox handed out with internet off');
      assert.ok(await reaches(open, `http://${TEST_NAMES.one}/`), 'the next one, with the defaults');
      const onFirst = await Sandbox.create({ ...runtime.sdk });
      assert.ok(await reaches(onFirst, `http://${TEST_HOSTS.two}/`), "the first runtime's sandboxes still reach out");
      await Promise.all([closed.kill(), open.kill(), onFirst.kill()]);
    } finally {
      await pooling.dispose();
    }
  });

  it('with no uplink, a sandbox has loopback only and the runtime makes no link or table', async () => {
    const isolated = await RuntimeProcess.start(['--uplink', 'none', '--warm-pool', '0']);
    try {
      const sandbox = await Sandbox.create({ ...isolated.sdk });
      const links = await sandbox.commands.run('ls /sys/class/net');
      assert.deepEqual(links.stdout.trim().split(/\s+/), ['lo']);
      assert.equal(await reaches(sandbox, `http://${TEST_HOSTS.one}/`), false);
      await sandbox.files.write('/tmp/x', 'api and gateway work');
      assert.equal(await sandbox.files.read('/tmp/x'), 'api and gateway work');
      assert.equal(hasRuleTable(isolated.dataDir), false, 'no nftables table');
      await sandbox.kill();
    } finally {
      await isolated.dispose();
    }
  });

  it('refuses an uplink it cannot use, saying what to do, and leaves no table behind', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'e2b-runtime-test-'));
    try {
      const up = (uplink: string) =>
        spawnSync(
          process.execPath,
          [
            resolve(__dirname, '../dist/cli.js'),
            'up',
            '--listen',
            '127.0.0.1:0',
            '--data-dir',
            dataDir,
            '--images-dir',
            SHARED_IMAGES_DIR,
            '--warm-pool',
            '0',
            '--uplink',
            uplink,
          ],
          { encoding: 'utf8', timeout: 60_000 },
        );
      const bogus = up('wifi');
      assert.equal(bogus.status, 1);
      assert.match(bogus.stderr, /--uplink: "wifi" is not one of host, none, netns:<name>/);
      const missing = up('netns:e2bt-not-there');
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /there is no network namespace e2bt-not-there \(ip netns add e2bt-not-there\)/);
      assert.equal(hasRuleTable(dataDir), false, 'no table of a runtime that did not start');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('leaves no links, routing rules or chains behind after kill, and after a runtime crash and restart', async () => {
    assert.ok(hasRuleTable(runtime.dataDir), 'the running runtime has its table');
    const sandboxes = await Promise.all([0, 1].map(() => Sandbox.create({ ...runtime.sdk })));
    assert.notEqual(hostTraces(), linksBefore, 'the sandboxes have links');
    await sandboxes[0].kill();
    await runtime.crash();
    await runtime.launch();
    assert.ok(
      await reaches(await Sandbox.connect(sandboxes[1].sandboxId, { ...runtime.sdk }), `http://${TEST_HOSTS.one}/`),
      'an adopted sandbox still reaches out',
    );
    await sandboxes[1].kill();
    await runtime.stop();
    assert.equal(hostTraces(), linksBefore, 'no veth or ip rule is left');
    assert.equal(hasRuleTable(runtime.dataDir), false, 'no nft table is left');
    await runtime.launch();
  });
});
