// getHost(port) and getMcpUrl() from the SDKs on this machine: https://<port>-<id>.<domain>,
// resolved by the system (setup.sh's myhostname) and signed by the runtime's local CA. The README's
// two examples run as written there, in a child Node process whose whole environment is what
// `source DATA_DIR/env` gives (Node reads NODE_EXTRA_CA_CERTS only at start); Python and curl
// check the bundle the env file names; and without that trust the certificate is refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Sandbox } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';
import { sleep } from './helpers/wait';

const REPO = resolve(__dirname, '../..');

/** The ```js block after `<!-- example: NAME -->` in the README. */
function readmeExample(name: string): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const match = new RegExp(`<!-- example: ${name} -->\\n\`\`\`js\\n([\\s\\S]*?)\`\`\`\\n`).exec(readme);
  assert.ok(match, `README.md has the example "${name}"`);
  return match[1];
}

/** Runs argv in an empty environment that only sources the env file first (plus `before`, shell). */
function withEnvFile(envFile: string, argv: string[], before = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      'env',
      ['-i', 'bash', '-c', `source "$0" && ${before} exec "$@"`, envFile, ...argv],
      { timeout: 120_000 },
      (err, stdout, stderr) => {
        done({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) || 1 : 0, stdout, stderr });
      },
    );
  });
}

