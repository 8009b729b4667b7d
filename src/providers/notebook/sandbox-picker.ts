// The quick pick that gives a document its code-interpreter sandbox: the one made for it earlier
// (first, when it still runs), a new one, or another running code-interpreter sandbox. Shown when
// the E2B kernel is selected for a notebook (as the Jupyter extension picks a kernel there), from
// the notebook toolbar, and when a cell runs with no sandbox chosen.
import * as vscode from 'vscode';
import type { SandboxInfo } from 'e2b';
import { SandboxService } from '../../connection/sandbox-service';
import { formatMetadata, formatTimeLeft, OWNER_METADATA, sandboxOwner } from '../../views/sandbox-presentation';
import { InterpreterSessions, INTERPRETER_TEMPLATE, INTERPRETER_TIMEOUT_MINUTES, SandboxOwner } from './interpreter-sessions';

interface SandboxItem extends vscode.QuickPickItem {
  sandboxId?: string;
}

export interface PickerTarget {
  /** The sessions key (the notebook's URI). */
  key: string;
  owner: SandboxOwner;
  /** Saved documents only: an untitled notebook's URI is reused by the next untitled one. */
  matchOwnerUri: boolean;
}

export class SandboxPicker {
  constructor(
    private readonly service: SandboxService,
    private readonly sessions: InterpreterSessions,
    private readonly log: vscode.LogOutputChannel,
    /** Environment variables a new sandbox gets (e2b.create.envVars). */
    private readonly createEnvs: () => Record<string, string>,
  ) {}

  /**
   * Asks, assigns the choice (creating a sandbox if asked to) and returns its id; undefined when
   * dismissed, or when the document got a sandbox some other way meanwhile (then the picker closes).
   */
  async pick(target: PickerTarget): Promise<string | undefined> {
    const quickPick = vscode.window.createQuickPick<SandboxItem>();
    quickPick.title = `Sandbox for ${target.owner.name}`;
    quickPick.placeholder = 'Cells run in this sandbox; its kernels keep their state between cells';
    quickPick.ignoreFocusOut = true;
    quickPick.busy = true;
    const before = this.sessions.sandboxIdOf(target.key);
    const listeners: vscode.Disposable[] = [];
    const picked = new Promise<SandboxItem | undefined>((resolve) => {
      listeners.push(
        quickPick.onDidAccept(() => {
          if (quickPick.selectedItems[0]) resolve(quickPick.selectedItems[0]);
        }),
        quickPick.onDidHide(() => resolve(undefined)),
        this.sessions.onDidChangeAssignment((key) => {
          const now = this.sessions.sandboxIdOf(key);
          if (key === target.key && now && now !== before) resolve(undefined);
        }),
      );
    });
    quickPick.show();
    void this.items(target).then((items) => {
      quickPick.items = items;
      quickPick.busy = false;
    });
    const choice = await picked;
    for (const l of listeners) l.dispose();
    quickPick.dispose();
    if (!choice) {
      const now = this.sessions.sandboxIdOf(target.key);
      return now !== before ? now : undefined;
    }
    if (choice.sandboxId) {
      await this.sessions.assign(
        target.key,
        choice.sandboxId,
        choice.sandboxId === before ? this.sessions.owns(target.key) : isOwnedBy(target, choice),
      );
      return choice.sandboxId;
    }
    return this.sessions.createFor(target.key, target.owner, this.createEnvs());
  }

  private async items(target: PickerTarget): Promise<SandboxItem[]> {
    const create: SandboxItem = {
      label: '$(add) New code-interpreter sandbox',
      description: `${INTERPRETER_TEMPLATE}, ${INTERPRETER_TIMEOUT_MINUTES} minutes, for ${target.owner.name}`,
    };
    let running: SandboxInfo[] = [];
    try {
      running = (await this.service.listPage({ states: ['running'] }, 100)).items.filter(
        (s) => s.templateId === INTERPRETER_TEMPLATE || s.name === INTERPRETER_TEMPLATE,
      );
    } catch (err) {
      this.log.warn(`sandbox picker: cannot list running sandboxes: ${(err as Error).message}`);
    }
    const own = running.filter((s) => target.matchOwnerUri && s.metadata[OWNER_METADATA.uri] === target.owner.uri);
    const others = running.filter((s) => !own.includes(s));
    const item = (s: SandboxInfo, mine: boolean): SandboxItem & { owner?: string } => ({
      label: `$(vm-running) ${s.sandboxId}`,
      description: [mine ? `this notebook's sandbox` : (sandboxOwner(s.metadata) ?? formatMetadata(s.metadata)), formatTimeLeft(s.endAt)]
        .filter(Boolean)
        .join(' · '),
      sandboxId: s.sandboxId,
      owner: s.metadata[OWNER_METADATA.uri],
    });
    return [...own.map((s) => item(s, true)), create, ...others.map((s) => item(s, false))];
  }
}

function isOwnedBy(target: PickerTarget, choice: SandboxItem & { owner?: string }): boolean {
  return target.matchOwnerUri && choice.owner === target.owner.uri;
}
