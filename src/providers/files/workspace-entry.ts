// Adding a folder to a window that is not yet a multi-root workspace (an empty window, or one
// folder) makes VS Code reload it into a new, untitled workspace, and in a browser that window
// comes back with no editors: open files, unsaved edits and sandbox terminals would be lost. So
// before the reload the open editors (with the text of unsaved ones) and the sandbox shells are
// written to the extension's global storage, and the window that comes back reopens them and
// checks that the folder is there, saying so if it is not.
import * as vscode from 'vscode';
import type { PtySession } from '../terminal/sandbox-pty';
import { nextEvent } from '../../util/next-event';

const FILE = 'workspace-entry.json';
/** A record older than this belongs to an entry that never came back: it is only reported. */
const FRESH_MS = 5 * 60_000;
/** How long the window that came back may take to list its folders before they are put back. */
const FOLDERS_GRACE_MS = 10_000;
/** Folders put back at most this often for one entry: a window that keeps dropping them is reported. */
const MAX_REPAIRS = 2;

interface CarriedFolder {
  uri: string;
  name: string;
}

interface CarriedEditor {
  uri: string;
  viewColumn: number;
  active: boolean;
  /** The unsaved text, when the editor had unsaved changes (untitled editors always do). */
  unsavedText?: string;
  languageId?: string;
}

interface WorkspaceEntry {
  folder: string;
  folderName: string;
  /** The folders the window had before: the new workspace holds them first, then `folder`. */
  folders?: CarriedFolder[];
  /** How often the window came back without the folders and they were put back. */
  repairs?: number;
  writtenAt: number;
  editors: CarriedEditor[];
  shells: PtySession[];
}

/** True when adding a folder makes VS Code reload this window. */
export function addingFolderReloads(): boolean {
  return vscode.workspace.workspaceFile === undefined;
}

