// Copy MCP Gateway URL and Token: the URL and token of a sandbox's MCP gateway, as the JSON an MCP
// client's config takes, on the clipboard.
import * as vscode from 'vscode';
import { SandboxMcpDefinitions } from '../providers/chat/mcp-definitions';
import { resolveSandboxId } from './pick-sandbox';
import { Services } from './services';

export async function copyMcpConfig(services: Services, mcp: SandboxMcpDefinitions, arg?: unknown) {
  const id = await resolveSandboxId(services, arg, 'Sandbox whose MCP gateway to copy');
  if (!id) return undefined;
  const config = await mcp.clientConfig(id);
  await vscode.env.clipboard.writeText(JSON.stringify({ type: 'http', ...config }, null, 2));
  vscode.window.setStatusBarMessage('$(copy) Copied the MCP gateway URL and token', 4000);
  return config;
}
