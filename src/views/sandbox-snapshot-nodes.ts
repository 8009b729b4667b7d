// The "Snapshots" branch under a sandbox in the Sandbox Explorer: the snapshots taken from it,
// newest first, shown like a list of branches (its name, its tag when not the default). From a
// row: start a sandbox from it, delete it; from the sandbox: take one, fork it.
import * as vscode from 'vscode';
import type { SandboxService, SnapshotSummary } from '../connection/sandbox-service';
import { snapshotLabel } from './snapshot-names';

export type SandboxSnapshotNode =
  /** The collapsed "Snapshots" row under a sandbox. */
  { kind: 'snapshots'; sandboxId: string } | { kind: 'snapshot'; sandboxId: string; snapshot: SnapshotSummary };

type MessageNode = { kind: 'message'; text: string };

export async function snapshotChildren(
  service: SandboxService,
  node: Extract<SandboxSnapshotNode, { kind: 'snapshots' }>,
): Promise<(SandboxSnapshotNode | MessageNode)[]> {
  try {
    const snapshots = await service.listSnapshots(node.sandboxId);
    if (snapshots.length === 0) return [{ kind: 'message', text: 'No snapshots yet: Take Snapshot saves its files in one click' }];
    return snapshots.map((snapshot) => ({ kind: 'snapshot', sandboxId: node.sandboxId, snapshot }));
  } catch (err) {
    return [{ kind: 'message', text: (err as Error).message }];
  }
}

export function snapshotTreeItem(node: SandboxSnapshotNode): vscode.TreeItem {
  if (node.kind === 'snapshots') {
    const item = new vscode.TreeItem('Snapshots', vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `snapshots:${node.sandboxId}`;
    item.iconPath = new vscode.ThemeIcon('versions');
    item.tooltip = "Snapshots of this sandbox's files: start new sandboxes from them, like checking out a branch";
    item.contextValue = 'sandboxSnapshots';
    return item;
  }
  const item = new vscode.TreeItem(snapshotLabel(node.snapshot));
  item.id = `snapshot:${node.sandboxId}:${node.snapshot.snapshotId}`;
  item.description = node.snapshot.names.length === 0 ? 'unnamed' : undefined;
  item.iconPath = new vscode.ThemeIcon('git-commit');
  item.tooltip = new vscode.MarkdownString(
    `Snapshot \`${node.snapshot.snapshotId}\`\n\nStart a sandbox from it, or delete it (sandboxes started from it keep running).`,
  );
  item.contextValue = 'snapshot';
  return item;
}
