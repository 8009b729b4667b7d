// Which code-interpreter sandbox each document (a notebook, Run Selection) uses, and its code
// contexts ("kernels"), one per language, remembered per workspace so a window reload or
// reopening the notebook re-attaches to the same kernel state. SDK handles come from the one
// facade (SandboxConnections), so a connection switch or a kill never leaves a stale one here.
import * as vscode from 'vscode';
import type { Sandbox as InterpreterSandbox, Context } from '@e2b/code-interpreter';
import { SandboxConnections } from '../../connection/sandbox-connections';
import { SandboxService } from '../../connection/sandbox-service';
import { UserFacingError } from '../../connection/user-errors';
import { OWNER_METADATA } from '../../views/sandbox-presentation';

export const INTERPRETER_TEMPLATE = 'code-interpreter-v1';
const STATE_KEY = 'e2b.interpreterSessions';
/** How long a sandbox made for a document lives (the explorer shows the time left; Set Timeout extends it). */
export const INTERPRETER_TIMEOUT_MINUTES = 30;

export interface StoredSession {
  sandboxId: string;
  contexts: Record<string, string>;
  /** Created for this document (so closing it may offer to kill it), not picked from the running ones. */
  owned?: boolean;
}

/** The document a sandbox is created for: shown in the explorer, used to find it again. */
export interface SandboxOwner {
  name: string;
  uri: string;
}

export class InterpreterSessions implements vscode.Disposable {
  private readonly assigned = new vscode.EventEmitter<string>();
  /** Fires with the document key whenever its sandbox changes (chosen, created, dropped). */
  readonly onDidChangeAssignment = this.assigned.event;
  private readonly disposables: vscode.Disposable[] = [this.assigned];
  /**
   * The contexts seen alive through each handle, for callers that can run again on a context
   * found gone (the notebook controller): its cells need no listCodeContexts round trip each. A
   * new handle (connection change, sandbox forgotten) starts with none.
   */
  private readonly seenAlive = new WeakMap<InterpreterSandbox, Map<string, Context>>();

  constructor(
    private readonly connections: SandboxConnections,
    private readonly service: SandboxService,
    private readonly state: vscode.Memento,
  ) {
    // A sandbox killed from this window is no document's sandbox any more: the next cell asks again.
    this.disposables.push(service.onDidKill((sandboxId) => void this.unassignSandbox(sandboxId)));
  }

  /** The sandbox assigned to a document (notebook or editor group key), if any. */
  sandboxIdOf(key: string): string | undefined {
    return this.stored()[key]?.sandboxId;
  }

  /** True when the document's sandbox was created for it (rather than picked from running ones). */
  owns(key: string): boolean {
    return !!this.stored()[key]?.owned;
  }

  async assign(key: string, sandboxId: string, owned = false): Promise<void> {
    const current = this.stored()[key];
    if (current?.sandboxId === sandboxId) return;
    await this.save(key, { sandboxId, contexts: {}, owned });
  }

  /** What is stored for a document (its sandbox, contexts, ownership), to hand on to another key. */
  sessionOf(key: string): StoredSession | undefined {
    return this.stored()[key];
  }

  /** Gives a document a session that was another's (an untitled notebook saved as a file), unless it has its own. */
  async adopt(key: string, session: StoredSession): Promise<void> {
    if (!this.stored()[key]) await this.save(key, session);
  }

  async unassign(key: string): Promise<void> {
    if (this.stored()[key]) await this.save(key, undefined);
  }

  /** Creates a code-interpreter sandbox for a document (with progress), records its owner, and assigns it. */
  async createFor(key: string, owner: SandboxOwner, envs?: Record<string, string>): Promise<string> {
    const sandbox = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Creating a ${INTERPRETER_TEMPLATE} sandbox for ${owner.name}…` },
      () =>
        this.service.create({
          template: INTERPRETER_TEMPLATE,
          timeoutMs: INTERPRETER_TIMEOUT_MINUTES * 60_000,
          envs,
          metadata: { purpose: 'vscode-code-interpreter', [OWNER_METADATA.name]: owner.name, [OWNER_METADATA.uri]: owner.uri },
        }),
    );
    await this.assign(key, sandbox.sandboxId, true);
    return sandbox.sandboxId;
  }

  sandbox(sandboxId: string): Promise<InterpreterSandbox> {
    return this.connections.interpreter(sandboxId);
  }

  /**
   * The document's context for a language: reused across reloads while its kernel lives.
   * `unchecked`: one seen alive through this handle before is taken without asking the sandbox
   * again (`checked` is false then); a caller that finds it gone calls contextGone and asks again.
   */
  async context(
    key: string,
    language: string,
    cwd?: string,
    unchecked = false,
  ): Promise<{ sandbox: InterpreterSandbox; context: Context; checked: boolean }> {
    const session = this.stored()[key];
    if (!session) throw new UserFacingError('No sandbox is assigned to this document.');
    const sandbox = await this.sandbox(session.sandboxId);
    const known = session.contexts[language];
    const seen = this.seenAlive.get(sandbox) ?? new Map<string, Context>();
    this.seenAlive.set(sandbox, seen);
    if (known) {
      const remembered = seen.get(known);
      if (unchecked && remembered) return { sandbox, context: remembered, checked: false };
      const contexts = await sandbox.listCodeContexts();
      const context = contexts.find((c) => c.id === known);
      if (context) {
        seen.set(context.id, context);
        return { sandbox, context, checked: true };
      }
    }
    const context = await sandbox.createCodeContext({ language, cwd });
    seen.set(context.id, context);
    const now = this.stored()[key] ?? session;
    await this.save(key, { ...now, contexts: { ...now.contexts, [language]: context.id } });
    return { sandbox, context, checked: true };
  }

  /** A run found the context gone (the kernel's server restarted, someone removed it): ask next time. */
  contextGone(sandbox: InterpreterSandbox, contextId: string): void {
    this.seenAlive.get(sandbox)?.delete(contextId);
  }

  /** Restarts every kernel of the document: their state is gone afterwards. */
  async restart(key: string): Promise<number> {
    const session = this.stored()[key];
    if (!session) return 0;
    const sandbox = await this.sandbox(session.sandboxId);
    const ids = Object.values(session.contexts);
    await Promise.all(ids.map((id) => sandbox.restartCodeContext(id)));
    return ids.length;
  }

  /** Forgets a sandbox that is gone: its cached handles, and every document it was assigned to. */
  async forgetSandbox(sandboxId: string): Promise<void> {
    this.connections.forget(sandboxId);
    await this.unassignSandbox(sandboxId);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  private async unassignSandbox(sandboxId: string): Promise<void> {
    for (const [key, session] of Object.entries(this.stored())) {
      if (session.sandboxId === sandboxId) await this.unassign(key);
    }
  }

  private stored(): Record<string, StoredSession> {
    return this.state.get<Record<string, StoredSession>>(STATE_KEY, {});
  }

  private async save(key: string, session: StoredSession | undefined): Promise<void> {
    const all = { ...this.stored() };
    if (session) all[key] = session;
    else delete all[key];
    await this.state.update(STATE_KEY, all);
    this.assigned.fire(key);
  }
}
