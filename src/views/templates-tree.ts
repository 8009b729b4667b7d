// The Templates view: the team's templates, to start sandboxes from or rebuild.
import * as vscode from 'vscode';
import { SandboxService, TemplateSummary } from '../connection/sandbox-service';

export class TemplatesTreeProvider implements vscode.TreeDataProvider<TemplateSummary> {
  private readonly changed = new vscode.EventEmitter<TemplateSummary | undefined>();
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

  getChildren(node?: TemplateSummary): TemplateSummary[] {
    return node ? [] : this.templates;
  }

  getTreeItem(template: TemplateSummary): vscode.TreeItem {
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
