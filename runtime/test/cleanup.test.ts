// Nothing a sandbox had on the host survives its kill: mounts, cgroups, crun state, files.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';
import { crunContainers, mountsUnder, sandboxCgroupDirs, sandboxHostPids } from './helpers/host-traces';
import { sleep } from './helpers/wait';

describe('cleanup after kill', () => {
  let runtime: RuntimeProcess;
  // No warm pool: its ready sandboxes would be traces too (warm-pool.test.ts covers their clean-up).
  before(async () => {
    runtime = await RuntimeProcess.start(['--warm-pool', '0']);
  });
  after(async () => {
    await runtime?.dispose();
  });

  it('leaves no mounts, cgroups, crun state, processes or files after 50 create/kill cycles', async () => {
    const ids: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        [0, 1, 2, 3, 4].map(async () => {
          const sandbox = await Sandbox.create(runtime.sdk);
          ids.push(sandbox.sandboxId);
          await sandbox.commands.run('sleep 300 & echo started', { user: 'root' });
          assert.equal(await sandbox.kill(), true);
        }),
      );
    }
    assert.equal(ids.length, 50);
    assert.deepEqual(mountsUnder(runtime.dataDir), []);
    assert.deepEqual(crunContainers(runtime.dataDir), []);
    assert.deepEqual(readdirSync(join(runtime.dataDir, 'sandboxes')), []);
    for (const id of ids) {
      assert.deepEqual(sandboxCgroupDirs(id), [], `cgroups of ${id}`);
      assert.ok(!existsSync(join(runtime.dataDir, 'sandboxes', id)));
    }
  });
});

describe('a sandbox that dies by itself', () => {
  let runtime: RuntimeProcess;
  before(async () => {
    runtime = await RuntimeProcess.start();
  });
  after(async () => {
    await runtime?.dispose();
  });

  it('is noticed, listed no more, and cleaned up', async () => {
    const sandbox = await Sandbox.create(runtime.sdk);
    const init = sandboxHostPids(sandbox.sandboxId).find((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'e2b-init');
    assert.ok(init, 'the host sees the sandbox init');
    process.kill(init, 'SIGKILL');
    // Generous: the runtime notices on its next sweep, and a busy machine slows the clean-up.
    const deadline = Date.now() + 15_000;
    while ((await Sandbox.list(runtime.sdk).nextItems()).some((s) => s.sandboxId === sandbox.sandboxId)) {
      assert.ok(Date.now() < deadline, 'the dead sandbox is still listed');
      await sleep(100);
    }
    // It leaves the list as soon as it is found dead; the clean-up follows a moment later.
    const ownDir = join(runtime.dataDir, 'sandboxes', sandbox.sandboxId);
    while (sandboxCgroupDirs(sandbox.sandboxId).length > 0 || mountsUnder(ownDir).length > 0) {
      assert.ok(Date.now() < deadline, `left behind: ${sandboxCgroupDirs(sandbox.sandboxId)} ${mountsUnder(ownDir)}`);
      await sleep(100);
    }
  });
});
