// Shared helpers for the extension-host tests: the extension's services, the local runtime's
// endpoint (read the same way the extension reads it), waiting for conditions.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { E2BExtensionApi } from '../../src/extension';
import { readLocalRuntimeEnv } from '../../src/connection/local-runtime';
import { DEFAULT_DATA_DIR } from '../../runtime/src/contract/local-runtime-contract';
import type { Prompt } from '../../src/commands/inputs';
import type { Services } from '../../src/commands/services';
import type { ExplorerNode } from '../../src/views/sandbox-tree';
import { sleep } from '../sleep';
import { nextEvent } from '../../src/util/next-event';

export const EXTENSION_ID = 'e2b-local.e2b-sandboxes';

/**
 * How long the workbench gets to draw a quick input and make its first item active before a test
 * presses Enter: accepting earlier resolves the pick as cancelled (seen at 400 ms on a busy machine).
 */
export const QUICK_INPUT_DRAWN_MS = 1000;

export async function extensionApi(): Promise<E2BExtensionApi> {
  const extension = vscode.extensions.getExtension<E2BExtensionApi>(EXTENSION_ID);
  if (!extension) throw new Error(`${EXTENSION_ID} is not installed`);
  return extension.activate();
}

export function runtimeDataDir(): string {
  return vscode.workspace.getConfiguration('e2b').get<string>('local.dataDir', DEFAULT_DATA_DIR);
}

/** SDK options for talking to the same runtime directly (to set up and check from outside). */
export async function sdkOptions(): Promise<{ apiKey: string; apiUrl: string; sandboxUrl: string }> {
  const endpoint = await readLocalRuntimeEnv(runtimeDataDir());
  if (!endpoint) throw new Error(`no local runtime env file in ${runtimeDataDir()}`);
  return endpoint;
}

export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}

/**
 * waitFor, for a condition one try can miss (a watch not live yet, a resize not yet applied when
 * the shell is asked): `poke` again every `everyMs` until `check` holds.
 */
export async function pokeUntil<T>(
  what: string,
  poke: () => unknown,
  check: () => T | undefined | false,
  timeoutMs = 30_000,
  everyMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await poke();
    const last = Date.now() + everyMs >= deadline;
    try {
      return await waitFor(what, check, last ? deadline - Date.now() : everyMs);
    } catch (err) {
      if (last) throw err;
    }
  }
}

/**
 * Asks the test harness, which drives the browser showing this workbench, to take a screenshot
 * named `name` now (README pictures, taken from the real UI). The harness names a directory in
 * E2B_VSCODE_SCREENSHOT_REQUESTS and answers by removing the request file; without it, or when no
 * answer comes, nothing happens: screenshots never fail a test. `ready`, if given, is waited for
 * (up to 30 s) before the picture is taken.
 */
export async function screenshot(name: string, ready?: () => boolean): Promise<void> {
  const dir = process.env.E2B_VSCODE_SCREENSHOT_REQUESTS;
  if (!dir) return;
  // Something worth showing first (a few metrics samples, say), if it comes.
  for (let i = 0; i < 150 && ready && !ready(); i++) await sleep(200);
  // Messages earlier tests left (refused keys, lost connections) are not part of the picture.
  await vscode.commands.executeCommand('notifications.clearAll');
  // Let the workbench draw what the test just did (webviews, notebook outputs, terminal text).
  await sleep(1500);
  const request = join(dir, `${name}.request`);
  writeFileSync(request, '');
  for (let i = 0; i < 100 && existsSync(request); i++) await sleep(200);
}

/** Everything a pseudoterminal writes, collected as it comes. */
export function capture(pty: { onDidWrite: vscode.Event<string> }): { text: () => string } {
  let text = '';
  pty.onDidWrite((chunk) => {
    text += chunk;
  });
  return { text: () => text };
}

/**
 * Closes every editor without saving: a dirty one left by an earlier test (a killed sandbox's
 * file, say) would otherwise raise a "save?" dialog that nobody here answers.
 */
export async function closeAllEditorsWithoutSaving(): Promise<void> {
  const revertActive = async () => {
    const reverted = Promise.resolve(vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor')).catch(() => undefined);
    await Promise.race([reverted, sleep(10_000)]);
  };
  for (const document of vscode.workspace.textDocuments.filter((d) => d.isDirty)) {
    await vscode.window.showTextDocument(document, { preview: false }).then(revertActive, () => undefined);
  }
  for (const notebook of vscode.workspace.notebookDocuments.filter((n) => n.isDirty)) {
    await vscode.window.showNotebookDocument(notebook).then(revertActive, () => undefined);
  }
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/**
 * Waits for the next input box or quick pick the extension shows (its title matching; `prompts`
 * collects them from the API's onDidPrompt), then answers it in the real quick input: `down`
 * moves to a later item, then Enter.
 */
export async function answerPrompt(prompts: Prompt[], title: RegExp, down = 0): Promise<Prompt> {
  const prompt = await waitFor(`a prompt titled ${title}`, () => prompts.shift());
  if (!title.test(prompt.title)) throw new Error(`the prompt shown is titled "${prompt.title}", not ${title}`);
  // The quick input is drawn by the workbench after the extension asked for it.
  await sleep(QUICK_INPUT_DRAWN_MS);
  for (let i = 0; i < down; i++) await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
  await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
  return prompt;
}

/** A listed sandbox's row in the explorer (the list refreshed first, groups looked into). */
export async function sandboxRow(services: Services, sandboxId: string): Promise<Extract<ExplorerNode, { kind: 'sandbox' }>> {
  await services.tree.refresh();
  for (const root of await services.tree.getChildren()) {
    const nodes = root.kind === 'group' ? await services.tree.getChildren(root) : [root];
    const node = nodes.find((n) => n.kind === 'sandbox' && n.sandbox.sandboxId === sandboxId);
    if (node?.kind === 'sandbox') return node;
  }
  throw new Error(`${sandboxId} is not listed`);
}

// The suites are loaded from the checkout's out/, inside no installed extension, so VS Code gives
// them the API of its placeholder extension: a controller they make is filed under this id.
const SUITE_EXTENSION_ID = 'nullExtensionDescription';

/** Makes `notebook` run on a controller the suite (or benchmark) itself created. */
export async function selectSuiteController(controller: vscode.NotebookController, notebook: vscode.NotebookDocument): Promise<void> {
  // A controller just made reaches the window a moment later: ask again until it is selected.
  for (let attempt = 0; attempt < 20; attempt++) {
    const selected = nextEvent(controller.onDidChangeSelectedNotebooks, (e) => e.notebook === notebook && e.selected, 500);
    await vscode.commands.executeCommand('notebook.selectKernel', { id: controller.id, extension: SUITE_EXTENSION_ID });
    if (await selected) return;
  }
  throw new Error(`the controller ${controller.id} could not be selected for ${notebook.uri}`);
}
