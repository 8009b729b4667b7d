// The sandbox this window works with ("connected"), remembered per workspace, shown in the status
// bar with its time left, and announced once shortly before it times out.
import * as vscode from 'vscode';
import type { SandboxInfo } from 'e2b';
import { SandboxService } from '../connection/sandbox-service';
import { ErrorNotifier } from './error-notifier';
import { formatTimeLeft } from './sandbox-presentation';

const ACTIVE_KEY = 'e2b.activeSandbox';
const WARN_BEFORE_MS = 60_000;
const TICK_MS = 15_000;
const REFETCH_EVERY_TICKS = 4;
const EXTEND_BY_MINUTES = 15;

export class ActiveSandbox implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<string | undefined>();
  readonly onDidChange = this.changed.event;
  private readonly item = vscode.window.createStatusBarItem('e2b.activeSandbox', vscode.StatusBarAlignment.Left, 50);
  private info?: SandboxInfo;
  private warnedFor?: string;
  private ticks = 0;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly state: vscode.Memento,
    private readonly service: SandboxService,
    private readonly errors: ErrorNotifier,
  ) {
    this.item.name = 'E2B Sandbox';
    this.item.command = 'e2b.showSandboxInfo';
    this.timer = setInterval(() => this.tick(), TICK_MS);
    if (this.id) void this.reload();
    else this.render();
  }

  get id(): string | undefined {
    return this.state.get<string>(ACTIVE_KEY);
  }

  async set(sandboxId: string | undefined): Promise<void> {
    await this.state.update(ACTIVE_KEY, sandboxId);
    this.info = undefined;
    this.changed.fire(sandboxId);
    await this.reload();
  }

  /** Called when a sandbox is known to be gone. */
  async forget(sandboxId: string): Promise<void> {
    if (this.id === sandboxId) await this.set(undefined);
  }

  async reload(): Promise<void> {
    const id = this.id;
    if (!id) {
      this.render();
      return;
    }
    try {
      this.info = await this.service.getInfo(id);
    } catch {
      // Gone (killed or timed out) or unreachable: the status bar says so, no popup.
      this.info = undefined;
    }
    this.render();
  }

  private tick(): void {
    if (++this.ticks % REFETCH_EVERY_TICKS === 0) void this.reload();
    else this.render();
    this.warnBeforeTimeout();
  }

  private render(): void {
    const id = this.id;
    if (!id) {
      this.item.hide();
      return;
    }
    if (!this.info) {
      this.item.text = `$(vm-outline) ${id.slice(0, 8)} · unavailable`;
      this.item.tooltip = `Sandbox ${id} cannot be reached: it may have been killed or timed out.`;
    } else {
      const left = this.info.state === 'paused' ? 'paused' : formatTimeLeft(this.info.endAt);
      this.item.text = `$(${this.info.state === 'paused' ? 'debug-pause' : 'vm-running'}) ${id.slice(0, 8)} · ${left}`;
      this.item.tooltip = `Active E2B sandbox ${id} (${this.info.templateId}): ${left}. Click for details.`;
    }
    this.item.show();
  }

  private warnBeforeTimeout(): void {
    const info = this.info;
    if (!info || info.state !== 'running' || this.warnedFor === info.sandboxId) return;
    if (info.endAt.getTime() - Date.now() > WARN_BEFORE_MS) return;
    this.warnedFor = info.sandboxId;
    void vscode.window
      .showWarningMessage(`Sandbox ${info.sandboxId} times out in under a minute.`, `Extend by ${EXTEND_BY_MINUTES} minutes`)
      .then(async (choice) => {
        if (choice) await this.extend(info);
      });
  }

  /**
   * The warning's "Extend": the sandbox's end moves later by 15 minutes. A failure (the sandbox
   * timed out meanwhile, the connection is down) is shown, never lost. True when extended.
   */
  async extend(info: SandboxInfo): Promise<boolean> {
    try {
      await this.service.setTimeout(info.sandboxId, Math.max(0, info.endAt.getTime() - Date.now()) + EXTEND_BY_MINUTES * 60_000);
      this.warnedFor = undefined;
      await this.reload();
      return true;
    } catch (err) {
      this.errors.show(err);
      await this.reload();
      return false;
    }
  }

  dispose(): void {
    clearInterval(this.timer);
    this.item.dispose();
    this.changed.dispose();
  }
}
