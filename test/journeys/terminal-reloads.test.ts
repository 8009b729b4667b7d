// A sandbox terminal across window reloads, driven through the workbench: it must come back every
// time, attached to the same shell, showing what the shell wrote while the window was away, and
// taking the first keystroke typed after the reload. A terminal whose sandbox is gone says so.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox } from 'e2b';
import { Workbench } from './workbench';

const RELOADS = Number(process.env.RELOADS ?? 10);

describe('a sandbox terminal across window reloads', () => {
  let workbench: Workbench;
  let sandbox: Sandbox;
  before(async () => {
    workbench = await Workbench.open('folder');
    sandbox = await Sandbox.create({ ...workbench.runtime.sdk, timeoutMs: 600_000 });
  });
  after(async () => {
    await workbench?.close();
  });

  const shells = async () => (await sandbox.commands.list()).filter((p) => p.cmd === '/bin/bash' || p.args.includes('-i'));
  const screen = () => workbench.terminalText();

  it(
    `comes back ${RELOADS} of ${RELOADS} reloads, the same shell, with what it wrote meanwhile and every keystroke`,
    { timeout: RELOADS * 120_000 },
    async () => {
      await workbench.command('E2B: Open Terminal in Sandbox');
      await workbench.pick(sandbox.sandboxId);
      await workbench.page.locator('.terminal-wrapper.active .xterm-rows').waitFor({ timeout: 60_000 });
      await workbench.page.keyboard.type('export MARK=kept; echo "ready=$MARK"\n');
      await workbench.waitFor('the shell to answer', async () => (await screen()).includes('ready=kept'), 60_000);
      const [shell] = await shells();
      assert.ok(shell, 'a shell runs in the sandbox');

      for (let i = 1; i <= RELOADS; i++) {
        // Written by the shell while the window is away (the reload takes longer than the sleep);
        // the reload waits for the echo: keys still on their way when a window goes are lost.
        await workbench.page.keyboard.type(`(sleep 3; echo "away-${i}") &\n`);
        await workbench.waitFor(`reload ${i}: the shell to take the line`, async () => (await screen()).includes(`echo "away-${i}") &`));
        await workbench.reload();
        await workbench.waitFor(
          `reload ${i}: the sandbox terminal to be the one shown`,
          async () => /^E2B /.test(await workbench.activeTerminalName()),
          90_000,
        );
        // Typed as soon as it is there, while it may still be attaching: no keystroke may be lost.
        await workbench.page.locator('.terminal-wrapper.active .xterm-screen').click();
        await workbench.page.keyboard.type(`echo "back-${i}=$MARK"\n`);
        await workbench.waitFor(`reload ${i}: the same shell to answer`, async () => (await screen()).includes(`back-${i}=kept`), 60_000);
        assert.match(await screen(), /\[reattached to the shell/);
        assert.ok(
          (await screen()).includes(`away-${i}`),
          `reload ${i}: what the shell wrote while the window was away is shown:\n${await screen()}`,
        );
        assert.deepEqual(
          (await shells()).map((p) => p.pid),
          [shell.pid],
          `reload ${i}: still the one shell, pid ${shell.pid}`,
        );
        const names = await workbench.terminalNames();
        assert.equal(names.filter((name) => name.startsWith('E2B')).length, 1, `reload ${i}: one sandbox terminal, no ghost: ${names}`);
        assert.match(await workbench.activeTerminalName(), /^E2B /, `reload ${i}: the sandbox terminal is the one shown`);
      }
    },
  );

  it(
    'says so in its own text when the sandbox is gone, stays marked as a sandbox terminal, and stays so across a reload',
    { timeout: 240_000 },
    async () => {
      await sandbox.kill();
      const saysGone = async () =>
        /sandbox \w+ is gone/.test(await screen()) && (await workbench.terminalNames()).some((name) => /^E2B \w+ \(gone\)/.test(name));
      await workbench.waitFor('the open terminal to say the sandbox is gone', saysGone, 90_000);
      await workbench.reload();
      await workbench.waitFor('the terminal back after the reload, saying the sandbox is gone', saysGone, 90_000);
    },
  );
});
