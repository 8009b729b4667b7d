// The small C programs of the runtime, compiled statically on first use so they run in any image
// whatever its libc: every sandbox's init and PTY helper, and the host-side volume file helper.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runtimePackageDir } from '../paths';

export const NATIVE_PROGRAMS = { init: 'e2b-init', ptyexec: 'e2b-ptyexec', volumeIo: 'e2b-volume-io' } as const;
const SOURCES: Record<string, string> = { 'e2b-init': 'init.c', 'e2b-ptyexec': 'ptyexec.c', 'e2b-volume-io': 'volume-io.c' };

export function ensureNativePrograms(binDir: string): void {
  mkdirSync(binDir, { recursive: true });
  for (const [program, source] of Object.entries(SOURCES)) {
    const src = join(runtimePackageDir(), 'native', source);
    const out = join(binDir, program);
    if (existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs) continue;
    execFileSync('gcc', ['-O2', '-static', '-Wall', '-o', `${out}.tmp`, src], { stdio: 'inherit' });
    execFileSync('mv', ['-f', `${out}.tmp`, out]);
  }
}
