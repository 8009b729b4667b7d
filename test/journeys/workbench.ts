// Journeys through the real workbench as a user drives it: code-server with the packaged
// extension, a local runtime, and headless Chromium pressing keys and clicking. What cannot be
// tested from inside the extension host lives here: anything that reloads the window (entering a
// multi-root workspace, Developer: Reload Window) ends the extension host, and with it any test
// running inside it.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { freePort, RuntimeProcess } from '../../runtime/test/helpers/runtime-process';
import { waitUntil } from '../../runtime/test/helpers/wait';
import { startCodeServer } from '../vscode/code-server';
import {
  freshWorkbench,
  launchBrowser,
  OUT,
  packageExtensions,
  stopCodeServer,
  stopRuntimeOf,
  type WorkbenchDirs,
} from '../vscode/harness';

/** Where a journey leaves a picture of the workbench when a step fails (git ignores .cache). */
const FAILURES = join(__dirname, '..', '..', '.cache', 'screenshots');
mkdirSync(FAILURES, { recursive: true });

export type StartingPoint = 'empty window' | 'folder' | 'saved workspace';

let packaged: string | undefined;

/** The extension as users install it, packaged once per test process. */
function extensionVsix(): string {
  packaged ??= packageExtensions(['--tests'], 'stderr').extension;
  return packaged;
}

export class Workbench {
  /** The workbench's last console errors and warnings and its navigations: what a failure prints. */
  private readonly consoleLines: string[] = [];

  private constructor(
    readonly runtime: RuntimeProcess,
    readonly dirs: WorkbenchDirs,
    private readonly work: string,
    private readonly codeServer: Awaited<ReturnType<typeof startCodeServer>>,
    private readonly browser: Browser,
    readonly page: Page,
  ) {}

