// Input boxes and quick picks the commands share. Each prompt is announced on onDidPrompt (its
// title, offered value and choices) just before VS Code shows it, so extension-host tests know
// what is on screen and answer it through the real quick input.
import * as vscode from 'vscode';

export interface Prompt {
  kind: 'input' | 'pick';
  title: string;
  value?: string;
  placeHolder?: string;
  items?: string[];
}

const prompted = new vscode.EventEmitter<Prompt>();
export const onDidPrompt = prompted.event;

/** showInputBox, announced. */
export function askText(options: vscode.InputBoxOptions & { title: string }): Thenable<string | undefined> {
  prompted.fire({ kind: 'input', title: options.title, value: options.value, placeHolder: options.placeHolder });
  return vscode.window.showInputBox(options);
}

/** showQuickPick of one item, announced. */
export function pickOne<T extends vscode.QuickPickItem>(
  items: T[],
  options: vscode.QuickPickOptions & { title: string },
): Thenable<T | undefined> {
  prompted.fire({ kind: 'pick', title: options.title, placeHolder: options.placeHolder, items: items.map((i) => i.label) });
  return vscode.window.showQuickPick(items, options);
}

/** Asks for a positive number of minutes; undefined when cancelled. */
export async function askMinutes(title: string, prompt: string, value: string): Promise<number | undefined> {
  const text = await askText({
    title,
    prompt,
    value,
    validateInput: (v) => (/^\d+(\.\d+)?$/.test(v.trim()) && Number(v) > 0 ? undefined : 'Enter a positive number of minutes'),
  });
  return text === undefined ? undefined : Number(text);
}

/** Asks for a TCP port; undefined when cancelled. */
export async function askPort(title: string): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    title,
    prompt: 'Port a server listens on inside the sandbox',
    placeHolder: '8000',
    validateInput: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535 ? undefined : 'Enter a port from 1 to 65535'),
  });
  return text ? Number(text) : undefined;
}

/** For validateInput: what is wrong with the text (the parser's message), or undefined when it parses. */
export function problemOf(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
