// Builds a sandbox image with mmdebstrap and stores it, shifted into the sandboxes' uid range,
// as <imagesDir>/<name>/rootfs. Built once, then reused until its recipe changes.
import { spawn } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  mkdirSync,
  writeFileSync,
  lchownSync,
  chmodSync,
} from 'node:fs';
import { join } from 'node:path';
import { HOST_ID_BASE } from '../container/idmap';
import type { RuntimePaths } from '../paths';
import { shellQuote } from '../shell-quote';
import { ImageRecipe, recipeFingerprint, SandboxStart } from './recipes';

export interface ImageInfo {
  name: string;
  fingerprint: string;
  builtAt: string;
  start?: SandboxStart;
}

export function readImageInfo(imageDir: string): ImageInfo | undefined {
  try {
    return JSON.parse(readFileSync(join(imageDir, 'image.json'), 'utf8')) as ImageInfo;
  } catch {
    return undefined;
  }
}

/** Whether `name` is one of the runtime's own images (base, code-interpreter-v1...), built here. */
export function isLocalImage(paths: RuntimePaths, name: string): boolean {
  // The pattern keeps `name` one directory below imagesDir.
  return /^[a-z0-9][a-z0-9._-]*$/.test(name) && readImageInfo(paths.imageDir(name)) !== undefined;
}

export function imageIsCurrent(imageDir: string, recipe: ImageRecipe): boolean {
  return readImageInfo(imageDir)?.fingerprint === recipeFingerprint(recipe) && existsSync(join(imageDir, 'rootfs'));
}

export async function buildImage(imagesDir: string, recipe: ImageRecipe, log: (line: string) => void): Promise<void> {
  const finalDir = join(imagesDir, recipe.name);
  const workDir = join(imagesDir, `.${recipe.name}.building-${process.pid}`);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const started = Date.now();
  log(`image ${recipe.name}: building from Debian ${recipe.suite} with mmdebstrap (about a minute)`);
  try {
    await runMmdebstrap(recipe, join(workDir, 'rootfs'), log);
    log(`image ${recipe.name}: shifting file ownership into the sandbox uid range`);
    shiftOwnership(join(workDir, 'rootfs'), HOST_ID_BASE);
    const info: ImageInfo = {
      name: recipe.name,
      fingerprint: recipeFingerprint(recipe),
      builtAt: new Date().toISOString(),
      start: recipe.start,
    };
    writeFileSync(join(workDir, 'image.json'), JSON.stringify(info, null, 2));
    // Swap in atomically; sandboxes still running on an old image keep their mounted lower layer.
    const oldDir = `${finalDir}.old-${process.pid}`;
    if (existsSync(finalDir)) renameSync(finalDir, oldDir);
    renameSync(workDir, finalDir);
    rmSync(oldDir, { recursive: true, force: true });
    log(`image ${recipe.name}: ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    rmSync(workDir, { recursive: true, force: true });
    throw err;
  }
}

function runMmdebstrap(recipe: ImageRecipe, rootfs: string, log: (line: string) => void): Promise<void> {
  const args = [
    '--variant=minbase',
    `--include=${recipe.packages.join(',')}`,
    // Documentation and translations are a third of a minimal root and nobody reads them in a sandbox.
    '--dpkgopt=path-exclude=/usr/share/man/*',
    '--dpkgopt=path-exclude=/usr/share/doc/*',
    '--dpkgopt=path-exclude=/usr/share/locale/*',
    '--dpkgopt=path-include=/usr/share/locale/locale.alias',
    // Without man pages the man1 dir is missing, and update-alternatives (OpenJDK's postinst links
    // its man pages as slaves) fails to create links in it.
    '--essential-hook=mkdir -p "$1"/usr/share/man/man1',
    ...(recipe.excludePaths ?? []).map((glob) => `--dpkgopt=path-exclude=${glob}`),
    ...(recipe.files ?? []).flatMap((file) => {
      let source: string;
      try {
        source = typeof file.source === 'string' ? file.source : file.source();
      } catch (err) {
        if (!file.optional) throw err;
        log(`image ${recipe.name}: leaving out ${file.target}: ${(err as Error).message}`);
        return [];
      }
      const targetDir = file.target.replace(/\/[^/]*$/, '') || '/';
      return [
        `--customize-hook=mkdir -p "$1"${shellQuote(targetDir)}`,
        `--customize-hook=cp -a ${shellQuote(source)} "$1"${shellQuote(file.target)}`,
      ];
    }),
    ...recipe.setup.map((command) => `--customize-hook=chroot "$1" sh -c ${shellQuote(command)}`),
    recipe.suite,
    rootfs,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('mmdebstrap', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const onOutput = (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n'))
        if (line.startsWith('I: ') || line.startsWith('E: ')) log(`image ${recipe.name}: ${line.slice(3)}`);
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    child.on('error', (err) => reject(new Error(`cannot run mmdebstrap (${err.message}); run scripts/setup.sh first`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`mmdebstrap failed (exit ${code}):\n${tail}`))));
  });
}

/** chown every file by +offset; chown clears setuid/setgid bits, so modes are restored after. */
function shiftOwnership(root: string, offset: number): void {
  const stack = [root];
  while (stack.length > 0) {
    const path = stack.pop()!;
    const st = lstatSync(path);
    lchownSync(path, st.uid + offset, st.gid + offset);
    if (!st.isSymbolicLink()) chmodSync(path, st.mode & 0o7777);
    if (st.isDirectory()) for (const name of readdirSync(path)) stack.push(join(path, name));
  }
}
