// Snapshots and forks, made to feel like branches: Take Snapshot is one click (named after the
// sandbox and the time), Take Named Snapshot… asks for a name (an existing name moves to the
// new snapshot, as a branch does), Start Sandbox from Snapshot is one click on its row, Fork
// Sandbox makes a running copy in one click. Each takes a tree row, an id, or asks. The command
// index (command-index.ts) maps their ids to these handlers.
import * as vscode from 'vscode';
import type { SnapshotSummary } from '../connection/sandbox-service';
import type { ExplorerNode } from '../views/sandbox-tree';
import { sandboxLabel } from '../views/sandbox-presentation';
import { defaultSnapshotName, snapshotLabel, snapshotNameProblem } from '../views/snapshot-names';
import { askText, pickOne } from './inputs';
import { resolveSandboxId } from './pick-sandbox';
import { Services } from './services';

export interface SnapshotCommandOptions {
  name?: string;
}
export interface DeleteSnapshotOptions {
  confirm?: boolean;
}
export interface ForkOptions {
  count?: number;
  timeoutMinutes?: number;
  activate?: boolean;
}

/** Takes a snapshot named after the sandbox and the time, or (askName) asks for the name first. */
export async function takeSnapshot(services: Services, arg: unknown, askName: boolean, given?: string): Promise<string | undefined> {
  const id = await sandboxIdOf(services, arg, 'Sandbox to snapshot');
  if (!id) return undefined;
  const suggested = defaultSnapshotName(sandboxLabel(await services.sandboxes.getInfo(id)), new Date());
  const name =
    given ??
    (askName
      ? await askText({
          title: `Snapshot of ${id}`,
          prompt: 'Name of the snapshot (name or name:tag). An existing name moves to this snapshot, as a branch does.',
          value: suggested,
          validateInput: (v) => snapshotNameProblem(v),
        })
      : suggested);
  if (!name) return undefined;
  const snapshot = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Taking snapshot "${name}" of ${id}…` },
    () => services.sandboxes.createSnapshot(id, name.trim()),
  );
  services.log.info(`snapshot ${snapshot.snapshotId} taken of ${id}`);
  vscode.window.setStatusBarMessage(`$(git-commit) Snapshot ${snapshotLabel(snapshot)} taken; the sandbox runs on`, 5000);
  services.tree.refreshSnapshots();
  return snapshot.snapshotId;
}

export async function startFromSnapshot(services: Services, arg?: unknown) {
  const snapshotId = await snapshotIdOf(services, arg, 'Snapshot to start a sandbox from');
  if (!snapshotId) return undefined;
  return vscode.commands.executeCommand<string | undefined>('e2b.createSandbox', { template: snapshotId });
}

export async function deleteSnapshot(services: Services, arg?: unknown, options?: DeleteSnapshotOptions) {
  const snapshotId = await snapshotIdOf(services, arg, 'Snapshot to delete');
  if (!snapshotId) return false;
  if (options?.confirm !== false) {
    const choice = await vscode.window.showWarningMessage(
      `Delete snapshot ${snapshotId}? Sandboxes started from it keep running.`,
      { modal: true },
      'Delete',
    );
    if (choice !== 'Delete') return false;
  }
  const deleted = await services.sandboxes.deleteSnapshot(snapshotId);
  if (!deleted) void vscode.window.showInformationMessage(`Snapshot ${snapshotId} was already gone.`);
  services.tree.refreshSnapshots();
  return deleted;
}

export async function forkSandbox(services: Services, arg?: unknown, options?: ForkOptions) {
  const id = await sandboxIdOf(services, arg, 'Sandbox to fork');
  if (!id) return undefined;
  const count = options?.count ?? 1;
  const minutes = options?.timeoutMinutes ?? vscode.workspace.getConfiguration('e2b').get<number>('create.defaultTimeoutMinutes', 15);
  const results = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Forking ${id}${count > 1 ? ` ×${count}` : ''}…` },
    () => services.sandboxes.fork(id, count, minutes * 60_000),
  );
  const forks = results.filter((r): r is string => typeof r === 'string');
  const failures = results.filter((r): r is Error => r instanceof Error);
  services.refresher.refreshNow();
  if (forks.length === 0)
    throw failures[0] ?? new Error(`Forking ${id} started no sandbox: try again, or take a snapshot and start from it`);
  services.log.info(`forked ${id} into ${forks.join(', ')}`);
  if (failures.length > 0)
    void vscode.window.showWarningMessage(`${failures.length} of ${count} forks of ${id} did not start: ${failures[0].message}`);
  if (options?.activate !== false) await services.active.set(forks[0]);
  vscode.window.setStatusBarMessage(`$(repo-forked) Forked ${id}: ${forks.join(', ')}`, 5000);
  return forks;
}

/** A sandbox row, a Snapshots row under one, an id, or a quick pick. */
async function sandboxIdOf(services: Services, arg: unknown, placeHolder: string): Promise<string | undefined> {
  const node = arg as ExplorerNode | undefined;
  if (node && typeof node === 'object' && (node.kind === 'snapshots' || node.kind === 'snapshot')) return node.sandboxId;
  return resolveSandboxId(services, arg, placeHolder);
}

/** A snapshot row, an id or name, or a pick from every snapshot (also those whose sandbox is gone). */
async function snapshotIdOf(services: Services, arg: unknown, title: string): Promise<string | undefined> {
  if (typeof arg === 'string' && arg) return arg;
  const node = arg as ExplorerNode | undefined;
  if (node?.kind === 'snapshot') return node.snapshot.snapshotId;
  const snapshots: SnapshotSummary[] = await services.sandboxes.listSnapshots();
  if (snapshots.length === 0) {
    void vscode.window.showInformationMessage('There are no snapshots yet: Take Snapshot on a running sandbox makes one.');
    return undefined;
  }
  const picked = await pickOne(
    snapshots.map((s) => ({ label: `$(git-commit) ${snapshotLabel(s)}`, detail: s.snapshotId, snapshotId: s.snapshotId })),
    { title, matchOnDetail: true },
  );
  return picked?.snapshotId;
}
