// The E2B cloud API key lives in VS Code's SecretStorage only: never in settings, never in logs.
import * as vscode from 'vscode';
import { isApiKey } from '../../runtime/src/contract/local-runtime-contract';

const SECRET_KEY = 'e2b.cloud.apiKey';

export class ApiKeyStore {
  readonly onDidChange: vscode.Event<void>;

  constructor(private readonly secrets: vscode.SecretStorage) {
    this.onDidChange = (listener, thisArgs, disposables) =>
      secrets.onDidChange(
        (e) => {
          if (e.key === SECRET_KEY) listener.call(thisArgs, undefined);
        },
        undefined,
        disposables,
      );
  }

  get(): Thenable<string | undefined> {
    return this.secrets.get(SECRET_KEY);
  }
  delete(): Thenable<void> {
    return this.secrets.delete(SECRET_KEY);
  }

  async set(key: string): Promise<void> {
    const problem = validateApiKey(key);
    if (problem) throw new Error(problem);
    await this.secrets.store(SECRET_KEY, key.trim());
  }

  /** Asks for the key with a password box; undefined when the user cancels. */
  async prompt(): Promise<string | undefined> {
    const key = await vscode.window.showInputBox({
      title: 'E2B API key',
      prompt: "Paste your E2B API key (from the E2B dashboard). It is kept in VS Code's secret storage.",
      password: true,
      ignoreFocusOut: true,
      validateInput: (value) => validateApiKey(value),
    });
    if (key === undefined) return undefined;
    await this.set(key);
    return key.trim();
  }
}

export function validateApiKey(value: string): string | undefined {
  return isApiKey(value.trim()) ? undefined : 'An E2B API key is e2b_ followed by 40 hexadecimal digits.';
}
