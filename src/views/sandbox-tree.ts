// The Sandbox Explorer: sandboxes grouped by state, paged, filtered, refreshed in place.
import * as vscode from 'vscode';
import type { ProcessInfo, SandboxInfo, SandboxState } from 'e2b';
import { SandboxConnections } from '../connection/sandbox-connections';
import { SandboxService } from '../connection/sandbox-service';
import { UserFacingError } from '../connection/user-errors';
import { ErrorNotifier } from './error-notifier';
import { SandboxFilesNode, SandboxFilesNodes } from './sandbox-files-nodes';
import { SandboxSnapshotNode, snapshotChildren, snapshotTreeItem } from './sandbox-snapshot-nodes';
import { describeFilter, isFiltered, NO_FILTER, SandboxFilter } from './sandbox-filter';
import {
  commandLine,
  formatTimeLeft,
  sandboxContextValue,
  sandboxDescription,
  sandboxDetailsMarkdown,
  sandboxIcon,
  sandboxLabel,
  StaleState,
  staleMessage,
} from './sandbox-presentation';

/** A sandbox's row. The tree keeps one per listed sandbox and updates it in place (see apply). */
export interface SandboxRowNode {
  kind: 'sandbox';
  sandbox: SandboxInfo;
}

export type ExplorerNode =
  | { kind: 'group'; state: SandboxState; count: number }
  | SandboxRowNode
  | { kind: 'process'; sandboxId: string; process: ProcessInfo }
  | { kind: 'message'; text: string }
  | { kind: 'loadMore' }
  | SandboxFilesNode
  | SandboxSnapshotNode;

const FILTER_KEY = 'e2b.explorer.filter';

