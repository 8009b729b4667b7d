// The Templates view: the team's templates, to start sandboxes from or rebuild, each with its tags
// as child rows (the build each tag points at; start from, assign or remove a tag there). When
// templates or tags cannot be listed, the view says why in a row that retries when clicked (never
// an empty, silent view), above the last list it had.
import * as vscode from 'vscode';
import { PromiseCache } from '../util/promise-cache';
import { retryRow } from './retry-row';
import { SandboxService, TemplateSummary, TemplateTagInfo } from '../connection/sandbox-service';

/** The row shown instead of the templates (or a template's tags) when listing them failed. */
export interface TemplatesErrorNode {
  kind: 'error';
  message: string;
  template?: TemplateSummary;
}
/** A tag of a template: `name:tag` starts the build it points at. */
export interface TemplateTagNode {
  kind: 'tag';
  template: TemplateSummary;
  tag: string;
  buildId: string;
  createdAt: Date;
}
export type TemplateNode = TemplateSummary | TemplatesErrorNode | TemplateTagNode;

export const DEFAULT_TAG = 'default';

export function isErrorNode(node: TemplateNode): node is TemplatesErrorNode {
  return (node as TemplatesErrorNode).kind === 'error';
}

export function isTagNode(node: TemplateNode): node is TemplateTagNode {
  return (node as TemplateTagNode).kind === 'tag';
}

/** The name sandboxes are started by: its first alias, else its ID. */
export function templateName(template: TemplateSummary): string {
  return template.aliases?.[0] ?? template.templateID;
}

/** "name:tag", or "name" for the default tag (what the name alone means). */
export function templateReference(template: TemplateSummary, tag?: string): string {
  return tag && tag !== DEFAULT_TAG ? `${templateName(template)}:${tag}` : templateName(template);
}

export class TemplatesTreeProvider implements vscode.TreeDataProvider<TemplateNode> {
  private readonly changed = new vscode.EventEmitter<TemplateNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private templates: TemplateSummary[] = [];
  /** Tags per template ID, loaded when its row is expanded; dropped on refresh. */
  private readonly tags = new PromiseCache<TemplateTagInfo[]>();
  error?: string;

  constructor(private readonly service: SandboxService) {}

  get items(): readonly TemplateSummary[] {
    return this.templates;
  }

  async refresh(): Promise<void> {
    try {
      this.templates = await this.service.templates();
      this.error = undefined;
    } catch (err) {
      this.error = (err as Error).message;
    }
    this.tags.clear();
    this.changed.fire(undefined);
  }

  /** The tags of a template, loaded once per refresh. */
  tagsOf(template: TemplateSummary): Promise<TemplateTagInfo[]> {
    // A failure is shown once, then asked again on the next expansion or refresh.
    return this.tags.get(template.templateID, () => this.service.templateTags(templateName(template)));
  }

  getChildren(): TemplateNode[];
  getChildren(node: TemplateNode): Promise<TemplateNode[]>;
  getChildren(node?: TemplateNode): TemplateNode[] | Promise<TemplateNode[]> {
    if (!node) {
      // The last list stays below the error: still right most of the time, and usable.
      return this.error ? [{ kind: 'error', message: this.error }, ...this.templates] : this.templates;
    }
    if (isErrorNode(node) || isTagNode(node)) return Promise.resolve([]);
    return this.tagNodes(node);
  }

  private async tagNodes(template: TemplateSummary): Promise<TemplateNode[]> {
    try {
      // The default tag first: it is what the template's name alone starts.
      const tags = [...(await this.tagsOf(template))].sort(
        (a, b) => Number(b.tag === DEFAULT_TAG) - Number(a.tag === DEFAULT_TAG) || a.tag.localeCompare(b.tag),
      );
      return tags.map((t) => ({ kind: 'tag', template, tag: t.tag, buildId: t.buildId, createdAt: t.createdAt }));
    } catch (err) {
      return [{ kind: 'error', message: (err as Error).message, template }];
    }
  }

  getTreeItem(node: TemplateNode): vscode.TreeItem {
    if (isErrorNode(node)) {
      const what = node.template ? 'tags' : 'templates';
      const item = retryRow(`Cannot list ${what}: ${node.message}`, node.message, 'e2b.refreshTemplates', 'templatesError');
      item.id = node.template ? `template:${node.template.templateID}:tags-error` : 'templates:error';
      return item;
    }
    if (isTagNode(node)) {
      const reference = `${templateName(node.template)}:${node.tag}`;
      const item = new vscode.TreeItem(node.tag);
      item.id = `template:${node.template.templateID}:tag:${node.tag}`;
      item.description = `build ${node.buildId.slice(0, 8)}${node.tag === DEFAULT_TAG ? ' · what the name alone starts' : ''}`;
      item.tooltip = `${reference}\nbuild ${node.buildId}\ntagged ${node.createdAt.toLocaleString()}`;
      item.iconPath = new vscode.ThemeIcon('tag');
      // `default` cannot be removed (E2B refuses): it can only be moved by assigning it elsewhere.
      item.contextValue = node.tag === DEFAULT_TAG ? 'templateTag.default' : 'templateTag';
      return item;
    }
    const template = node;
    const item = new vscode.TreeItem(templateName(template), vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `template:${template.templateID}`;
    item.description = [
      template.cpuCount && `${template.cpuCount} vCPU`,
      template.memoryMB && `${template.memoryMB} MB`,
      template.buildStatus,
    ]
      .filter(Boolean)
      .join(' · ');
    item.tooltip = `${template.templateID}${template.updatedAt ? `\nbuilt ${new Date(template.updatedAt).toLocaleString()}` : ''}\nExpand to see its tags.`;
    item.iconPath = new vscode.ThemeIcon('package');
    item.contextValue = 'template';
    return item;
  }
}