describe('https on the sandbox domain', () => {
  let runtime: RuntimeProcess;
  let envFile: string;
  let examplesDir: string;
  let sandbox: Sandbox;
  let url: string;

  /** Runs a README example as an .mjs file next to the repository's node_modules. */
  const runExample = async (name: string) => {
    const file = join(examplesDir, `${name}.mjs`);
    writeFileSync(file, readmeExample(name));
    const result = await withEnvFile(envFile, [process.execPath, file]);
    assert.equal(result.code, 0, `the ${name} example failed:\n${result.stderr}`);
    return result.stdout;
  };

  before(async () => {
    runtime = await RuntimeProcess.start(['--image', 'base', '--image', 'mcp-gateway']);
    envFile = join(runtime.dataDir, 'env');
    examplesDir = mkdtempSync(join(tmpdir(), 'e2b-https-examples-'));
    symlinkSync(join(REPO, 'node_modules'), join(examplesDir, 'node_modules'));
    sandbox = await Sandbox.create(runtime.sdk);
    await sandbox.commands.run('mkdir -p /tmp/site && echo served-over-https > /tmp/site/hello.txt');
    await sandbox.commands.run('cd /tmp/site && python3 -m http.server 8000', { background: true });
    url = `https://${sandbox.getHost(8000)}/hello.txt`;
    // The test process itself trusts nothing extra: it waits over plain http on the same name and port.
    while ((await fetch(url.replace('https:', 'http:'))).status === 502) await sleep(100);
  });
  after(async () => {
    await runtime?.dispose();
    if (examplesDir) rmSync(examplesDir, { recursive: true, force: true });
  });

  it('the env file names the CA and a bundle that keeps the system CAs', () => {
    const env = readFileSync(envFile, 'utf8');
    const tlsDir = join(runtime.dataDir, 'tls');
    assert.match(env, new RegExp(`^export NODE_EXTRA_CA_CERTS=${tlsDir}/ca\\.crt$`, 'm'));
    for (const name of ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'])
      assert.match(env, new RegExp(`^export ${name}=${tlsDir}/ca-bundle\\.crt$`, 'm'));
    assert.equal(statSync(envFile).mode & 0o777, 0o600);
    assert.equal(sandbox.getHost(8000), `8000-${sandbox.sandboxId}.e2b.localhost:${runtime.port}`);
  });

  it("the README's getHost example fetches https://getHost(8000) from a server in the sandbox", async () => {
    const stdout = await runExample('getHost');
    assert.equal(stdout.trim(), '200 Directory listing for /');
  });

  it("the README's getMcpUrl example connects an MCP client to getMcpUrl() unchanged", async () => {
    assert.match(readmeExample('getMcpUrl'), /new URL\(sbx\.getMcpUrl\(\)\)/);
    const tools = (await runExample('getMcpUrl')).trim().split(' ');
    for (const tool of ['memory_create_entities', 'memory_read_graph', 'memory_search_nodes'])
      assert.ok(tools.includes(tool), `${tool} in ${tools.join(', ')}`);
  });

  it('without E2B_SANDBOX_URL the SDK reaches envd itself at https://49983-<id>.<domain>', async () => {
    const file = join(examplesDir, 'envd-by-host.mjs');
    writeFileSync(
      file,
      [
        "import { Sandbox } from 'e2b';",
        'const sbx = await Sandbox.create();',
        "await sbx.files.write('/tmp/by-host.txt', 'written over https');",
        "const out = await sbx.commands.run('cat /tmp/by-host.txt; echo; echo $E2B_SANDBOX_ID');",
        'console.log(out.stdout.trim().split("\\n").join(" | "), "|", sbx.sandboxId);',
        'await sbx.kill();',
      ].join('\n'),
    );
    const result = await withEnvFile(envFile, [process.execPath, file], 'unset E2B_SANDBOX_URL;');
    assert.equal(result.code, 0, result.stderr);
    const [written, idInside, id] = result.stdout.trim().split(' | ');
    assert.equal(written, 'written over https');
    assert.equal(idInside, id);
  });

  it('plain http keeps working on the same name and port', async () => {
    const res = await fetch(url.replace('https:', 'http:'));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'served-over-https\n');
  });

  it('without the env file, Node refuses the certificate', async () => {
    const script = `fetch(${JSON.stringify(url)}).then((r) => console.log('accepted', r.status), (e) => console.log(e.cause?.code ?? e.message))`;
    const result = await withEnvFile(envFile, [process.execPath, '-e', script], 'unset NODE_EXTRA_CA_CERTS;');
    assert.equal(result.stdout.trim(), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('Python (urllib; requests and httpx where installed) and curl trust it through the bundle', async () => {
    // The Python on PATH (here possibly behind a pyenv shim), run by its real path, and Debian's.
    const onPath = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
    const system = readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8').split('BEGIN CERTIFICATE').length - 1;
    const clients: Record<string, string> = {
      urllib: `import urllib.request; print(urllib.request.urlopen(${JSON.stringify(url)}).read().decode(), end='')`,
      requests: `import requests; print(requests.get(${JSON.stringify(url)}).text, end='')`,
      httpx: `import httpx; print(httpx.get(${JSON.stringify(url)}).text, end='')`,
    };
    const checked: string[] = [];
    for (const python of new Set([onPath, '/usr/bin/python3'])) {
      // The bundle adds our CA to the system's: a default context still holds all of those.
      const count = await withEnvFile(envFile, [python, '-c', 'import ssl; print(len(ssl.create_default_context().get_ca_certs()))']);
      assert.equal(Number(count.stdout), system + 1, `${python}: ${count.stderr}`);
      for (const [client, code] of Object.entries(clients)) {
        if (client !== 'urllib' && (await withEnvFile(envFile, [python, '-c', `import ${client}`])).code !== 0) continue;
        const result = await withEnvFile(envFile, [python, '-c', code]);
        assert.equal(result.stdout, 'served-over-https\n', `${python} ${client}: ${result.stderr}`);
        checked.push(`${python} ${client}`);
      }
    }
    assert.ok(
      checked.some((c) => c.endsWith(' urllib')),
      checked.join(', '),
    );
    const curl = await withEnvFile(envFile, ['/usr/bin/curl', '-sS', url]);
    assert.equal(curl.stdout, 'served-over-https\n', curl.stderr);
  });

  it('the CA key stays on the host: not in the sandbox, not in the log', async () => {
    const key = readFileSync(join(runtime.dataDir, 'tls', 'ca.key'), 'utf8');
    assert.equal(statSync(join(runtime.dataDir, 'tls', 'ca.key')).mode & 0o777, 0o600);
    const inSandbox = await sandbox.commands.run(`ls ${runtime.dataDir}/tls 2>&1; true`, { user: 'root' });
    assert.match(inSandbox.stdout, /No such file or directory/);
    const body = key
      .split('\n')
      .filter((line) => line && !line.startsWith('-----'))
      .join('');
    assert.ok(body.length > 50);
    assert.ok(!runtime.output.includes(body.slice(0, 40)) && !runtime.output.includes('PRIVATE KEY'));
  });
});
