// A cold create does not wait for a kernel grace period when crun moves the sandbox into its
// cgroups: the runtime turns on cgroup2's favordynmods (container/cgroups.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Sandbox } from 'e2b';
import { cgroupLayout, favorCgroupMigrations, superOptions } from '../src/container/cgroups';
import { RuntimeProcess } from './helpers/runtime-process';

const MOUNT_POINT = cgroupLayout() === 'v2' ? '/sys/fs/cgroup' : '/sys/fs/cgroup/unified';
const KERNEL_HAS_IT = readFileSync('/sys/kernel/cgroup/features', 'utf8').split(/\s+/).includes('favordynmods');

/**
 * Remounts cgroup2 without favordynmods. mount(8) would keep the option (it passes the mount's
 * options along on a remount), so this calls mount(2) itself, with the other options only.
 */
function clearFavorDynmods(): void {
  const others = superOptions(MOUNT_POINT)!.filter((o) => o !== 'rw' && o !== 'favordynmods');
  const script =
    'import ctypes, sys; libc = ctypes.CDLL(None, use_errno=True); MS_REMOUNT = 32\n' +
    'if libc.mount(None, sys.argv[1].encode(), None, MS_REMOUNT, sys.argv[2].encode()) != 0: sys.exit(ctypes.get_errno())';
  execFileSync('python3', ['-c', script, MOUNT_POINT, others.join(',')]);
}

describe('cgroup migrations', { skip: !KERNEL_HAS_IT && 'the kernel has no favordynmods' }, () => {
  // Other test files' runtimes turn the option on too, at any moment: this one calls the
  // function itself right after clearing it, so what it logs is its own doing.
  it('remounts cgroup2 with favordynmods, once', () => {
    clearFavorDynmods();
    const logged: string[] = [];
    favorCgroupMigrations((line) => logged.push(line));
    assert.ok(superOptions(MOUNT_POINT)!.includes('favordynmods'), `options of ${MOUNT_POINT}: ${superOptions(MOUNT_POINT)}`);
    assert.match(logged.join('\n'), /remounted \S+ with favordynmods/);
    favorCgroupMigrations((line) => logged.push(line));
    assert.equal(logged.length, 1, 'a mount that has it already is left alone');
  });

  it('a starting runtime turns it on, and sandboxes boot as before', async () => {
    clearFavorDynmods();
    const runtime = await RuntimeProcess.start(['--warm-pool', '0']);
    try {
      assert.ok(superOptions(MOUNT_POINT)!.includes('favordynmods'), `options of ${MOUNT_POINT}: ${superOptions(MOUNT_POINT)}`);
      const sandbox = await Sandbox.create(runtime.sdk);
      assert.equal((await sandbox.commands.run('echo booted')).stdout, 'booted\n');
      await sandbox.kill();
    } finally {
      await runtime.dispose();
    }
  });
});
