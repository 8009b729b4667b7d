// Runs the extension-host suite in a real VS Code: builds and packages the extension, starts a
// local runtime, installs the .vsix into code-server, opens the workbench in headless Chromium
// (the extension host starts when a client connects) and collects the results the companion
// runner extension writes. Prints one line per test and exits non-zero on any failure.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { OUT, packageExtensions, REPO, runInWorkbench, suiteSummary, waitForResults } from './harness';
import { sleep } from '../sleep';

// The README's pictures, taken while the suite runs (test/suite/helpers.ts `screenshot`):
// E2B_UPDATE_SCREENSHOTS=1 writes them to docs/screenshots, otherwise they go to .cache.
const SCREENSHOTS = process.env.E2B_UPDATE_SCREENSHOTS === '1' ? join(REPO, 'docs', 'screenshots') : join(REPO, '.cache', 'screenshots');

/** Drags the side bar's edge so that the explorer's descriptions (template, time left, metadata) fit. */
async function widenSideBar(page: Page, width: number): Promise<void> {
  const box = await page.locator('.part.sidebar').boundingBox();
  if (!box || box.width >= width) return;
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width + 1, y);
  await page.mouse.down();
  await page.mouse.move(box.x + width, y, { steps: 8 });
  await page.mouse.up();
  // Away from the sash, which stays highlighted while the pointer is on it.
  await page.mouse.move(box.x + width + 400, y);
}

/** Takes a screenshot for each `<name>.request` file the suite leaves in `requests`, then removes it. */
function serveScreenshots(page: Page, requests: string): () => Promise<void> {
  let stopped = false;
  let widened = false;
  const loop = (async () => {
    while (!stopped) {
      for (const file of readdirSync(requests).filter((f) => f.endsWith('.request'))) {
        if (!widened) {
          widened = true;
          await widenSideBar(page, 520).then(
            () => page.waitForTimeout(500),
            () => undefined,
          );
        }
        const name = file.slice(0, -'.request'.length).replace(/[^\w.-]/g, '_');
        await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) }).then(
          () => console.log(`# screenshot ${join(SCREENSHOTS, `${name}.png`)}`),
          (err) => console.log(`# screenshot ${name} failed: ${err}`),
        );
        rmSync(join(requests, file), { force: true });
      }
      await sleep(200);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

async function main(): Promise<number> {
  const { extension, runner } = packageExtensions();
  mkdirSync(SCREENSHOTS, { recursive: true });
  let screenshotRequests = '';
  return runInWorkbench(
    {
      name: 'e2b-vscode-test-',
      vsixFiles: [extension, runner],
      suite: join(OUT, 'test/suite/index.js'),
      settings: {
        // Nobody is there to answer the tools' confirmation prompts (their content is tested directly).
        'e2b.chat.confirmToolRuns': false,
        // Room for the extension's views in the README screenshots.
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
      },
      env: (work) => {
        screenshotRequests = join(work, 'screenshot-requests');
        mkdirSync(screenshotRequests, { recursive: true });
        return { E2B_VSCODE_TEST_GREP: process.env.E2B_VSCODE_TEST_GREP ?? '', E2B_VSCODE_SCREENSHOT_REQUESTS: screenshotRequests };
      },
      browserContext: { viewport: { width: 1280, height: 800 }, permissions: ['clipboard-read', 'clipboard-write'] },
    },
    async ({ codeServer, page, results }) => {
      const stopScreenshots = serveScreenshots(page, screenshotRequests);
      const text = await waitForResults(results, codeServer.output).finally(stopScreenshots);
      // How the workbench looked at the end, for looking into failures (never a README picture).
      mkdirSync(join(REPO, '.cache', 'screenshots'), { recursive: true });
      await page.screenshot({ path: join(REPO, '.cache', 'screenshots', 'end-of-suite.png') }).catch(() => undefined);
      const done = suiteSummary(text);
      const summary = done ?? { passed: 0, failed: 1, skipped: 0 };
      if (!done) console.log(`the suite did not run to the end; code-server said:\n${codeServer.output().slice(-4000)}`);
      console.log(`vscode: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
      return summary.failed === 0 && done ? 0 : 1;
    },
  );
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
