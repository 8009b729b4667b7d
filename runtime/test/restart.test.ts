// Restarting the runtime loses nothing: running sandboxes and their processes are re-adopted,
// expired ones are killed, half-created ones are cleaned up.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError, Sandbox } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';
import { mountsUnder, sandboxCgroupDirs } from './helpers/host-traces';
import { sleep, waitUntil } from './helpers/wait';

describe('runtime restart', () => {
  let runtime: RuntimeProcess;
  before(async () => {
    runtime = await RuntimeProcess.start();
  });
  after(async () => {
    await runtime?.dispose();
  });

  it('keeps running sandboxes and their processes across a restart', async () => {
    const sandbox = await Sandbox.create({ ...runtime.sdk, metadata: { keep: 'me' } });
    const counter = await sandbox.commands.run('i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done', {
      background: true,
    });
    await runtime.stop();
    await sleep(500);
    await runtime.launch();
    const info = await Sandbox.getInfo(sandbox.sandboxId, runtime.sdk);
    assert.deepEqual(info.metadata, { keep: 'me' });
    const again = await Sandbox.connect(sandbox.sandboxId, runtime.sdk);
    assert.ok(
      (await again.commands.list()).some((p) => p.pid === counter.pid),
      'the background loop still runs',
    );
    // Polled so a read between the loop's truncate and write (an empty file) is not taken as 0.
    const count = async () => Number((await again.commands.run('cat /tmp/count')).stdout);
    const first = await waitUntil('a count', count);
    await waitUntil('the counter to move on', async () => (await count()) > first);
    await again.kill();
  });

  it('kills sandboxes that expired while it was down and cleans up half-created ones', async () => {
    const shortLived = await Sandbox.create({ ...runtime.sdk, timeoutMs: 1000 });
    const halfMade = join(runtime.dataDir, 'sandboxes', 'halfcreatedsandbox01');
    await runtime.stop();
    mkdirSync(join(halfMade, 'upper'), { recursive: true });
    writeFileSync(join(halfMade, 'sandbox.json'), JSON.stringify({ sandboxID: 'halfcreatedsandbox01', state: 'creating' }));
    await sleep(1500);
    await runtime.launch();
    await assert.rejects(Sandbox.getInfo(shortLived.sandboxId, runtime.sdk), NotFoundError);
    assert.deepEqual(sandboxCgroupDirs(shortLived.sandboxId), []);
    assert.ok(!existsSync(halfMade));
    assert.deepEqual(mountsUnder(join(runtime.dataDir, 'sandboxes', shortLived.sandboxId)), []);
  });
});
