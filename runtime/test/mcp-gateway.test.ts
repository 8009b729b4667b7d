// The MCP gateway (`Sandbox.create({mcp})`, template `mcp-gateway`) through the official `e2b`
// SDK and the official MCP client (`@modelcontextprotocol/sdk`), in real containers. The client
// goes through the runtime with the E2b-Sandbox-Id/E2b-Sandbox-Port routing headers; the SDK's own
// https getMcpUrl() is connected to in sandbox-https.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, SandboxError } from 'e2b';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { RuntimeProcess } from './helpers/runtime-process';

interface TextContent {
  type: string;
  text?: string;
}

describe('MCP gateway', () => {
  let runtime: RuntimeProcess;
  let sandbox: Sandbox;
  let client: Client;

  const routing = () => ({ 'E2b-Sandbox-Id': sandbox.sandboxId, 'E2b-Sandbox-Port': '50005' });
  const text = (result: unknown) => ((result as { content: TextContent[] }).content ?? []).map((c) => c.text ?? '').join('\n');

  before(async () => {
    runtime = await RuntimeProcess.start(['--image', 'base', '--image', 'mcp-gateway']);
    sandbox = await Sandbox.create({ ...runtime.sdk, mcp: { filesystem: { paths: ['/home/user'] }, memory: {} } });
    client = new Client({ name: 'e2b-local-test', version: '0.0.1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${runtime.url}/mcp`), {
        requestInit: { headers: { ...routing(), Authorization: `Bearer ${await sandbox.getMcpToken()}` } },
      }),
    );
  });
  after(async () => {
    await client?.close().catch(() => undefined);
    await runtime?.dispose();
  });

  it('is created from the mcp-gateway template; getMcpUrl names port 50005', async () => {
    const info = await Sandbox.getInfo(sandbox.sandboxId, runtime.sdk);
    assert.equal(info.templateId, 'mcp-gateway');
    assert.match(sandbox.getMcpUrl(), new RegExp(`^https://50005-${sandbox.sandboxId}\\.[^/]+/mcp$`));
  });

  it('lists the tools of every configured server, prefixed with the server name', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const name of ['filesystem_read_text_file', 'filesystem_list_directory', 'memory_create_entities', 'memory_read_graph']) {
      assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    }
    assert.ok(tools.every((t) => t.inputSchema && typeof t.inputSchema === 'object'));
    await client.ping();
  });

  it('forwards filesystem calls: lists /home/user and reads a file written with the SDK', async () => {
    await sandbox.files.write('/home/user/mcp-hello.txt', 'hello through MCP\n');
    const listing = await client.callTool({ name: 'filesystem_list_directory', arguments: { path: '/home/user' } });
    assert.match(text(listing), /\[FILE\] mcp-hello\.txt/);
    const read = await client.callTool({ name: 'filesystem_read_text_file', arguments: { path: '/home/user/mcp-hello.txt' } });
    assert.equal(read.isError ?? false, false);
    assert.equal(text(read), 'hello through MCP\n');
    // Outside the allowed directory (default /home/user): refused by the server, as a tool error.
    const outside = await client.callTool({ name: 'filesystem_read_text_file', arguments: { path: '/etc/mcp-gateway/.token' } });
    assert.equal(outside.isError, true);
  });

  it('forwards memory calls', async () => {
    await client.callTool({
      name: 'memory_create_entities',
      arguments: { entities: [{ name: 'e2b-local', entityType: 'project', observations: ['runs sandboxes locally'] }] },
    });
    const graph = await client.callTool({ name: 'memory_read_graph', arguments: {} });
    assert.match(text(graph), /runs sandboxes locally/);
  });

  it('answers an unknown tool with an error', async () => {
    await assert.rejects(client.callTool({ name: 'nope_tool', arguments: {} }), /Unknown tool/);
  });

  it('refuses requests without the token (401)', async () => {
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    });
    const headers = { ...routing(), 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
    const none = await fetch(`${runtime.url}/mcp`, { method: 'POST', headers, body });
    assert.equal(none.status, 401);
    const wrong = await fetch(`${runtime.url}/mcp`, { method: 'POST', headers: { ...headers, Authorization: 'Bearer wrong' }, body });
    assert.equal(wrong.status, 401);
    const unauthorized = new Client({ name: 'no-token', version: '0.0.1' });
    await assert.rejects(
      unauthorized.connect(new StreamableHTTPClientTransport(new URL(`${runtime.url}/mcp`), { requestInit: { headers: routing() } })),
    );
    await unauthorized.close().catch(() => undefined);
  });

  it('getMcpToken() after Sandbox.connect reads the same token from /etc/mcp-gateway/.token', async () => {
    const token = await sandbox.getMcpToken();
    assert.ok(token);
    const again = await Sandbox.connect(sandbox.sandboxId, runtime.sdk);
    assert.equal(await again.getMcpToken(), token);
    const mode = await sandbox.commands.run('stat -c %a /etc/mcp-gateway/.token', { user: 'root' });
    assert.equal(mode.stdout.trim(), '600');
  });

  it('runs github/<owner>/<repo> entries: installCmd, then runCmd with envs, as a stdio server', async () => {
    const other = await Sandbox.create({
      ...runtime.sdk,
      mcp: {
        'github/e2b-local/memory-copy': {
          installCmd: 'mkdir -p /opt/gh && cp /opt/mcp-gateway/mcp-servers/memory.mjs /opt/gh/server.mjs',
          runCmd: '/opt/e2b/node /opt/gh/server.mjs',
          envs: { MEMORY_FILE_PATH: '/tmp/gh-memory.jsonl' },
        },
      },
    });
    const ghClient = new Client({ name: 'e2b-local-test', version: '0.0.1' });
    try {
      await ghClient.connect(
        new StreamableHTTPClientTransport(new URL(`${runtime.url}/mcp`), {
          requestInit: {
            headers: {
              'E2b-Sandbox-Id': other.sandboxId,
              'E2b-Sandbox-Port': '50005',
              Authorization: `Bearer ${await other.getMcpToken()}`,
            },
          },
        }),
      );
      const names = (await ghClient.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('github_e2b-local_memory-copy_create_entities'), names.join(', '));
      await ghClient.callTool({
        name: 'github_e2b-local_memory-copy_create_entities',
        arguments: { entities: [{ name: 'gh', entityType: 't', observations: ['x'] }] },
      });
      assert.match(await other.files.read('/tmp/gh-memory.jsonl', { user: 'root' }), /"name":"gh"/);
    } finally {
      await ghClient.close().catch(() => undefined);
      await other.kill();
    }
    await assert.rejects(
      Sandbox.create({
        ...runtime.sdk,
        mcp: { 'github/e2b-local/broken': { installCmd: 'echo cannot-install >&2; exit 3', runCmd: 'true' } },
      }),
      (err: unknown) =>
        err instanceof SandboxError && /failed to start: install command failed \(exit 3\): cannot-install/.test(err.message),
    );
  });

  it('an unknown server name fails Sandbox.create with SandboxError and leaves no sandbox behind', async () => {
    const before = (await Sandbox.list(runtime.sdk).nextItems()).map((s) => s.sandboxId).sort();
    await assert.rejects(Sandbox.create({ ...runtime.sdk, mcp: { notAServer: {} } as never }), (err: unknown) => {
      assert.ok(err instanceof SandboxError, `SandboxError, got ${String(err)}`);
      assert.match(
        (err as Error).message,
        /Failed to start MCP gateway: .*unknown MCP server: "notAServer".*supported: filesystem, memory/s,
      );
      return true;
    });
    const afterList = (await Sandbox.list(runtime.sdk).nextItems()).map((s) => s.sandboxId).sort();
    assert.deepEqual(afterList, before);
  });
});
