// Terminals into sandboxes: a shell, a command whose output streams into a terminal, and the
// sandbox's background commands (attach, kill). The command index (command-index.ts) maps their
// ids to these handlers.
import * as vscode from 'vscode';
import type { ExplorerNode } from '../views/sandbox-tree';
import { commandLine } from '../views/sandbox-presentation';
import { resolveSandboxId } from './pick-sandbox';
import { Services } from './services';

export type ProcessNode = Extract<ExplorerNode, { kind: 'process' }>;

export async function openTerminal(services: Services, arg?: unknown) {
  const id = await resolveSandboxId(services, arg, 'Sandbox to open a terminal in');
  if (!id) return undefined;
  const { pty } = services.terminals.openShell(id);
  return pty;
}

export async function runCommand(services: Services, arg?: unknown, cmdArg?: string) {
  const id = await resolveSandboxId(services, arg, 'Sandbox to run a command in');
  if (!id) return undefined;
  const cmd =
    cmdArg ??
    (await vscode.window.showInputBox({
      title: `Run in ${id}`,
      prompt: 'Shell command to run in the sandbox (output streams into a terminal)',
      placeHolder: 'python3 -m http.server 8000',
    }));
  if (!cmd) return undefined;
  const { pty } = services.terminals.runCommand(id, cmd);
  void pty.exitCode.then(() => services.tree.refreshProcesses());
  setTimeout(() => services.tree.refreshProcesses(), 500);
  return pty;
}

export async function attachProcess(services: Services, node: ProcessNode) {
  const { pty } = services.terminals.attach(node.sandboxId, node.process.pid, processLabel(node));
  return pty;
}

export async function killProcess(services: Services, node: ProcessNode) {
  const sandbox = await services.sandboxHandles.get(node.sandboxId);
  const killed = await sandbox.commands.kill(node.process.pid);
  services.tree.refreshProcesses();
  return killed;
}

function processLabel(node: ProcessNode): string {
  return commandLine(node.process);
}
