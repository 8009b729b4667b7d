// The MCP server definition provider: it offers a sandbox's MCP gateway, and the definition it
// resolves (URL, headers, token) is one an MCP client can use.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Sandbox } from 'e2b';
import type { E2BExtensionApi } from '../../src/extension';
import { extensionApi, sdkOptions } from './helpers';

async function rpc(
  url: string,
  headers: Record<string, string>,
  body: object,
  session?: string,
): Promise<{ status: number; json?: unknown; session?: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      ...headers,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      ...(session ? { 'Mcp-Session-Id': session } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, session: res.headers.get('mcp-session-id') ?? undefined };
}

describe('MCP gateway for chat', () => {
  let api: E2BExtensionApi;
  let sandbox: Sandbox;

  before(async () => {
    api = await extensionApi();
    sandbox = await Sandbox.create({ ...(await sdkOptions()), mcp: { filesystem: {}, memory: {} } as never });
  });
  after(async () => {
    await sandbox?.kill().catch(() => false);
  });

  it('offers the sandbox gateway, and its resolved definition lets an MCP client call tools', async () => {
    const definitions = await api.mcp.provideMcpServerDefinitions();
    const definition = definitions.find((d) => d.label.includes(sandbox.sandboxId.slice(0, 8)));
    assert.ok(definition, `offered: ${definitions.map((d) => d.label)}`);
    const resolved = await api.mcp.resolveMcpServerDefinition(definition);
    assert.equal(resolved.headers.Authorization, `Bearer ${await sandbox.getMcpToken()}`);

    const url = resolved.uri.toString(true);
    const init = await rpc(url, resolved.headers, {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '1' } },
    });
    assert.equal(init.status, 200);
    assert.ok(init.session);
    await rpc(url, resolved.headers, { jsonrpc: '2.0', method: 'notifications/initialized' }, init.session);
    const tools = await rpc(url, resolved.headers, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, init.session);
    const names = (tools.json as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name);
    assert.ok(names.some((n) => n.startsWith('filesystem_')) && names.some((n) => n.startsWith('memory_')), `tools: ${names}`);

    const { Authorization: _token, ...withoutToken } = resolved.headers;
    const refused = await rpc(url, withoutToken, {
      jsonrpc: '2.0',
      id: 3,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '1' } },
    });
    assert.equal(refused.status, 401);
  });

  it('copies the URL and token for other MCP clients', async () => {
    const config = await vscode.commands.executeCommand<{ url: string; headers: Record<string, string> }>(
      'e2b.copyMcpConfig',
      sandbox.sandboxId,
    );
    assert.match(config.headers.Authorization, /^Bearer .+/);
    assert.deepEqual(JSON.parse(await vscode.env.clipboard.readText()), { type: 'http', ...config });
  });
});
