// Code-interpreter sandboxes and their code contexts ("kernels"), one context per document and
// language, remembered per workspace so a window reload re-attaches to the same kernel state.
import * as vscode from 'vscode';
import type { Sandbox as InterpreterSandbox, Context } from '@e2b/code-interpreter';
import { ConnectionService } from '../../connection/connection-service';
import { sdkOptions } from '../../connection/profile';
import { SandboxPausedError } from '../../connection/sandbox-connections';
import { SandboxService } from '../../connection/sandbox-service';
import { toUserFacingError, UserFacingError } from '../../connection/user-errors';
import { PromiseCache } from '../../util/promise-cache';

export const INTERPRETER_TEMPLATE = 'code-interpreter-v1';
const STATE_KEY = 'e2b.interpreterSessions';

interface StoredSession { sandboxId: string; contexts: Record<string, string> }

export class InterpreterSessions {
  private readonly sandboxes = new PromiseCache<InterpreterSandbox>();

  constructor(private readonly connection: ConnectionService, private readonly service: SandboxService, private readonly state: vscode.Memento) {}

  /** The sandbox assigned to a document (notebook or editor group key), if any. */
  sandboxIdOf(key: string): string | undefined {
    return this.stored()[key]?.sandboxId;
  }

  async assign(key: string, sandboxId: string): Promise<void> {
    await this.save(key, { sandboxId, contexts: {} });
  }

  async unassign(key: string): Promise<void> {
    await this.save(key, undefined);
  }

  /** Creates a code-interpreter sandbox for a document (with progress) and assigns it. */
  async createFor(key: string, envs?: Record<string, string>): Promise<string> {
    const sandbox = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Creating a ${INTERPRETER_TEMPLATE} sandbox…` },
      () => this.service.create({ template: INTERPRETER_TEMPLATE, timeoutMs: 30 * 60_000, envs, metadata: { purpose: 'vscode-code-interpreter' } }),
    );
    await this.assign(key, sandbox.sandboxId);
    return sandbox.sandboxId;
  }

  sandbox(sandboxId: string): Promise<InterpreterSandbox> {
    return this.sandboxes.get(sandboxId, () => this.attach(sandboxId));
  }

  /** The document's context for a language: reused across reloads while its kernel lives. */
  async context(key: string, language: string, cwd?: string): Promise<{ sandbox: InterpreterSandbox; context: Context }> {
    const session = this.stored()[key];
    if (!session) throw new UserFacingError('No sandbox is assigned to this document.');
    const sandbox = await this.sandbox(session.sandboxId);
    const known = session.contexts[language];
    if (known) {
      const contexts = await sandbox.listCodeContexts();
      const context = contexts.find((c) => c.id === known);
      if (context) return { sandbox, context };
    }
    const context = await sandbox.createCodeContext({ language, cwd });
    await this.save(key, { ...session, contexts: { ...session.contexts, [language]: context.id } });
    return { sandbox, context };
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

  /** Forgets a sandbox that is gone. */
  forgetSandbox(sandboxId: string): void {
    this.sandboxes.delete(sandboxId);
  }

  private async attach(sandboxId: string): Promise<InterpreterSandbox> {
    const profile = await this.connection.current();
    const info = await this.service.getInfo(sandboxId);
    if (info.state === 'paused') throw new SandboxPausedError(sandboxId);
    try {
      // Loaded on first use, like the base SDK (see loadSdk).
      const { Sandbox } = await import('@e2b/code-interpreter');
      return await Sandbox.connect(sandboxId, sdkOptions(profile));
    } catch (err) {
      throw toUserFacingError(err, { connectionLabel: profile.label, apiUrl: profile.apiUrl, sandboxId });
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
  }
}