  /**
   * A fresh workbench at `start`. With `autoStart`, the runtime is stopped before the window opens
   * and the extension starts it, as it does for users (e2b.local.autoStart is on by default).
   */
  static async open(start: StartingPoint, options: { autoStart?: boolean; settings?: Record<string, unknown> } = {}): Promise<Workbench> {
    const vsix = extensionVsix();
    const work = mkdtempSync(join(tmpdir(), 'e2b-journey-'));
    const runtime = await RuntimeProcess.start();
    if (options.autoStart) await runtime.stop();
    const dirs = freshWorkbench(work, [vsix]);
    writeFileSync(join(dirs.workspace, 'local-notes.txt'), 'a local file\n');
    const codeServer = await startCodeServer({
      ...dirs,
      port: await freePort(),
      settings: {
        'e2b.local.dataDir': runtime.dataDir,
        'e2b.local.autoStart': options.autoStart ?? false,
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        // Unsaved edits stay unsaved until the user saves (VS Code's default; code-server's differs).
        'files.autoSave': 'off',
        // Terminal text as DOM rows, so a test can read what a terminal shows.
        'terminal.integrated.gpuAcceleration': 'off',
        ...options.settings,
      },
    });
    const browser = await launchBrowser();
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    const workbench = new Workbench(runtime, dirs, work, codeServer, browser, page);
    page.on('console', (message) => {
      if (message.type() !== 'error' && message.type() !== 'warning') return;
      workbench.consoleLines.push(`${new Date().toISOString()} ${message.type()}: ${message.text().slice(0, 400)}`);
      workbench.consoleLines.splice(0, workbench.consoleLines.length - 30);
    });
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) workbench.consoleLines.push(`${new Date().toISOString()} navigated to ${frame.url()}`);
    });
    await page.goto(`${codeServer.url}/${workbench.query(start)}`);
    await workbench.ready();
    return workbench;
  }

  private query(start: StartingPoint): string {
    if (start === 'folder') return `?folder=${encodeURIComponent(this.dirs.workspace)}`;
    if (start === 'empty window') return '?ew=true';
    const file = join(this.work, 'saved.code-workspace');
    mkdirSync(this.dirs.workspace, { recursive: true });
    writeFileSync(file, JSON.stringify({ folders: [{ path: this.dirs.workspace }] }));
    return `?workspace=${encodeURIComponent(file)}`;
  }

  /** Waits until the workbench has loaded and the extension host answers commands. */
  async ready(): Promise<void> {
    await this.page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 90_000 });
    // The E2B view container appears once the workbench has registered the extension's
    // contributions: only then does the palette list its commands.
    await this.page.locator('.part.activitybar [aria-label^="E2B Sandboxes"]').first().waitFor({ timeout: 90_000 });
  }

  /**
   * Polls `check` until it holds; on timeout leaves a screenshot in .cache/screenshots and says
   * what the terminal and the window showed.
   */
  async waitFor(what: string, check: () => Promise<unknown>, timeoutMs = 60_000): Promise<void> {
    try {
      // A check that meets a window in the middle of reloading counts as not yet.
      await waitUntil(what, () => check().catch(() => false), timeoutMs, 250);
    } catch (err) {
      const picture = join(FAILURES, `journey-${what.replace(/[^\w-]+/g, '_').slice(0, 60)}.png`);
      await this.page.screenshot({ path: picture }).catch(() => undefined);
      // The short facts first: a CI log may keep only the start of a long message.
      const facts = [
        (err as Error).message,
        `page: ${this.page.url()}`,
        `Explorer roots: ${JSON.stringify(await this.explorerRoots().catch(() => []))}`,
        `terminals: ${JSON.stringify(await this.terminalNames().catch(() => []))}`,
        `console and navigations:\n${this.consoleLines.join('\n')}`,
        `untitled workspaces:\n${this.untitledWorkspaces()}`,
        `E2B log:\n${this.extensionLog()}`,
        `code-server:\n${this.codeServer.output().slice(-1500)}`,
        `terminal text:\n${await this.terminalText().catch(() => '')}`,
        `window text:\n${await this.windowText()}`,
        `screenshot: ${picture}`,
      ];
      throw new Error(facts.join('\n'), { cause: err });
    }
  }

  /** The window's visible text, in short: the picture of a failure that a CI log keeps. */
  private async windowText(): Promise<string> {
    const text = await this.page
      .evaluate(() => (document.querySelector('.monaco-workbench') as HTMLElement | null)?.innerText ?? '(no workbench)')
      .catch((err: Error) => `(unreadable: ${err.message})`);
    return text.replace(/\n{2,}/g, '\n').slice(0, 2000);
  }

  /** The workspace files VS Code created for windows that became multi-root, with their text. */
  private untitledWorkspaces(): string {
    const home = join(this.dirs.userDataDir, 'User', 'Workspaces');
    try {
      return readdirSync(home)
        .map((name) => `${name}: ${readFileSync(join(home, name), 'utf8')}`)
        .join('\n');
    } catch (err) {
      return `(${(err as Error).message})`;
    }
  }

  /** What the extension wrote to its "E2B" output channel, in every window so far. */
  extensionLog(): string {
    const logs = join(this.dirs.userDataDir, 'logs');
    const files = (readdirSync(logs, { recursive: true }) as string[]).filter((f) => f.endsWith('E2B.log'));
    return files
      .map((f) => readFileSync(join(logs, f), 'utf8'))
      .join('\n')
      .slice(-3000);
  }

  /** Runs a command from the palette by its title, as a user types it. */
  async command(title: string): Promise<void> {
    await this.page.keyboard.press('F1');
    const input = this.quickInput();
    await input.waitFor();
    await input.fill(`>${title}`);
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    await row.waitFor({ timeout: 30_000 }).catch(async (err) => {
      await this.page.screenshot({ path: join(FAILURES, 'command-not-found.png') });
      throw err;
    });
    // The row itself: the first row may be another command whose title contains this one's words.
    await row.click();
  }

  quickInput(): Locator {
    return this.page.locator('.quick-input-widget input.input');
  }

  /** Picks the quick-pick row that contains `text`. */
  async pick(text: string): Promise<void> {
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
    await row.waitFor({ timeout: 30_000 });
    await row.click();
  }

  /**
   * Answers an input box: replaces what it offers with `value` (or keeps it) and presses Enter.
   * With `title`, first waits for the box with that title (the quick input of a step before may
   * still be on screen).
   */
  async answer(value?: string, title?: string): Promise<void> {
    const input = this.quickInput();
    if (title) await this.page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ timeout: 30_000 });
    await input.waitFor();
    if (value !== undefined) await input.fill(value);
    await this.page.keyboard.press('Enter');
  }

  /**
   * Waits until the Explorer lists `entry` in the folder `root`, which it expands as a user would
   * when the window came back with it collapsed (VS Code restores each folder's own state).
   */
  async waitForListed(root: string, entry: string, what: string): Promise<void> {
    const rootRow = this.page.locator('.explorer-folders-view .monaco-list-row[aria-level="1"]', { hasText: root });
    await this.waitFor(what, async () => {
      if ((await rootRow.getAttribute('aria-expanded', { timeout: 1000 })) === 'false') await rootRow.click();
      return (await this.page.locator('.explorer-folders-view .monaco-list-row', { hasText: entry }).count()) > 0;
    });
  }

  /** The names of the workspace's folders as the Explorer shows them. */
  async explorerRoots(): Promise<string[]> {
    return this.page.evaluate(() =>
      Array.from(document.querySelectorAll('.explorer-folders-view .monaco-list-row[aria-level="1"]')).map((row) =>
        (row as HTMLElement).innerText.trim(),
      ),
    );
  }

  /** Loads the workspace file `file` in this window, as VS Code does when it enters a workspace. */
  async enterWorkspaceFile(file: string): Promise<void> {
    await this.page.goto(`${this.codeServer.url}/?workspace=${encodeURIComponent(file)}`);
    await this.ready();
  }

  /** Developer: Reload Window, then waits for the workbench to load again. */
  async reload(): Promise<void> {
    const loaded = this.page.waitForEvent('load', { timeout: 90_000 });
    await this.command('Developer: Reload Window');
    await loaded;
    await this.ready();
  }

  /** The text the active terminal shows (the DOM renderer: `terminal.integrated.gpuAcceleration` off). */
  async terminalText(): Promise<string> {
    return this.page.evaluate(() =>
      Array.from(document.querySelectorAll('.terminal-wrapper.active .xterm-rows > div'))
        .map((row) => (row as HTMLElement).innerText.replace(/\u00a0/g, ' '))
        .join('\n'),
    );
  }

  /** The editor tabs: label and whether it has unsaved changes. */
  async tabs(): Promise<{ label: string; dirty: boolean }[]> {
    return this.page.evaluate(() =>
      Array.from(document.querySelectorAll('.tabs-container .tab')).map((tab) => ({
        label: (tab.textContent ?? '').trim(),
        dirty: tab.classList.contains('dirty'),
      })),
    );
  }

  /** Brings the tab whose label starts with `label` to the front and returns its editor's text. */
  async editorText(label: string): Promise<string> {
    await this.page.locator('.tabs-container .tab', { hasText: label }).first().click();
    await this.page.locator('.tabs-container .tab.active', { hasText: label }).waitFor();
    return this.page.evaluate(() => {
      const lines = document.querySelectorAll('.editor-group-container.active .monaco-editor .view-lines .view-line');
      return Array.from(lines)
        .sort((a, b) => parseFloat((a as HTMLElement).style.top) - parseFloat((b as HTMLElement).style.top))
        .map((l) => (l as HTMLElement).innerText.replace(/\u00a0/g, ' '))
        .join('\n')
        .trim();
    });
  }

  /** The names of the open terminals: the panel's tab list, or with one terminal, its title. */
  async terminalNames(): Promise<string[]> {
    return this.page.evaluate(() => {
      const tabs = Array.from(document.querySelectorAll('.terminal-tabs-entry .monaco-icon-label'))
        .map((e) => (e as HTMLElement).innerText.trim())
        .filter(Boolean);
      if (tabs.length > 0) return tabs;
      const single = (document.querySelector('.part.panel .title-actions') as HTMLElement | null)?.innerText.trim();
      return single ? [single] : [];
    });
  }

  /** The name of the terminal the panel shows. */
  async activeTerminalName(): Promise<string> {
    return this.page.evaluate(() => {
      const tab = document.querySelector(
        '.terminal-tabs-entry.is-active .monaco-icon-label, .terminal-tabs-entry[aria-selected="true"] .monaco-icon-label',
      ) as HTMLElement | null;
      if (document.querySelector('.terminal-tabs-entry')) return tab?.innerText.trim() ?? '';
      return (document.querySelector('.part.panel .title-actions') as HTMLElement | null)?.innerText.trim() ?? '';
    });
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    await stopCodeServer(this.codeServer);
    await this.runtime.killAllSandboxes();
    await stopRuntimeOf(this.runtime);
    await this.runtime.dispose();
    rmSync(this.work, { recursive: true, force: true });
  }
}

export { OUT };
