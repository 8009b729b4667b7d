// The Templates view: the team's templates, to start sandboxes from or rebuild. When they cannot
// be listed, the view says why in a row that retries when clicked (never an empty, silent view),
// above the last list it had.
import * as vscode from 'vscode';
import { SandboxService, TemplateSummary } from '../connection/sandbox-service';

/** The row shown instead of the templates when listing them failed. */
export interface TemplatesErrorNode { kind: 'error'; message: string }
export type TemplateNode = TemplateSummary | TemplatesErrorNode;

export function isErrorNode(node: TemplateNode): node is TemplatesErrorNode {
  return (node as TemplatesErrorNode).kind === 'error';
}

export class TemplatesTreeProvider implements vscode.TreeDataProvider<TemplateNode> {
  private readonly changed = new vscode.EventEmitter<TemplateNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private templates: TemplateSummary[] = [];
  error?: string;

  constructor(private readonly service: SandboxService) {}

  get items(): readonly TemplateSummary[] { return this.templates; }

  async refresh(): Promise<void> {
    try {
      this.templates = await this.service.templates();
      this.error = undefined;
    } catch (err) {
      this.error = (err as Error).message;
    }
    this.changed.fire(undefined);
  }

  getChildren(node?: TemplateNode): TemplateNode[] {
    if (node) return [];
    // The last list stays below the error: still right most of the time, and usable.
    return this.error ? [{ kind: 'error', message: this.error }, ...this.templates] : this.templates;
  }

  getTreeItem(node: TemplateNode): vscode.TreeItem {
    if (isErrorNode(node)) {
      const item = new vscode.TreeItem(`Cannot list templates: ${node.message}`);
      item.id = 'templates:error';
      item.description = 'click to retry';
      item.tooltip = `${node.message}\n\nClick to try again.`;
      item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
      item.command = { command: 'e2b.refreshTemplates', title: 'Retry' };
      item.contextValue = 'templatesError';
      return item;
    }
    const template = node;
    const name = template.aliases?.[0] ?? template.templateID;
    const item = new vscode.TreeItem(name);
    item.id = `template:${template.templateID}`;
    item.description = [template.cpuCount && `${template.cpuCount} vCPU`, template.memoryMB && `${template.memoryMB} MB`, template.buildStatus].filter(Boolean).join(' · ');
    item.tooltip = `${template.templateID}${template.updatedAt ? `\nbuilt ${new Date(template.updatedAt).toLocaleString()}` : ''}`;
    item.iconPath = new vscode.ThemeIcon('package');
    item.contextValue = 'template';
    return item;
  }
}
