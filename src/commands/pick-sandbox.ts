// Every sandbox command takes a tree node, a sandbox id, or nothing (then asks with a quick pick).
import * as vscode from 'vscode';
import type { ExplorerNode } from '../views/sandbox-tree';
import { sandboxDescription, sandboxLabel } from '../views/sandbox-presentation';
import { Services } from './services';

export async function resolveSandboxId(services: Services, arg: unknown, placeHolder: string): Promise<string | undefined> {
  if (typeof arg === 'string' && arg) return arg;
  const node = arg as ExplorerNode | undefined;
  if (node?.kind === 'sandbox') return node.sandbox.sandboxId;
  if (services.tree.items.length === 0) await services.tree.refresh();
  const picks = services.tree.items.map((s) => ({
    label: `$(${s.state === 'paused' ? 'debug-pause' : 'vm-running'}) ${sandboxLabel(s)}`,
    description: sandboxDescription(s),
    // Rows lead with a name or the template; the id tells two of the same apart and can be typed.
    detail: s.sandboxId,
    sandboxId: s.sandboxId,
  }));
  if (picks.length === 0) {
    void vscode.window
      .showInformationMessage('There are no sandboxes yet.', 'Create Sandbox')
      .then((c) => c && vscode.commands.executeCommand('e2b.createSandbox'));
    return undefined;
  }
  const active = services.active.id;
  picks.sort((a, b) => Number(b.sandboxId === active) - Number(a.sandboxId === active));
  return (await vscode.window.showQuickPick(picks, { placeHolder, matchOnDescription: true, matchOnDetail: true }))?.sandboxId;
}
