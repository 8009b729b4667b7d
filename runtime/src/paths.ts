// Where the runtime keeps things. One data dir per runtime; images may live in a shared dir so
// that test runtimes reuse the images a previous run built.
import { join, resolve } from 'node:path';
import { runtimeFiles } from './contract/local-runtime-contract';

export class RuntimePaths {
  readonly dataDir: string;
  readonly imagesDir: string;

  constructor(dataDir: string, imagesDir?: string) {
    this.dataDir = resolve(dataDir);
    this.imagesDir = resolve(imagesDir ?? join(this.dataDir, 'images'));
  }

  get envFile(): string {
    return runtimeFiles(this.dataDir).env;
  }
  get apiKeyFile(): string {
    return join(this.dataDir, 'api-key');
  }
  get sandboxesDir(): string {
    return join(this.dataDir, 'sandboxes');
  }
  get crunRoot(): string {
    return join(this.dataDir, 'crun');
  }
  get binDir(): string {
    return join(this.dataDir, 'bin');
  }
  /** The empty disk images sandbox disks are copied from (container/blank-disks.ts). */
  get blankDisksDir(): string {
    return join(this.dataDir, 'blank-disks');
  }
  get pidFile(): string {
    return runtimeFiles(this.dataDir).pid;
  }
  /** The local CA and the server certificate of the sandbox domain (see server/local-ca.ts). */
  get tlsDir(): string {
    return join(this.dataDir, 'tls');
  }

  sandboxDir(id: string): string {
    return join(this.sandboxesDir, id);
  }
  imageDir(name: string): string {
    return join(this.imagesDir, name);
  }
  imageRootfs(name: string): string {
    return join(this.imagesDir, name, 'rootfs');
  }
}

/** The directory of the runtime package (dist/ and native/ live below it). */
export function runtimePackageDir(): string {
  // Bundled to runtime/dist/cli.js; __dirname is runtime/dist.
  return resolve(__dirname, '..');
}
