// Offers the MCP gateways of running sandboxes to VS Code's chat as MCP servers. The token is
// resolved only when VS Code starts the server, never stored in settings.
import * as vscode from 'vscode';
import { ConnectionService } from '../../connection/connection-service';
import { ConnectionProfile } from '../../connection/profile';
import { SandboxConnections } from '../../connection/sandbox-connections';
import { SandboxService } from '../../connection/sandbox-service';

export const MCP_PROVIDER_ID = 'e2b.sandboxMcpGateways';
export const MCP_TEMPLATE = 'mcp-gateway';
const MCP_PORT = 50005;

interface GatewayDefinition extends vscode.McpHttpServerDefinition {
  sandboxId?: string;
}

export class SandboxMcpDefinitions implements vscode.McpServerDefinitionProvider<vscode.McpHttpServerDefinition> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeMcpServerDefinitions = this.changed.event;

  constructor(
    private readonly connection: ConnectionService,
    private readonly service: SandboxService,
    private readonly connections: SandboxConnections,
    private readonly log: vscode.LogOutputChannel,
  ) {
    service.onDidChangeSandboxes(() => this.changed.fire());
    connection.onDidChange(() => this.changed.fire());
  }

  /**
   * VS Code asks on its own schedule and does not catch a rejection: when the server cannot be
   * reached (the explorer says so already), there are simply no gateways to offer.
   */
  async provideMcpServerDefinitions(): Promise<vscode.McpHttpServerDefinition[]> {
    try {
      return await this.gatewayDefinitions();
    } catch (err) {
      this.log.warn(`MCP gateways: cannot list sandboxes: ${(err as Error).message}`);
      return [];
    }
  }

  private async gatewayDefinitions(): Promise<vscode.McpHttpServerDefinition[]> {
    const profile = await this.connection.current();
    const page = await this.service.listPage({ states: ['running'] }, 100);
    return page.items
      .filter((s) => s.templateId === MCP_TEMPLATE)
      .map((s) => {
        const { uri, headers } = gatewayEndpoint(profile, s.sandboxId);
        const definition: GatewayDefinition = new vscode.McpHttpServerDefinition(
          `E2B sandbox ${s.sandboxId.slice(0, 8)} (MCP gateway)`,
          uri,
          headers,
        );
        definition.sandboxId = s.sandboxId;
        return definition;
      });
  }

  async resolveMcpServerDefinition(definition: vscode.McpHttpServerDefinition): Promise<vscode.McpHttpServerDefinition> {
    const sandboxId = (definition as GatewayDefinition).sandboxId;
    if (!sandboxId) return definition;
    definition.headers = { ...definition.headers, Authorization: `Bearer ${await this.token(sandboxId)}` };
    return definition;
  }

  /** URL, headers (with the token) of a sandbox's gateway: what an MCP client needs. */
  async clientConfig(sandboxId: string): Promise<{ url: string; headers: Record<string, string> }> {
    const { uri, headers } = gatewayEndpoint(await this.connection.current(), sandboxId);
    return { url: uri.toString(true), headers: { ...headers, Authorization: `Bearer ${await this.token(sandboxId)}` } };
  }

  private async token(sandboxId: string): Promise<string> {
    const sandbox = await this.connections.get(sandboxId);
    const token = await sandbox.getMcpToken();
    if (!token) throw new Error(`Sandbox ${sandboxId} has no MCP gateway token: was it created with an MCP configuration?`);
    return token;
  }
}

/**
 * E2B serves the gateway at https://50005-<id>.<domain>/mcp. The local runtime is reached at its
 * own URL, routed by the sandbox headers (host names under localhost need no DNS in browsers, but
 * do in Node).
 */
export function gatewayEndpoint(profile: ConnectionProfile, sandboxId: string): { uri: vscode.Uri; headers: Record<string, string> } {
  if (profile.kind === 'local' && profile.apiUrl) {
    return {
      uri: vscode.Uri.parse(`${profile.apiUrl}/mcp`),
      headers: { 'E2b-Sandbox-Id': sandboxId, 'E2b-Sandbox-Port': String(MCP_PORT) },
    };
  }
  return { uri: vscode.Uri.parse(`https://${MCP_PORT}-${sandboxId}.${profile.domain ?? 'e2b.app'}/mcp`), headers: {} };
}
