// The small C programs of the runtime, compiled statically on first use so they run in any image
// whatever its libc: every sandbox's init and PTY helper / command launcher, and the host-side
// volume file helper, sandbox disk tool and the spawner that runs the runtime's host tools.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runtimePackageDir } from '../paths';

export const NATIVE_PROGRAMS = {
  init: 'e2b-init',
  ptyexec: 'e2b-ptyexec',
  volumeIo: 'e2b-volume-io',
  sandboxDisk: 'e2b-sandbox-disk',
  spawner: 'e2b-spawner',
} as const;
const SOURCES: Record<string, string[]> = {
  'e2b-init': ['init.c'],
  'e2b-ptyexec': ['ptyexec.c', 'relay.c', 'launcher.c'],
  'e2b-volume-io': ['volume-io.c'],
  'e2b-sandbox-disk': ['sandbox-disk.c'],
  'e2b-spawner': ['spawner.c'],
};

export function ensureNativePrograms(binDir: string): void {
  mkdirSync(binDir, { recursive: true });
  const nativeDir = join(runtimePackageDir(), 'native');
  const headers = readdirSync(nativeDir)
    .filter((name) => name.endsWith('.h'))
    .map((name) => join(nativeDir, name));
  for (const [program, sources] of Object.entries(SOURCES)) {
    const srcs = sources.map((source) => join(nativeDir, source));
    const out = join(binDir, program);
    const newestInput = Math.max(...[...srcs, ...headers].map((path) => statSync(path).mtimeMs));
    if (existsSync(out) && statSync(out).mtimeMs >= newestInput) continue;
    execFileSync('gcc', ['-O2', '-static', '-Wall', '-o', `${out}.tmp`, ...srcs], { stdio: 'inherit' });
    execFileSync('mv', ['-f', `${out}.tmp`, out]);
  }
}
