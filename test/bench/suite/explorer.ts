// The Sandbox Explorer with many sandboxes: the tree's full refresh (the list API, page by page,
// then VS Code asking the tree for the rows that changed, then the window taking them in), and a
// redraw of every row (what a change of the list's shape costs), measured from the extension host.
import * as vscode from 'vscode';
import { Sandbox } from 'e2b';
import type { E2BExtensionApi } from '../../../src/extension';
import type { ExplorerNode, SandboxTreeProvider } from '../../../src/views/sandbox-tree';
import { sdkOptions } from '../../suite/helpers';
import { envNumber, pool, progress, round, summary, timed } from './util';
import { sleep } from '../../sleep';

/**
 * Counts the sandbox rows VS Code asks the tree for (getTreeItem): after a change event, VS Code
 * re-reads the rows that changed, or (the whole tree changed) the expanded "Running" group,
 * turning each of its sandboxes into a row.
 */
class RowProbe {
  private rows = 0;
  private wanted = 0;
  private counts: (sandboxId: string) => boolean = () => true;
  private done?: (at: number) => void;

  constructor(private readonly tree: SandboxTreeProvider) {
    const getTreeItem = tree.getTreeItem.bind(tree);
    tree.getTreeItem = (node: ExplorerNode) => {
      const item = getTreeItem(node);
      if (node.kind === 'sandbox' && this.counts(node.sandbox.sandboxId) && ++this.rows >= this.wanted && this.done) {
        const done = this.done;
        this.done = undefined;
        done(performance.now());
      }
      return item;
    };
  }

  /** Resolves with the time the `rows`th sandbox row (of those `counts` picks) was produced. */
  expect(rows: number, counts: (sandboxId: string) => boolean = () => true, timeoutMs = 120_000): Promise<number> {
    this.rows = 0;
    this.wanted = rows;
    this.counts = counts;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`VS Code asked for ${this.rows} of ${rows} sandbox rows in ${timeoutMs} ms (is the view visible?)`)),
        timeoutMs,
      );
      this.done = (at) => {
        clearTimeout(timer);
        resolve(at);
      };
    });
  }

  dispose(): void {
    delete (this.tree as { getTreeItem?: unknown }).getTreeItem;
  }
}

export async function benchExplorer(api: E2BExtensionApi) {
  const count = envNumber('E2B_BENCH_SANDBOXES', 500);
  const iterations = envNumber('E2B_BENCH_EXPLORER_ITERATIONS', 10);
  const opts = await sdkOptions();
  const ids: string[] = [];
  const tree = api.services.tree;
  let probe: RowProbe | undefined;
  try {
    progress(`explorer: creating ${count} sandboxes`);
    const creation = await timed(() =>
      pool(count, 6, async (i) => {
        const sandbox = await Sandbox.create('base', { ...opts, timeoutMs: 20 * 60_000, metadata: { bench: 'explorer', n: String(i) } });
        ids.push(sandbox.sandboxId);
        if (ids.length % 100 === 0) progress(`explorer: ${ids.length} sandboxes`);
      }),
    );

    probe = new RowProbe(tree);
    await vscode.commands.executeCommand('workbench.view.extension.e2b');
    await vscode.commands.executeCommand('e2b.sandboxes.focus');
    // Show them all: the first page, then "Load more" until there is no more.
    await tree.refresh();
    while (tree.hasMore) await tree.loadMore();
    const shown = tree.items.length;
    if (shown < count) throw new Error(`the explorer shows ${shown} of ${count} sandboxes`);
    // The rows leave for the window once the extension host is through with them; a round trip
    // to the window after that returns once the window has taken them in.
    const windowTookThem = async (round: number) => {
      await sleep(0);
      await vscode.commands.executeCommand('setContext', 'e2bBench.explorerRound', round);
    };
    // Warm up: one redraw of every row before measuring.
    const firstRender = probe.expect(shown);
    tree.refreshProcesses();
    await firstRender;

    const settle = () => sleep(500);
    const unchanged: number[] = [];
    const list: number[] = [];
    const rows: number[] = [];
    const full: number[] = [];
    const redrawRows: number[] = [];
    const redraw: number[] = [];
    for (let i = 0; i < iterations; i++) {
      // Nothing changed: the list API and the comparison, no redraw (what the periodic refresh costs).
      await settle();
      unchanged.push((await timed(() => tree.refresh())).ms);
      // One sandbox changed (its end time): the list API, then VS Code re-reads its row.
      const changed = ids[i % ids.length];
      await Sandbox.setTimeout(changed, 20 * 60_000 + (i + 1) * 1000, opts);
      await settle();
      const rendered = probe.expect(1, (id) => id === changed);
      const started = performance.now();
      const ok = await tree.refresh();
      const listed = performance.now();
      if (!ok) throw new Error(`refresh failed: ${tree.lastError?.message}`);
      const rowsAt = await rendered;
      await windowTookThem(2 * i);
      const done = performance.now();
      list.push(listed - started);
      rows.push(rowsAt - listed);
      full.push(done - started);
      // Every row redrawn (the list's shape changed: a sandbox came, went or changed state).
      await settle();
      const all = probe.expect(shown);
      const redrawStarted = performance.now();
      tree.refreshProcesses();
      const allAt = await all;
      await windowTookThem(2 * i + 1);
      redrawRows.push(allAt - redrawStarted);
      redraw.push(performance.now() - redrawStarted);
    }
    return {
      sandboxes: shown,
      page_size: vscode.workspace.getConfiguration('e2b').get<number>('explorer.pageSize'),
      create_all_s: round(creation.ms / 1000),
      refresh_unchanged: summary(unchanged),
      // list API + the changed row in the extension host + the window taking it in
      refresh_full: summary(full),
      refresh_full_list_api: summary(list),
      refresh_full_rows: summary(rows),
      refresh_full_to_window: summary(full.map((f, i) => f - list[i] - rows[i])),
      // no list API: every row in the extension host, then the window taking them in
      redraw_all_rows: summary(redraw),
      redraw_all_rows_extension_host: summary(redrawRows),
    };
  } finally {
    probe?.dispose();
    progress(`explorer: killing ${ids.length} sandboxes`);
    await pool(ids.length, 8, async (i) => {
      await Sandbox.kill(ids[i], opts).catch(() => false);
    });
    await tree.refresh();
  }
}
