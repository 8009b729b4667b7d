// The Getting Started walkthrough as the installed extension contributes it: it opens, every step's
// page ships with the extension, and every command a step links to or completes on is registered.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXTENSION_ID, extensionApi } from './helpers';

interface WalkthroughStep {
  id: string;
  description: string;
  media: { markdown?: string };
  completionEvents?: string[];
}
interface Walkthrough {
  id: string;
  steps: WalkthroughStep[];
}

describe('Getting Started walkthrough', () => {
  it('opens, ships its pages, and links only to registered commands', async () => {
    await extensionApi();
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    const walkthroughs = (extension.packageJSON.contributes.walkthroughs ?? []) as Walkthrough[];
    assert.equal(walkthroughs.length, 1);
    const [walkthrough] = walkthroughs;
    assert.deepEqual(
      walkthrough.steps.map((s) => s.id),
      ['connect', 'create', 'notebook', 'files', 'terminal'],
    );

    // A command of an extension not activated yet (the built-in ipynb one) is contributed, not registered.
    const contributed = vscode.extensions.all.flatMap((e) =>
      ((e.packageJSON.contributes?.commands ?? []) as { command: string }[]).map((c) => c.command),
    );
    const registered = new Set([...(await vscode.commands.getCommands(true)), ...contributed]);
    for (const step of walkthrough.steps) {
      assert.ok(step.media.markdown, `step ${step.id} has a page`);
      const page = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(extension.extensionUri, step.media.markdown));
      assert.ok(page.byteLength > 0, `${step.media.markdown} is in the installed extension`);
      const linked = [...step.description.matchAll(/\(command:([\w.]+)/g)].map((m) => m[1]);
      const completing = (step.completionEvents ?? []).filter((e) => e.startsWith('onCommand:')).map((e) => e.slice('onCommand:'.length));
      assert.ok(linked.length > 0, `step ${step.id} links to a command`);
      for (const command of [...linked, ...completing])
        assert.ok(registered.has(command), `step ${step.id}: command ${command} is registered or contributed`);
    }
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', `${EXTENSION_ID}#${walkthrough.id}`, false);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});
