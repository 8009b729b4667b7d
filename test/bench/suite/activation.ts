// Activation as another extension sees it: `Extension.activate()` on the not yet active extension
// takes reading and compiling the bundle, evaluating its modules and running activate(). The
// extension's own numbers (API `activation`) split its part into module evaluation and activate().
import * as vscode from 'vscode';
import type { ActivationTiming, E2BExtensionApi } from '../../../src/extension';
import { EXTENSION_ID } from '../../suite/helpers';

export interface ActivationSample extends ActivationTiming {
  /** Extension.activate() as seen from this (the runner) extension; absent when something had activated it already. */
  observedMs?: number;
  /** VS Code's own marks (whole milliseconds): loading the code (read, compile, evaluate) and the activate() call. */
  vscodeCodeLoadingMs?: number;
  vscodeActivateMs?: number;
  wasActive: boolean;
}

/** The extension host's performance marks (VS Code's `vs/base/common/performance` keeps them on globalThis). */
function vscodeMarks(): Map<string, number> {
  const marks =
    (globalThis as { MonacoPerformanceMarks?: { getMarks(): { name: string; startTime: number }[] } }).MonacoPerformanceMarks?.getMarks() ??
    [];
  return new Map(marks.map((m) => [m.name, m.startTime]));
}

function between(marks: Map<string, number>, from: string, to: string): number | undefined {
  const start = marks.get(`code/extHost/${from}/${EXTENSION_ID}`);
  const end = marks.get(`code/extHost/${to}/${EXTENSION_ID}`);
  return start === undefined || end === undefined ? undefined : end - start;
}

export async function measureActivation(): Promise<ActivationSample> {
  const extension = vscode.extensions.getExtension<E2BExtensionApi>(EXTENSION_ID);
  if (!extension) throw new Error(`${EXTENSION_ID} is not installed`);
  const wasActive = extension.isActive;
  const started = performance.now();
  const api = await extension.activate();
  const observedMs = performance.now() - started;
  const marks = vscodeMarks();
  return {
    ...api.activation,
    observedMs: wasActive ? undefined : observedMs,
    vscodeCodeLoadingMs: between(marks, 'willLoadExtensionCode', 'didLoadExtensionCode'),
    vscodeActivateMs: between(marks, 'willActivateExtension', 'didActivateExtension'),
    wasActive,
  };
}
