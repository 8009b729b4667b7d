// Input boxes the commands share.
import * as vscode from 'vscode';

/** Asks for a positive number of minutes; undefined when cancelled. */
export async function askMinutes(title: string, prompt: string, value: string): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
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