export class SandboxTreeProvider implements vscode.TreeDataProvider<ExplorerNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ExplorerNode | ExplorerNode[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private sandboxes: SandboxInfo[] = [];
  private nextToken?: string;
  /** What the tree's structure shows (groups, rows and their order, "load more", the error). */
  private signature = '';
  /**
   * The row of each listed sandbox, the same object from one refresh to the next: VS Code knows
   * tree elements by identity, so when only some rows changed, only those are redrawn, not all
   * of a long list. With what each row showed when it was last drawn.
   */
  private rows = new Map<string, { node: SandboxRowNode; shows: string }>();
  private error?: UserFacingError;
  private loaded = false;
  /** When the list on screen was last fetched. */
  private fetchedAt?: Date;
  /** The "Files" branch of each running sandbox. */
  private readonly files: SandboxFilesNodes;
  private readonly killSubscription: vscode.Disposable;

  constructor(
    private readonly service: SandboxService,
    private readonly connections: SandboxConnections,
    private readonly state: vscode.Memento,
    private readonly log: vscode.LogOutputChannel,
    /** Told about a refused key (shown once until it works again); other failures stay in the view. */
    private readonly notifier?: ErrorNotifier,
    /** The e2b: file system's changes, to redraw the folders shown. */
    fileChanges?: vscode.Event<vscode.FileChangeEvent[]>,
  ) {
    this.files = new SandboxFilesNodes((node) => this.changed.fire(node), fileChanges);
    this.killSubscription = service.onDidKill((sandboxId) => this.files.forgetSandbox(sandboxId));
  }

  /** Redraws the sandboxes' children (their running commands) after one was started or killed. */
  refreshProcesses(): void {
    this.changed.fire(undefined);
  }

  /** Redraws the Snapshots lists under the sandboxes after one was taken or deleted. */
  refreshSnapshots(): void {
    this.changed.fire(undefined);
  }

  /** The commands running in a sandbox (background commands and shells), as its children. */
  async processes(sandboxId: string): Promise<ProcessInfo[]> {
    const sandbox = await this.connections.get(sandboxId);
    return sandbox.commands.list();
  }

  get filter(): SandboxFilter {
    return this.state.get<SandboxFilter>(FILTER_KEY, NO_FILTER);
  }

  async setFilter(filter: SandboxFilter): Promise<void> {
    await this.state.update(FILTER_KEY, filter);
    await vscode.commands.executeCommand('setContext', 'e2b.filtered', isFiltered(filter));
    this.sandboxes = [];
    this.signature = '';
  }

  get filterDescription(): string | undefined {
    return isFiltered(this.filter) ? `Filtered: ${describeFilter(this.filter)}` : undefined;
  }

  /** Everything currently listed (for quick picks and tests). */
  get items(): readonly SandboxInfo[] {
    return this.sandboxes;
  }
  get lastError(): UserFacingError | undefined {
    return this.error;
  }
  get hasMore(): boolean {
    return this.nextToken !== undefined;
  }

  /** Set while the list on screen is an old one that could not be refreshed. */
  get stale(): StaleState | undefined {
    if (!this.error || !this.fetchedAt || this.sandboxes.length === 0) return undefined;
    return { since: this.fetchedAt, offline: this.error.kind === 'unreachable' };
  }

  /**
   * The view's message line: a connection problem (saying which list is shown meanwhile), else
   * the active filter.
   */
  get viewMessage(): string | undefined {
    if (!this.error) return this.filterDescription;
    const stale = this.stale;
    return stale ? staleMessage(stale, this.error.message) : this.error.message;
  }

  private get groupByState(): boolean {
    return vscode.workspace.getConfiguration('e2b').get<boolean>('explorer.groupByState', true);
  }

  private get pageSize(): number {
    return vscode.workspace.getConfiguration('e2b').get<number>('explorer.pageSize', 50);
  }

  /**
   * Re-fetches as many sandboxes as are shown now (at least one page). The old list stays on
   * screen until the new one is in, and only what changed is redrawn (see apply).
   */
  async refresh(): Promise<boolean> {
    const wanted = Math.max(this.sandboxes.length, this.pageSize);
    try {
      const fetched: SandboxInfo[] = [];
      let token: string | undefined;
      do {
        const page = await this.service.listPage(this.filter, Math.min(100, this.pageSize), token);
        fetched.push(...page.items);
        token = page.nextToken;
      } while (token && fetched.length < wanted);
      this.fetchedAt = new Date();
      this.apply(fetched, token, undefined);
      this.notifier?.resolved('auth');
      return true;
    } catch (err) {
      this.log.warn(`explorer refresh failed: ${(err as Error).message}`);
      const error = err instanceof UserFacingError ? err : new UserFacingError((err as Error).message);
      // Only a refused key needs the user: say so once. Outages and rate limits are a state of
      // the view (its message line), retried in the background, never a popup per poll.
      if (error.kind === 'auth') this.notifier?.showCondition('auth', error);
      this.apply(this.sandboxes, this.nextToken, error);
      return false;
    }
  }

  async loadMore(): Promise<void> {
    if (!this.nextToken) return;
    const page = await this.service.listPage(this.filter, Math.min(100, this.pageSize), this.nextToken);
    this.fetchedAt ??= new Date();
    this.apply(
      [...this.sandboxes, ...page.items.filter((s) => !this.sandboxes.some((o) => o.sandboxId === s.sandboxId))],
      page.nextToken,
      undefined,
    );
  }

  private apply(sandboxes: SandboxInfo[], nextToken: string | undefined, error: UserFacingError | undefined): void {
    const signature = JSON.stringify([
      this.groupByState,
      nextToken !== undefined,
      error?.message,
      sandboxes.map((s) => [s.sandboxId, s.state]),
    ]);
    this.sandboxes = sandboxes;
    this.nextToken = nextToken;
    this.error = error;
    void vscode.commands.executeCommand('setContext', 'e2b.connectionError', error ? error.message : '');
    void vscode.commands.executeCommand('setContext', 'e2b.connected', !error);
    const now = new Date();
    const rows = new Map<string, { node: SandboxRowNode; shows: string }>();
    const changedRows: SandboxRowNode[] = [];
    for (const sandbox of sandboxes) {
      const shows = rowContent(sandbox, now);
      const known = this.rows.get(sandbox.sandboxId);
      const node: SandboxRowNode = known?.node ?? { kind: 'sandbox', sandbox };
      node.sandbox = sandbox;
      if (known && known.shows !== shows) changedRows.push(node);
      rows.set(sandbox.sandboxId, { node, shows });
    }
    this.rows = rows;
    // Most rows changed (their minute ticked over together): one redraw of the whole tree is less work.
    if (signature !== this.signature || !this.loaded || changedRows.length * 2 > sandboxes.length) {
      this.signature = signature;
      this.loaded = true;
      this.changed.fire(undefined);
    } else if (changedRows.length > 0) {
      this.changed.fire(changedRows);
    }
  }

  /** The row of a listed sandbox (the same object while it is listed). */
  private rowOf(sandbox: SandboxInfo): SandboxRowNode {
    return this.rows.get(sandbox.sandboxId)?.node ?? { kind: 'sandbox', sandbox };
  }

  async getChildren(node?: ExplorerNode): Promise<ExplorerNode[]> {
    if (node?.kind === 'sandbox') {
      const id = node.sandbox.sandboxId;
      // Browsing a paused sandbox would need it resumed: that is the user's call, not a click's.
      if (node.sandbox.state !== 'running') return [{ kind: 'message', text: 'Resume the sandbox to browse its files' }];
      const files = this.files.root(id);
      const snapshots: ExplorerNode = { kind: 'snapshots', sandboxId: id };
      try {
        const processes = await this.processes(id);
        if (processes.length === 0) return [files, snapshots, { kind: 'message', text: 'No running commands' }];
        return [files, snapshots, ...processes.map((process): ExplorerNode => ({ kind: 'process', sandboxId: id, process }))];
      } catch (err) {
        return [files, snapshots, { kind: 'message', text: (err as Error).message }];
      }
    }
    if (node?.kind === 'snapshots') return snapshotChildren(this.service, node);
    if (node?.kind === 'files' || node?.kind === 'file') return this.files.children(node);
    return this.children(node);
  }

  /** The synchronous part of the tree: groups, sandboxes, "load more". */
  children(node?: ExplorerNode): ExplorerNode[] {
    if (node?.kind === 'group') return this.sandboxes.filter((s) => s.state === node.state).map((sandbox) => this.rowOf(sandbox));
    if (node) return [];
    if (this.error && this.sandboxes.length === 0) return [];
    const more: ExplorerNode[] = this.nextToken ? [{ kind: 'loadMore' }] : [];
    if (!this.groupByState) return [...this.sandboxes.map((sandbox): ExplorerNode => this.rowOf(sandbox)), ...more];
    const groups: ExplorerNode[] = (['running', 'paused'] as SandboxState[])
      .map((state) => ({ kind: 'group' as const, state, count: this.sandboxes.filter((s) => s.state === state).length }))
      .filter((g) => g.count > 0);
    return [...groups, ...more];
  }

  getTreeItem(node: ExplorerNode): vscode.TreeItem {
    switch (node.kind) {
      case 'files':
      case 'file':
        return this.files.treeItem(node);
      case 'snapshots':
      case 'snapshot':
        return snapshotTreeItem(node);
      case 'group': {
        const item = new vscode.TreeItem(node.state === 'running' ? 'Running' : 'Paused', vscode.TreeItemCollapsibleState.Expanded);
        item.id = `group:${node.state}`;
        item.description = String(node.count);
        item.contextValue = `group.${node.state}`;
        return item;
      }
      case 'loadMore': {
        const item = new vscode.TreeItem('Load more…');
        item.id = 'load-more';
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = { command: 'e2b.loadMore', title: 'Load More Sandboxes' };
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(node.text);
        item.iconPath = new vscode.ThemeIcon('info');
        return item;
      }
      case 'process': {
        const { cmd, args, tag } = node.process;
        const item = new vscode.TreeItem(commandLine(node.process));
        item.id = `process:${node.sandboxId}:${node.process.pid}`;
        item.description = `pid ${node.process.pid}${tag ? ` · ${tag}` : ''}`;
        item.tooltip = `${[cmd, ...args].join(' ')}\npid ${node.process.pid}${node.process.cwd ? `\ncwd ${node.process.cwd}` : ''}`;
        item.iconPath = new vscode.ThemeIcon(args.includes('-i') ? 'terminal' : 'gear');
        item.contextValue = 'process';
        return item;
      }
      case 'sandbox': {
        const s = node.sandbox;
        const stale = this.stale;
        const item = new vscode.TreeItem(
          sandboxLabel(s),
          s.state === 'running' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
        );
        // Stable ids keep selection and focus across refreshes.
        item.id = `sandbox:${s.sandboxId}`;
        item.description = sandboxDescription(s, new Date(), stale);
        item.contextValue = sandboxContextValue(s.state);
        item.iconPath = new vscode.ThemeIcon(
          sandboxIcon(s.state, !!stale),
          s.state === 'running' && !stale ? new vscode.ThemeColor('testing.iconPassed') : undefined,
        );
        item.tooltip = new vscode.MarkdownString(sandboxDetailsMarkdown(s, new Date(), stale));
        return item;
      }
    }
  }

  /** On hover: the sandbox's details (its network rules are not in list entries), read when needed. */
  async resolveTreeItem(item: vscode.TreeItem, node: ExplorerNode): Promise<vscode.TreeItem> {
    if (node.kind !== 'sandbox' || this.stale) return item;
    try {
      const info = await this.service.getInfo(node.sandbox.sandboxId);
      item.tooltip = new vscode.MarkdownString(sandboxDetailsMarkdown(info));
    } catch {
      // The list's details stay: the row itself shows when the sandbox is gone.
    }
    return item;
  }

  dispose(): void {
    this.files.dispose();
    this.killSubscription.dispose();
    this.changed.dispose();
  }
}

/**
 * What a sandbox's row shows, as one string to compare: its time left as the row words it, and
 * everything the label, description, icon and tooltip are made of. (Whether the list is stale
 * changes every row: that is in the tree's signature.)
 */
function rowContent(sandbox: SandboxInfo, now: Date): string {
  return `${formatTimeLeft(sandbox.endAt, now)}\n${JSON.stringify(sandbox)}`;
}
