// Waiting for one VS Code event with a deadline: the listener is disposed either way.
import type * as vscode from 'vscode';

/** The first `event` that `matches`, or undefined once `timeoutMs` have passed without one. */
export function nextEvent<T>(event: vscode.Event<T>, matches: (e: T) => boolean, timeoutMs: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const finish = (value: T | undefined) => {
      clearTimeout(timer);
      listener.dispose();
      resolve(value);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    const listener = event((e) => {
      if (matches(e)) finish(e);
    });
  });
}
