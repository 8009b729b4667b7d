// When a sandbox goes away (killed, timed out) while one of its files has unsaved edits, the
// edits must not be lost: VS Code keeps the document dirty when the save fails, and this offers
// to save the text somewhere else (a local file). Offered once per file, so auto-save retrying
// every few seconds does not become a popup storm. onDidOffer and onDidFail let tests see the
// offer and a failed rescue.
import * as vscode from 'vscode';
import { baseName, parseSandboxUri } from './sandbox-uri';

export interface RescueOffer {
  uri: vscode.Uri;
  sandboxId: string;
}
export interface RescueFailure {
  uri: vscode.Uri;
  message: string;
}

export class UnsavedEditsRescue implements vscode.Disposable {
  private readonly offers = new vscode.EventEmitter<RescueOffer>();
  readonly onDidOffer = this.offers.event;
  private readonly failures = new vscode.EventEmitter<RescueFailure>();
  readonly onDidFail = this.failures.event;
  private readonly offered = new Set<string>();

  /** The sandbox of `uri` is gone and a save to it failed: offer to save the edits elsewhere. */
  offer(uri: vscode.Uri): void {
    if (this.offered.has(uri.toString())) return;
    this.offered.add(uri.toString());
    const { sandboxId, path } = parseSandboxUri(uri);
    this.offers.fire({ uri, sandboxId });
    void vscode.window
      .showWarningMessage(
        `Sandbox ${sandboxId} is gone (killed or timed out), so ${path} cannot be saved there. Your unsaved changes are still in the editor.`,
        'Save As…',
      )
      .then((choice) => (choice ? this.rescue(uri) : undefined));
  }

  /**
   * saveElsewhere, for the offer's button: a failed write (a read-only folder, a full disk) is
   * shown with what to do, and the edits stay in the editor to try again.
   */
  async rescue(uri: vscode.Uri, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    try {
      return await this.saveElsewhere(uri, target);
    } catch (err) {
      const message = `Could not save the edits of ${baseName(parseSandboxUri(uri).path)} there: ${(err as Error).message}. They are still in the editor: choose another place.`;
      this.failures.fire({ uri, message });
      void vscode.window.showErrorMessage(message, 'Save As…').then((choice) => (choice ? this.rescue(uri) : undefined));
      return undefined;
    }
  }

  /**
   * Writes the open document's current text to `target` (asked with a save dialog when not
   * given, next to the workspace's local files) and opens it. Undefined when cancelled.
   */
  async saveElsewhere(uri: vscode.Uri, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (!document) return undefined;
    const localFolder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri;
    target ??= await vscode.window.showSaveDialog({
      title: `Save the edits of ${baseName(parseSandboxUri(uri).path)} elsewhere`,
      defaultUri: localFolder ? vscode.Uri.joinPath(localFolder, baseName(parseSandboxUri(uri).path)) : undefined,
    });
    if (!target) return undefined;
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(document.getText()));
    await vscode.window.showTextDocument(target, { preview: false });
    return target;
  }

  dispose(): void {
    this.offers.dispose();
    this.failures.dispose();
  }
}