export class WorkspaceEntryCarrier {
  constructor(
    private readonly storage: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  private get file(): vscode.Uri {
    return vscode.Uri.joinPath(this.storage, FILE);
  }

  /**
   * Adds `folder` to the workspace. Where that reloads the window, what is open is written down
   * first; `shells` are the sandbox terminals to bring back.
   */
  async addFolder(folder: vscode.Uri, name: string, shells: PtySession[]): Promise<void> {
    const existing = vscode.workspace.workspaceFolders ?? [];
    if (existing.some((f) => f.uri.toString() === folder.toString())) return;
    if (addingFolderReloads()) {
      const editors = this.openEditors();
      this.log.info(`adding ${folder} reloads the window: carrying ${editors.length} editor(s) and ${shells.length} shell(s) across`);
      const folders = existing.map((f) => ({ uri: f.uri.toString(), name: f.name }));
      await this.write({ folder: folder.toString(), folderName: name, folders, writtenAt: Date.now(), editors, shells });
    }
    if (!vscode.workspace.updateWorkspaceFolders(existing.length, 0, { uri: folder, name })) {
      await this.clear();
      throw new Error(
        'VS Code did not add the folder (another change to the workspace folders is still under way). Try again in a moment.',
      );
    }
  }

  /**
   * In the window that came back: reopens what was carried, restores unsaved text, and reports a
   * folder that is missing. Returns the shells to reattach.
   */
  async restore(): Promise<PtySession[]> {
    const entry = await this.read();
    if (!entry) return [];
    await this.clear();
    if (Date.now() - entry.writtenAt > FRESH_MS) return [];
    const folders = await this.foldersBack(entry);
    // The extensions restart with the folders put back; the record goes to the next activation.
    if (folders === 'restarting') return [];
    if (folders === 'missing') {
      void vscode.window.showErrorMessage(
        `The sandbox folder "${entry.folderName}" was not added to this window. Run "E2B: Open Sandbox Files in Workspace…" again.`,
      );
    }
    this.log.info(`reopening ${entry.editors.length} editor(s) and ${entry.shells.length} shell(s) carried into this workspace`);
    await this.reopen(entry.editors);
    return entry.shells;
  }

  /**
   * Whether the window that came back holds the carried folders. VS Code can bring the new
   * workspace back without its folders (seen in code-server, about one reload in twenty: the
   * window says "No Folder Opened"); then they are put back. Adding the first folder of a
   * workspace restarts the extensions (VS Code's documented behaviour; in a browser, the whole
   * window), so then the record is written again first, and the next activation reopens the
   * editors: this one could be ended at any moment.
   */
  private async foldersBack(entry: WorkspaceEntry): Promise<'present' | 'missing' | 'restarting'> {
    const wanted = [...(entry.folders ?? []), { uri: entry.folder, name: entry.folderName }];
    const missing = () => {
      const present = new Set((vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.toString()));
      return wanted.filter((f) => !present.has(f.uri));
    };
    if (missing().length > 0) await nextEvent(vscode.workspace.onDidChangeWorkspaceFolders, () => missing().length === 0, FOLDERS_GRACE_MS);
    const absent = missing();
    if (absent.length === 0) return 'present';
    const listed = vscode.workspace.workspaceFolders ?? [];
    const repairs = entry.repairs ?? 0;
    this.log.warn(
      `this window came back without ${absent.map((f) => f.uri).join(', ')} (it has [${listed.map((f) => f.uri.toString()).join(', ')}], workspace file ${vscode.workspace.workspaceFile ?? 'none'})${repairs < MAX_REPAIRS ? ': adding them again' : ''}`,
    );
    if (addingFolderReloads() || repairs >= MAX_REPAIRS) return 'missing';
    const restarts = listed.length === 0;
    if (restarts) await this.write({ ...entry, writtenAt: Date.now(), repairs: repairs + 1 });
    const added = vscode.workspace.updateWorkspaceFolders(
      listed.length,
      0,
      ...absent.map((f) => ({ uri: vscode.Uri.parse(f.uri), name: f.name })),
    );
    if (!added) {
      if (restarts) await this.clear();
      return 'missing';
    }
    if (restarts) return 'restarting';
    await nextEvent(vscode.workspace.onDidChangeWorkspaceFolders, () => missing().length === 0, FOLDERS_GRACE_MS);
    return missing().length === 0 ? 'present' : 'missing';
  }

  private openEditors(): CarriedEditor[] {
    const unsaved = new Map(vscode.workspace.textDocuments.filter((d) => d.isDirty || d.isUntitled).map((d) => [d.uri.toString(), d]));
    const editors: CarriedEditor[] = [];
    for (const group of vscode.window.tabGroups.all) {
      for (const tab of group.tabs) {
        if (!(tab.input instanceof vscode.TabInputText)) continue;
        const uri = tab.input.uri.toString();
        const document = unsaved.get(uri);
        editors.push({
          uri,
          viewColumn: group.viewColumn,
          active: tab.isActive && group.isActive,
          unsavedText: document?.getText(),
          languageId: document?.languageId,
        });
      }
    }
    return editors;
  }

  private async reopen(editors: CarriedEditor[]): Promise<void> {
    // The active editor last, so it ends up in front.
    const ordered = [...editors.filter((e) => !e.active), ...editors.filter((e) => e.active)];
    for (const editor of ordered) {
      try {
        const document = await this.openCarried(editor);
        await vscode.window.showTextDocument(document, { viewColumn: editor.viewColumn, preview: false, preserveFocus: !editor.active });
      } catch (err) {
        this.log.warn(`reopening ${editor.uri}: ${err}`);
        void vscode.window.showWarningMessage(
          `Could not reopen ${vscode.Uri.parse(editor.uri).fsPath} after adding the sandbox folder: ${(err as Error).message}`,
        );
      }
    }
  }

  private async openCarried(editor: CarriedEditor): Promise<vscode.TextDocument> {
    const uri = vscode.Uri.parse(editor.uri);
    if (uri.scheme === 'untitled')
      return vscode.workspace.openTextDocument({ content: editor.unsavedText ?? '', language: editor.languageId });
    const document = await vscode.workspace.openTextDocument(uri);
    if (editor.unsavedText !== undefined && editor.unsavedText !== document.getText()) {
      // The edits come back as edits: the file on disk is left as it was, and the editor is dirty.
      const edit = new vscode.WorkspaceEdit();
      edit.replace(uri, new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length)), editor.unsavedText);
      await vscode.workspace.applyEdit(edit);
    }
    return document;
  }

  private async write(entry: WorkspaceEntry): Promise<void> {
    await vscode.workspace.fs.createDirectory(this.storage);
    await vscode.workspace.fs.writeFile(this.file, new TextEncoder().encode(JSON.stringify(entry)));
  }

  private async read(): Promise<WorkspaceEntry | undefined> {
    try {
      return JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(this.file))) as WorkspaceEntry;
    } catch {
      return undefined;
    }
  }

  private async clear(): Promise<void> {
    await vscode.workspace.fs.delete(this.file).then(undefined, () => undefined);
  }
}
