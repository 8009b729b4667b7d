// Shows a failure once, with buttons for what the user can do about it. The same message is not
// shown again within a short window, so background failures never become a popup storm; a
// lasting condition (a refused API key) is shown once until it is resolved. Every message shown
// is also announced on onDidShow, so tests (and a status line) can count them.
import * as vscode from 'vscode';
import { ErrorAction, UserFacingError } from '../connection/user-errors';

const ACTION_COMMANDS: Record<ErrorAction, [string, ...unknown[]]> = {
  'Set API Key': ['e2b.setApiKey'],
  'Open Settings': ['workbench.action.openSettings', 'e2b.'],
  Retry: ['e2b.refresh'],
  'Choose Connection': ['e2b.selectConnection'],
  Refresh: ['e2b.refresh'],
};
const QUIET_PERIOD_MS = 15_000;

export interface ShownMessage {
  message: string;
  actions: readonly string[];
  at: number;
}

export class ErrorNotifier implements vscode.Disposable {
  private readonly lastShown = new Map<string, number>();
  private readonly conditions = new Set<string>();
  private readonly shown = new vscode.EventEmitter<ShownMessage>();
  /** Fires for every message actually put on screen (not for the ones held back). */
  readonly onDidShow = this.shown.event;
  private count = 0;

  constructor(private readonly log: vscode.LogOutputChannel) {}

  /** How many messages were put on screen since activation. */
  get shownCount(): number {
    return this.count;
  }

  show(err: unknown): void {
    const error = asUserFacing(err);
    this.log.error(error.message);
    const now = Date.now();
    if ((this.lastShown.get(error.message) ?? 0) > now - QUIET_PERIOD_MS) return;
    this.lastShown.set(error.message, now);
    this.display(error);
  }

  /**
   * A condition found in the background that only the user can fix (a refused key): shown the
   * first time, then held back however often it is seen again, until `resolved(condition)`.
   */
  showCondition(condition: string, err: unknown): void {
    const error = asUserFacing(err);
    if (this.conditions.has(condition)) return;
    this.conditions.add(condition);
    this.log.error(error.message);
    this.display(error);
  }

  resolved(condition: string): void {
    this.conditions.delete(condition);
  }

  private display(error: UserFacingError): void {
    this.count++;
    this.shown.fire({ message: error.message, actions: error.actions, at: Date.now() });
    void vscode.window.showErrorMessage(error.message, ...error.actions).then((choice) => {
      if (!choice) return;
      const [command, ...args] = ACTION_COMMANDS[choice];
      void vscode.commands.executeCommand(command, ...args);
    });
  }

  dispose(): void {
    this.shown.dispose();
  }
}

function asUserFacing(err: unknown): UserFacingError {
  return err instanceof UserFacingError ? err : new UserFacingError(err instanceof Error ? err.message : String(err));
}
