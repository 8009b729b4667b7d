// The host's dynamic loader and the libraries the host's Node links against, copied next to the
// runtime's static helpers (<binDir>/node-libs, seen in every sandbox at /opt/e2b/bin/node-libs).
// A registry image may have no glibc (Alpine, distroless, scratch) or an older one than that Node
// needs: e2b-init then starts the agent through this loader (see native/init.c), so the agent
// runs in any image, as E2B's static envd does.
import { execFileSync } from 'node:child_process';
import { copyFileSync, chmodSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

export const NODE_LIBS_DIR = 'node-libs';
/** The name init.c runs the loader by (BUNDLED_LOADER). */
const LOADER_NAME = 'ld.so';

/** Copies what `nodeBinary` needs (per ldd) into binDir/node-libs, replacing files that changed. */
export function ensureBundledLibc(binDir: string, nodeBinary: string): void {
  const dir = join(binDir, NODE_LIBS_DIR);
  mkdirSync(dir, { recursive: true });
  const { loader, libraries } = linkedLibraries(nodeBinary);
  for (const [source, name] of [[loader, LOADER_NAME] as const, ...libraries.map((lib) => [lib, basename(lib)] as const)]) {
    const target = join(dir, name);
    if (sameFile(source, target)) continue;
    // A running sandbox may be loading the old copy: replace it by rename, never in place.
    const tmp = `${target}.tmp-${process.pid}`;
    copyFileSync(source, tmp);
    chmodSync(tmp, 0o755);
    renameSync(tmp, target);
  }
}

function sameFile(source: string, target: string): boolean {
  try {
    const a = statSync(source);
    const b = statSync(target);
    return a.size === b.size && Math.floor(b.mtimeMs) >= Math.floor(a.mtimeMs);
  } catch {
    return false;
  }
}

/** ldd's answer: the loader (the line without "=>") and every resolved library. */
function linkedLibraries(binary: string): { loader: string; libraries: string[] } {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  let loader = '';
  const libraries: string[] = [];
  for (const line of out.split('\n')) {
    const resolved = /=>\s+(\/\S+)/.exec(line);
    if (resolved) libraries.push(resolved[1]);
    else if (/^\s*(\/\S*ld-linux\S*)/.test(line)) loader = /^\s*(\/\S+)/.exec(line)![1];
  }
  if (!loader) throw new Error(`cannot find the dynamic loader of ${binary} in: ${out.trim()}`);
  return { loader, libraries };
}
