// Activation as another extension sees it: `Extension.activate()` on the not yet active extension
// takes reading and compiling the bundle, evaluating its modules and running activate(). The
// extension's own numbers (API `activation`) split its part into module evaluation and activate().
import * as vscode from 'vscode';
import type { ActivationTiming, E2BExtensionApi } from '../../../src/extension';
import { EXTENSION_ID } from '../../suite/helpers';

export interface ActivationSample extends ActivationTiming {
  /** Extension.activate() as seen from this (the runner) extension; absent when something had activated it already. */
  observedMs?: number;
  wasActive: boolean;
}

export async function measureActivation(): Promise<ActivationSample> {
  const extension = vscode.extensions.getExtension<E2BExtensionApi>(EXTENSION_ID);
  if (!extension) throw new Error(`${EXTENSION_ID} is not installed`);
  const wasActive = extension.isActive;
  const started = performance.now();
  const api = await extension.activate();
  const observedMs = performance.now() - started;
  return { ...api.activation, observedMs: wasActive ? undefined : observedMs, wasActive };
}
