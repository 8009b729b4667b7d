// Connected SDK objects per sandbox, for both SDKs: base handles (files, terminals, commands) and
// code-interpreter handles (notebooks, Run Selection, chat tools). The one cache of them: every
// handle is dropped when the connection changes (they carry the old URL and key) and when its
// sandbox is killed. Never resumes a paused sandbox as a side effect: opening a file of a paused
// sandbox fails until the user resumes it explicitly.
import type { Sandbox } from 'e2b';
import type { Sandbox as InterpreterSandbox } from '@e2b/code-interpreter';
import { PromiseCache } from '../util/promise-cache';
import { SandboxService } from './sandbox-service';
import { judgeSandboxFailure, SandboxFailure, UserFacingError } from './user-errors';

/** What the API says about a sandbox now; 'unreachable' when it cannot be asked (network, server down). */
export type SandboxStatus = 'running' | 'paused' | 'gone' | 'unreachable';

export class SandboxPausedError extends UserFacingError {
  constructor(readonly sandboxId: string) {
    super(`Sandbox ${sandboxId} is paused: resume it from the Sandbox Explorer first.`, ['Refresh']);
  }
}

export class SandboxConnections {
  private readonly sandboxes = new PromiseCache<Sandbox>();
  private readonly interpreters = new PromiseCache<InterpreterSandbox>();
  /** How many times every handle was dropped for a connection change (tests and logs read it). */
  resets = 0;

  constructor(private readonly service: SandboxService) {
    service.connection.onDidChange(() => this.reset());
    service.onDidKill((sandboxId) => this.forget(sandboxId));
  }

  get(sandboxId: string): Promise<Sandbox> {
    return this.sandboxes.get(sandboxId, () => this.attach(sandboxId, () => this.service.connect(sandboxId)));
  }

  /** The code-interpreter handle on a sandbox (runCode, code contexts). */
  interpreter(sandboxId: string): Promise<InterpreterSandbox> {
    return this.interpreters.get(sandboxId, () => this.attach(sandboxId, () => this.service.connectInterpreter(sandboxId)));
  }

  /** Drops a sandbox's cached handles (the sandbox was killed, paused, or a call found it gone). */
  forget(sandboxId: string): void {
    this.sandboxes.delete(sandboxId);
    this.interpreters.delete(sandboxId);
  }

  /** Drops every cached handle: the connection changed, so they all point at the old one. */
  reset(): void {
    this.sandboxes.clear();
    this.interpreters.clear();
    this.resets++;
  }

  /**
   * Asks the API whether the sandbox still exists: a broken stream means either "the network
   * dropped" (reconnect later) or "the sandbox is gone" (stop), and only the API can tell.
   */
  async status(sandboxId: string): Promise<SandboxStatus> {
    try {
      const info = await this.service.getInfo(sandboxId);
      return info.state === 'paused' ? 'paused' : 'running';
    } catch (err) {
      if (err instanceof UserFacingError && err.kind === 'sandboxGone') {
        this.forget(sandboxId);
        return 'gone';
      }
      return 'unreachable';
    }
  }

  /** What a failed call on the sandbox means (see judgeSandboxFailure); a gone sandbox's handles are dropped. */
  async judge(sandboxId: string, err: unknown): Promise<SandboxFailure> {
    const verdict = await judgeSandboxFailure(err, () => this.status(sandboxId));
    if (verdict === 'gone') this.forget(sandboxId);
    return verdict;
  }

  private async attach<T>(sandboxId: string, connect: () => Promise<T>): Promise<T> {
    const info = await this.service.getInfo(sandboxId);
    if (info.state === 'paused') throw new SandboxPausedError(sandboxId);
    return connect();
  }
}
