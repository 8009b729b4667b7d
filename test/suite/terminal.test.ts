// Terminals into sandboxes inside a real extension host: an interactive PTY shell, a command
// streaming into a terminal, background commands in the explorer, and reattaching to a shell.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Sandbox } from 'e2b';
import type { Services } from '../../src/commands/services';
import type { SandboxPseudoterminal } from '../../src/providers/terminal/sandbox-pty';
import type { CommandPseudoterminal } from '../../src/providers/terminal/command-pty';
import type { ExplorerNode } from '../../src/views/sandbox-tree';
import { capture, extensionApi, pokeUntil, screenshot, sdkOptions, waitFor } from './helpers';

describe('Sandbox terminals', () => {
  let services: Services;
  let sandbox: Sandbox;

  before(async () => {
    services = (await extensionApi()).services;
    sandbox = await Sandbox.create({ ...(await sdkOptions()), metadata: { suite: 'terminal' } });
  });

  after(async () => {
    await sandbox?.kill().catch(() => false);
  });

  it('opens an interactive shell: input, output with colours, resize, exit code', async () => {
    const pty = await vscode.commands.executeCommand<SandboxPseudoterminal>('e2b.openTerminal', sandbox.sandboxId);
    const out = capture(pty);
    const closed = new Promise<number | void>((resolve) => pty.onDidClose(resolve));
    const terminal = vscode.window.terminals.find((t) => t.name === `E2B ${sandbox.sandboxId.slice(0, 8)}`)!;
    await waitFor('the shell to start', () => pty.pid !== undefined);
    terminal.sendText('echo "sum=$((40+2))"; printf "\\033[32mgreen\\033[0m\\n"; whoami');
    await waitFor('the command output', () => out.text().includes('sum=42') && out.text().includes('\x1b[32mgreen'));
    assert.match(out.text(), /\buser\b/);
    await screenshot('terminal');
    pty.setDimensions({ columns: 123, rows: 33 });
    // The resize and the typed command are separate requests: ask again until the shell has the new size.
    await pokeUntil(
      'the new size',
      () => terminal.sendText('stty size'),
      () => out.text().includes('33 123'),
    );
    terminal.sendText('exit 3');
    assert.equal(await closed, 3);
  });

  it('reattaches to a shell that is still running (as after a window reload)', async () => {
    const first = services.terminals.shellPty(sandbox.sandboxId);
    const firstOut = capture(first);
    await first.open({ columns: 80, rows: 24 });
    // Echoed as typed ("$MARK"); "set=still-here" only once the shell has run the export.
    first.handleInput('export MARK=still-here; echo "set=$MARK"\r');
    await waitFor('the shell to run the export', () => firstOut.text().includes('set=still-here'));
    const pid = first.pid!;
    assert.ok((await sandbox.commands.list()).some((p) => p.pid === pid));
    assert.ok(firstOut.text().length > 0);

    const again = services.terminals.shellPty(sandbox.sandboxId, pid);
    const out = capture(again);
    await again.open({ columns: 80, rows: 24 });
    again.handleInput('echo "mark=$MARK"\r');
    await waitFor('the reattached shell to answer', () => out.text().includes('mark=still-here'));
    assert.match(out.text(), /reattached/);
    again.close();
  });

  it('runs a command whose output streams into a terminal and reports its exit code', async () => {
    const pty = await vscode.commands.executeCommand<CommandPseudoterminal>(
      'e2b.runCommand',
      sandbox.sandboxId,
      'for i in 1 2 3; do echo line$i; sleep 0.2; done; echo oops >&2; exit 4',
    );
    const out = capture(pty);
    assert.equal(await pty.exitCode, 4);
    for (const line of ['line1', 'line2', 'line3', 'oops', '[exit code 4]'])
      assert.ok(out.text().includes(line), `${line} in ${JSON.stringify(out.text())}`);
  });

  it('lists background commands under the sandbox, attaches to one and kills it', async () => {
    await sandbox.commands.run('while true; do echo tick; sleep 0.2; done', { background: true });
    await services.tree.refresh();
    const node = services.tree.items.find((s) => s.sandboxId === sandbox.sandboxId)!;
    const children = await services.tree.getChildren({ kind: 'sandbox', sandbox: node });
    const loop = children.find(
      (c): c is Extract<ExplorerNode, { kind: 'process' }> =>
        c.kind === 'process' && services.tree.getTreeItem(c).label === 'while true; do echo tick; sleep 0.2; done',
    );
    assert.ok(loop, `the loop is listed: ${JSON.stringify(children.map((c) => services.tree.getTreeItem(c).label))}`);

    const attached = await vscode.commands.executeCommand<CommandPseudoterminal>('e2b.attachProcess', loop);
    const out = capture(attached);
    await waitFor('output of the attached command', () => out.text().includes('tick'));

    assert.equal(await vscode.commands.executeCommand('e2b.killProcess', loop), true);
    assert.equal(await attached.exitCode, -1);
    assert.ok(!(await sandbox.commands.list()).some((p) => p.pid === loop.process.pid));
  });
});
