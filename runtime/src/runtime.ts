// Starting the runtime: host preparation, images, API key, re-adopting sandboxes, the server.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Server } from 'node:http';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { prepareCgroupsForCrun } from './container/cgroups';
import { Crun } from './container/crun';
import { ensureNativePrograms } from './container/native';
import { buildImage, imageIsCurrent } from './image/build';
import { IMAGE_RECIPES } from './image/recipes';
import { ImageTemplates } from './image/templates';
import { RuntimePaths, runtimePackageDir } from './paths';
import { newApiKey } from './sandbox/ids';
import { SandboxEvents } from './sandbox/events';
import { SandboxManager } from './sandbox/manager';
import { createRuntimeServer } from './server/runtime-server';
import { TemplateBuilds } from './templates/build';
import { TemplateStore } from './templates/store';
import { SnapshotStore } from './sandbox/snapshots';
import { SandboxSnapshots } from './sandbox/snapshot-service';

export interface RuntimeOptions {
  host: string;
  port: number;
  dataDir: string;
  imagesDir?: string;
  /** Host part of sandbox URLs (`<port>-<id>.<domain>`); default localhost:<port>. */
  domain?: string;
  images: string[];
  noNewPrivileges: boolean;
  /** Every sandbox's disk size, instead of its template's. */
  diskSizeMB?: number;
  /** Ready sandboxes to keep per template (see WarmPool). */
  warmPool: Map<string, number>;
  log: (line: string) => void;
}

export interface RunningRuntime { server: Server; sandboxes: SandboxManager; apiKey: string; url: string; close(): Promise<void> }

export async function startRuntime(options: RuntimeOptions): Promise<RunningRuntime> {
  const { log } = options;
  const paths = new RuntimePaths(options.dataDir, options.imagesDir);
  mkdirSync(paths.dataDir, { recursive: true });
  prepareCgroupsForCrun(log);
  ensureNativePrograms(paths.binDir);
  await buildMissingImages(paths, options.images, log);

  const apiKey = loadOrCreateApiKey(paths.apiKeyFile);
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
  writeFileSync(paths.envFile, `export E2B_API_URL=${url}\nexport E2B_SANDBOX_URL=${url}\nexport E2B_API_KEY=${apiKey}\n`, { mode: 0o600 });

  const agentScript = join(runtimePackageDir(), 'dist', 'agent.js');
  const interpreterScript = join(runtimePackageDir(), 'dist', 'interpreter.js');
  for (const script of [agentScript, interpreterScript]) {
    if (!existsSync(script)) throw new Error(`${script} is missing: build the runtime first (npm run -w runtime build)`);
  }
  const builds: TemplateBuilds = new TemplateBuilds(new TemplateStore(paths), {
    paths, crun: new Crun(paths.crunRoot), nodeBinary: process.execPath, agentScript, interpreterScript, noNewPrivileges: options.noNewPrivileges,
  }, (name: string): boolean => templates.isImage(name), log);
  const templates: ImageTemplates = new ImageTemplates(paths, builds);
  const snapshotStore = new SnapshotStore(paths);
  const collectSnapshotGarbage = () => void snapshotStore.collectGarbage().catch((err) => log(`snapshots: clean-up failed: ${String(err)}`));
  // Snapshots start sandboxes as templates do; their names never shadow a template's.
  const templatesAndSnapshots = { resolve: (ref: string) => templates.resolve(ref) ?? snapshotStore.resolve(ref) };
  const sandboxes = new SandboxManager(paths, new Crun(paths.crunRoot), templatesAndSnapshots, {
    nodeBinary: process.execPath,
    agentScript,
    interpreterScript,
    noNewPrivileges: options.noNewPrivileges,
    diskSizeMB: options.diskSizeMB,
    warmPool: options.warmPool,
    log,
    events: new SandboxEvents(join(paths.dataDir, 'events.jsonl')),
    afterDestroy: collectSnapshotGarbage,
  });
  await sandboxes.restore();
  await snapshotStore.recover();
  sandboxes.startSweeping();

  const snapshots = new SandboxSnapshots(sandboxes, snapshotStore, templates);
  const server = createRuntimeServer(sandboxes, templates, apiKey, options.domain ?? `localhost:${options.port}`, snapshots);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  writeFileSync(paths.pidFile, String(process.pid));
  // How this runtime was started, so a later start (the extension's, for one) can do the same.
  writeFileSync(paths.launchFile, JSON.stringify({ listen: `${options.host}:${options.port}`, imagesDir: paths.imagesDir, domain: options.domain }, null, 2));
  log(`runtime listening on ${url} (data in ${paths.dataDir}); configure a shell with: source ${paths.envFile}`);
  return {
    server, sandboxes, apiKey, url,
    close: async () => {
      await sandboxes.stop();
      await builds.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function buildMissingImages(paths: RuntimePaths, names: string[], log: (line: string) => void): Promise<void> {
  checkHost();
  for (const name of names) {
    const recipe = IMAGE_RECIPES[name];
    if (!recipe) throw new Error(`unknown image "${name}" (known: ${Object.keys(IMAGE_RECIPES).join(', ')})`);
    try {
      if (!imageIsCurrent(paths.imageDir(name), recipe)) await buildImage(paths.imagesDir, recipe, log);
    } catch (err) {
      // Without base nothing works; any other image only takes its template away.
      if (name === 'base') throw err;
      log(`image ${name}: not available (${(err as Error).message.split('\n')[0]}); sandboxes of this template cannot be created`);
    }
  }
}

function checkHost(): void {
  if (process.getuid?.() !== 0) throw new Error('the local runtime manages containers and must run as root');
  for (const tool of ['crun', 'mmdebstrap', 'gcc']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is not installed: run scripts/setup.sh (it installs what the runtime needs)`);
    }
  }
}

function loadOrCreateApiKey(file: string): string {
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    if (/^e2b_[0-9a-f]{40}$/.test(key)) return key;
  }
  const key = newApiKey();
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}
