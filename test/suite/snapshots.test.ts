// Snapshots and forks in the Sandbox Explorer inside a real extension host, against the local
// runtime (real containers), checked from the other side with the official SDK: a Snapshots row
// under a running sandbox, one-click and named snapshots, starting sandboxes from them, deleting
// them, forking, and the messages when the sandbox cannot be snapshotted or forked.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Sandbox } from 'e2b';
import type { Services } from '../../src/commands/services';
import type { Prompt } from '../../src/commands/inputs';
import type { ExplorerNode } from '../../src/views/sandbox-tree';
import { extensionApi, QUICK_INPUT_DRAWN_MS, sandboxRow, sdkOptions, waitFor } from './helpers';
import { sleep } from '../sleep';

type Node<K extends ExplorerNode['kind']> = Extract<ExplorerNode, { kind: K }>;

describe('Sandbox snapshots and forks', () => {
  let services: Services;
  let source: Sandbox;
  const created: string[] = [];
  const prompts: Prompt[] = [];
  const shown: string[] = [];

  const sandboxNode = (sandboxId: string) => sandboxRow(services, sandboxId);

  async function snapshotsNode(sandboxId: string): Promise<Node<'snapshots'>> {
    const node = (await services.tree.getChildren(await sandboxNode(sandboxId))).find((n) => n.kind === 'snapshots');
    assert.ok(node?.kind === 'snapshots', 'a running sandbox has a Snapshots row');
    return node;
  }

  async function snapshotRows(sandboxId: string): Promise<ExplorerNode[]> {
    return services.tree.getChildren(await snapshotsNode(sandboxId));
  }

  const label = (node: ExplorerNode) => (node.kind === 'message' ? `message: ${node.text}` : String(services.tree.getTreeItem(node).label));

  /** Waits for the next prompt (its title matching) and accepts what it offers, in the real quick input. */
  async function accept(title: RegExp): Promise<Prompt> {
    const prompt = await waitFor(`a prompt titled ${title}`, () => prompts.shift());
    assert.match(prompt.title, title);
    await sleep(QUICK_INPUT_DRAWN_MS);
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    return prompt;
  }

  before(async () => {
    const api = await extensionApi();
    services = api.services;
    api.onDidPrompt((p) => prompts.push(p));
    services.errors.onDidShow((m) => shown.push(m.message));
    await vscode.commands.executeCommand('workbench.view.extension.e2b');
    source = await Sandbox.create({ ...(await sdkOptions()), timeoutMs: 600_000, metadata: { name: 'Snapshot Suite' } });
    created.push(source.sandboxId);
    await source.files.write('/home/user/branch.txt', 'main at step 1');
  });

  after(async () => {
    // The forks and sandboxes made here became the active one: the suites after this one start clean.
    for (const id of created) await services.active.forget(id);
    const opts = await sdkOptions().catch(() => undefined);
    if (!opts) return;
    await Promise.all(created.map((id) => Sandbox.kill(id, opts).catch(() => false)));
    const paginator = Sandbox.listSnapshots({ ...opts, sandboxId: source?.sandboxId });
    while (paginator.hasNext)
      for (const s of await paginator.nextItems()) await Sandbox.deleteSnapshot(s.snapshotId, opts).catch(() => false);
  });

  it('shows a Snapshots row under a running sandbox, empty until one is taken', async () => {
    const item = services.tree.getTreeItem(await snapshotsNode(source.sandboxId));
    assert.equal(item.label, 'Snapshots');
    assert.equal(item.contextValue, 'sandboxSnapshots');
    assert.equal(item.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    assert.deepEqual((await snapshotRows(source.sandboxId)).map(label), [
      'message: No snapshots yet: Take Snapshot saves its files in one click',
    ]);
  });

  it('takes a snapshot in one click, named after the sandbox and the time; the sandbox runs on', async () => {
    const snapshotId = await vscode.commands.executeCommand<string>('e2b.takeSnapshot', await sandboxNode(source.sandboxId));
    assert.match(snapshotId, /^snapshot-suite-\d{8}-\d{6}:default$/);
    const rows = await snapshotRows(source.sandboxId);
    assert.deepEqual(rows.map(label), [snapshotId.replace(/:default$/, '')]);
    const row = services.tree.getTreeItem(rows[0]);
    assert.equal(row.contextValue, 'snapshot');
    assert.deepEqual(
      (await Sandbox.listSnapshots({ ...(await sdkOptions()), sandboxId: source.sandboxId }).nextItems()).map((s) => s.snapshotId),
      [snapshotId],
    );
    assert.equal((await source.getInfo()).state, 'running');
  });

  it('takes a named snapshot from the box that offers the default name', async () => {
    await source.files.write('/home/user/branch.txt', 'main at step 2');
    prompts.length = 0;
    const done = vscode.commands.executeCommand<string>('e2b.takeNamedSnapshot', await snapshotsNode(source.sandboxId));
    const prompt = await accept(new RegExp(`Snapshot of ${source.sandboxId}`));
    assert.match(prompt.value!, /^snapshot-suite-\d{8}-\d{6}$/);
    const snapshotId = await done;
    assert.equal(snapshotId, `${prompt.value}:default`);
    // A name given moves like a branch: taken again under the same name, it points at the newer files.
    await source.files.write('/home/user/branch.txt', 'main at step 3');
    assert.equal(
      await vscode.commands.executeCommand('e2b.takeNamedSnapshot', source.sandboxId, { name: 'feature-x' }),
      'feature-x:default',
    );
    await source.files.write('/home/user/branch.txt', 'main at step 4');
    assert.equal(
      await vscode.commands.executeCommand('e2b.takeNamedSnapshot', source.sandboxId, { name: 'feature-x' }),
      'feature-x:default',
    );
    const labels = (await snapshotRows(source.sandboxId)).map(label);
    assert.equal(labels.filter((l) => l === 'feature-x').length, 1, labels.join(', '));
  });

  it("starts a sandbox from a snapshot row in one click, with the snapshot's files", async () => {
    const row = (await snapshotRows(source.sandboxId)).find(
      (n): n is Node<'snapshot'> => n.kind === 'snapshot' && n.snapshot.snapshotId === 'feature-x:default',
    );
    assert.ok(row, 'feature-x is listed');
    const id = await vscode.commands.executeCommand<string>('e2b.startFromSnapshot', row);
    assert.match(id, /^[a-z0-9]{20}$/);
    created.push(id);
    const started = await Sandbox.connect(id, await sdkOptions());
    assert.equal(await started.files.read('/home/user/branch.txt'), 'main at step 4');
    assert.equal(services.active.id, id, 'the new sandbox is the active one, as after Create Sandbox');
    assert.equal(services.tree.getTreeItem(await sandboxNode(id)).label, 'feature-x', 'its row is named after the snapshot');
  });

  it('starts a sandbox from any snapshot picked from the palette', async () => {
    prompts.length = 0;
    const done = vscode.commands.executeCommand<string>('e2b.startFromSnapshot');
    const pick = await accept(/Snapshot to start a sandbox from/);
    assert.ok(
      pick.items!.some((i) => i.endsWith('feature-x')),
      pick.items!.join(', '),
    );
    const id = await done;
    created.push(id);
    assert.match(id, /^[a-z0-9]{20}$/);
  });

  it('forks a running sandbox in one click: same files and metadata, the source runs on', async () => {
    const forks = await vscode.commands.executeCommand<string[]>('e2b.forkSandbox', await sandboxNode(source.sandboxId));
    assert.equal(forks.length, 1);
    created.push(...forks);
    const fork = await Sandbox.connect(forks[0], await sdkOptions());
    assert.equal(await fork.files.read('/home/user/branch.txt'), 'main at step 4');
    assert.deepEqual((await fork.getInfo()).metadata, { name: 'Snapshot Suite' });
    assert.equal(services.active.id, forks[0]);
    assert.equal((await source.getInfo()).state, 'running');
    const two = await vscode.commands.executeCommand<string[]>('e2b.forkSandbox', source.sandboxId, { count: 2, activate: false });
    created.push(...two);
    assert.equal(new Set(two).size, 2);
  });

  it('deletes a snapshot; sandboxes started from it keep their files', async () => {
    const row = (await snapshotRows(source.sandboxId)).find(
      (n): n is Node<'snapshot'> => n.kind === 'snapshot' && n.snapshot.snapshotId === 'feature-x:default',
    )!;
    assert.equal(await vscode.commands.executeCommand('e2b.deleteSnapshot', row, { confirm: false }), true);
    assert.ok(!(await snapshotRows(source.sandboxId)).map(label).includes('feature-x'));
    const opts = await sdkOptions();
    assert.ok(!(await Sandbox.listSnapshots(opts).nextItems()).some((s) => s.snapshotId === 'feature-x:default'));
    const fromIt = await Sandbox.connect(created[1], opts);
    assert.equal(await fromIt.files.read('/home/user/branch.txt'), 'main at step 4');
  });

  it('says what to do when a sandbox cannot be snapshotted or forked', async () => {
    const opts = await sdkOptions();
    const other = await Sandbox.create({ ...opts, timeoutMs: 120_000 });
    await other.pause();
    shown.length = 0;
    assert.equal(await vscode.commands.executeCommand('e2b.takeSnapshot', other.sandboxId), undefined);
    await waitFor('the message about the paused sandbox', () => shown.find((m) => /paused.*resume it first/i.test(m)));
    await other.kill();
    shown.length = 0;
    assert.equal(await vscode.commands.executeCommand('e2b.forkSandbox', other.sandboxId), undefined);
    await waitFor('the message about the sandbox that is gone', () => shown.find((m) => m.includes(other.sandboxId)));
  });
});
