// Shows a failure once, with buttons for what the user can do about it. The same message is not
// shown again within a short window, so background failures never become a popup storm.
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

export class ErrorNotifier {
  private readonly lastShown = new Map<string, number>();

  constructor(private readonly log: vscode.LogOutputChannel) {}

  show(err: unknown): void {
    const error = err instanceof UserFacingError ? err : new UserFacingError(err instanceof Error ? err.message : String(err));
    this.log.error(error.message);
    const now = Date.now();
    if ((this.lastShown.get(error.message) ?? 0) > now - QUIET_PERIOD_MS) return;
    this.lastShown.set(error.message, now);
    void vscode.window.showErrorMessage(error.message, ...error.actions).then((choice) => {
      if (!choice) return;
      const [command, ...args] = ACTION_COMMANDS[choice];
      void vscode.commands.executeCommand(command, ...args);
    });
  }
}
