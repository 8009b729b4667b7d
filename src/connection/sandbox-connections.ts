// Connected SDK objects per sandbox, shared by files, terminals and commands. Never resumes a
// paused sandbox as a side effect: opening a file of a paused sandbox fails until the user
// resumes it explicitly.
import type { Sandbox } from 'e2b';
import { PromiseCache } from '../util/promise-cache';
import { SandboxService } from './sandbox-service';
import { UserFacingError } from './user-errors';

/** What the API says about a sandbox now; 'unreachable' when it cannot be asked (network, server down). */
export type SandboxStatus = 'running' | 'paused' | 'gone' | 'unreachable';

export class SandboxPausedError extends UserFacingError {
  constructor(readonly sandboxId: string) {
    super(`Sandbox ${sandboxId} is paused: resume it from the Sandbox Explorer first.`, ['Refresh']);
  }
}

export class SandboxConnections {
  private readonly sandboxes = new PromiseCache<Sandbox>();

  constructor(private readonly service: SandboxService) {
    service.connection.onDidChange(() => this.sandboxes.clear());
  }

  get(sandboxId: string): Promise<Sandbox> {
    return this.sandboxes.get(sandboxId, () => this.attach(sandboxId));
  }

  /** Drops a cached connection (the sandbox was killed, or a call found it gone). */
  forget(sandboxId: string): void {
    this.sandboxes.delete(sandboxId);
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

  private async attach(sandboxId: string): Promise<Sandbox> {
    const info = await this.service.getInfo(sandboxId);
    if (info.state === 'paused') throw new SandboxPausedError(sandboxId);
    return this.service.connect(sandboxId);
  }
}
