// Starting the runtime: host preparation, images, API key, re-adopting sandboxes, the server.
import { SandboxNetworks } from './network/sandbox-networks';
import { describeUplink, Uplink } from './network/uplink';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { formatListen, isApiKey, newApiKey, writeEnvFile, writeLaunchFile } from './contract/local-runtime-contract';
import { Server } from 'node:http';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { favorCgroupMigrations, prepareCgroupsForCrun } from './container/cgroups';
import { Crun } from './container/crun';
import { ensureNativePrograms } from './container/native';
import { useSpawner } from './host-command';
import { ensureBundledLibc } from './image/registry/bundled-libc';
import { buildImage, imageIsCurrent } from './image/build';
import { IMAGE_RECIPES } from './image/recipes';
import { TemplateCatalog } from './template-catalog';
import { RuntimePaths, runtimePackageDir } from './paths';
import { SandboxEvents } from './sandbox/events';
import { SandboxManager } from './sandbox/manager';
import { createRuntimeServer } from './server/runtime-server';
import { domainHost, ensureLocalTls, LocalTls } from './server/local-ca';
import { listenForHttpAndHttps } from './server/tls';
import { TemplateBuilds } from './template-builds/build';
import { TemplateStore } from './template-builds/store';
import { WebhookDeliveries } from './webhooks/delivery';
import { WebhookStore } from './webhooks/store';
import { NATIVE_PROGRAMS } from './container/native';
import { DEFAULT_VOLUME_SIZE_MB, VolumeStore } from './volumes/store';
import { SnapshotStore } from './sandbox/snapshots';
import { SandboxSnapshots } from './sandbox/snapshot-service';

export interface RuntimeOptions {
  host: string;
  port: number;
  dataDir: string;
  imagesDir?: string;
  /** Host part of sandbox URLs (`<port>-<id>.<domain>`); default e2b.localhost:<port>. */
  domain?: string;
  images: string[];
  noNewPrivileges: boolean;
  /** Every sandbox's disk size, instead of its template's. */
  diskSizeMB?: number;
  /** Each new volume's size cap (default 10 GiB, sparse). */
  volumeSizeMB?: number;
  /** Templates whose image registry cannot be reached are built on the local base (logged as such). */
  offlineFallback?: boolean;
  /** Ready sandboxes to keep per template (see WarmPool). */
  warmPool: Map<string, number>;
  /** Where sandbox traffic leaves the host (none: sandboxes have loopback only). */
  uplink: Uplink;
  /** A handed-out sandbox's agent exits after this many idle seconds (0: never); see ContainerOptions. */
  agentIdleExitSeconds?: number;
  log: (line: string) => void;
}

export interface RunningRuntime {
  server: Server;
  sandboxes: SandboxManager;
  apiKey: string;
  url: string;
  close(): Promise<void>;
}

export async function startRuntime(options: RuntimeOptions): Promise<RunningRuntime> {
  const { log } = options;
  const paths = new RuntimePaths(options.dataDir, options.imagesDir);
  mkdirSync(paths.dataDir, { recursive: true });
  prepareCgroupsForCrun(log);
  favorCgroupMigrations(log);
  ensureNativePrograms(paths.binDir);
  useSpawner(join(paths.binDir, NATIVE_PROGRAMS.spawner));
  ensureBundledLibc(paths.binDir, process.execPath);
  await buildMissingImages(paths, options.images, log);

  const apiKey = loadOrCreateApiKey(paths.apiKeyFile);
  const url = `http://${formatListen(options)}`;
  // E2B_VOLUME_API_URL: the SDK's volume content API, served on the same port.
  // Two labels at least: clients refuse a wildcard certificate for *.localhost (a single label).
  const domain = options.domain ?? `e2b.localhost:${options.port}`;
  const tls = localTlsFor(paths, domain, log);
  writeEnvFile(paths.dataDir, { apiUrl: url, sandboxUrl: url, volumeApiUrl: url, apiKey }, tls);

  const agentScript = join(runtimePackageDir(), 'dist', 'agent.js');
  const interpreterScript = join(runtimePackageDir(), 'dist', 'interpreter.js');
  for (const script of [agentScript, interpreterScript]) {
    if (!existsSync(script)) throw new Error(`${script} is missing: build the runtime first (npm run -w runtime build)`);
  }
  const network = new SandboxNetworks(options.uplink, paths.dataDir, log);
  await network.start();
  log(`network: uplink ${describeUplink(options.uplink)}${network.enabled ? '' : ' (sandboxes have loopback only)'}`);
  const builds = new TemplateBuilds(
    new TemplateStore(paths),
    {
      paths,
      crun: new Crun(paths.crunRoot),
      nodeBinary: process.execPath,
      agentScript,
      interpreterScript,
      noNewPrivileges: options.noNewPrivileges,
      network,
    },
    log,
    { offlineFallback: options.offlineFallback },
  );
  const templates = new TemplateCatalog(paths, builds);
  const events = new SandboxEvents(join(paths.dataDir, 'events.jsonl'));
  const webhooks = new WebhookStore(join(paths.dataDir, 'webhooks.json'));
  // Subscribed before restore: events of sandboxes cleaned up on start reach the webhooks too.
  const deliveries = new WebhookDeliveries(webhooks, events, log);
  const volumes = new VolumeStore({
    dataDir: paths.dataDir,
    helper: join(paths.binDir, NATIVE_PROGRAMS.volumeIo),
    sizeMB: options.volumeSizeMB ?? DEFAULT_VOLUME_SIZE_MB,
    log,
  });
  // Before the sandboxes: those that mount a volume need its disk mounted.
  await volumes.restore();
  const snapshotStore = new SnapshotStore(paths);
  const collectSnapshotGarbage = () =>
    void snapshotStore.collectGarbage().catch((err) => log(`snapshots: clean-up failed: ${String(err)}`));
  // Snapshots start sandboxes as templates do; their names never shadow a template's.
  const templatesAndSnapshots = { resolve: (ref: string) => templates.resolve(ref) ?? snapshotStore.resolve(ref) };
  const sandboxes = new SandboxManager(paths, new Crun(paths.crunRoot), templatesAndSnapshots, {
    nodeBinary: process.execPath,
    agentScript,
    interpreterScript,
    noNewPrivileges: options.noNewPrivileges,
    diskSizeMB: options.diskSizeMB,
    warmPool: options.warmPool,
    agentIdleExitMs: Math.round((options.agentIdleExitSeconds ?? 0) * 1000),
    log,
    events,
    volumes,
    afterDestroy: collectSnapshotGarbage,
    network,
  });
  await sandboxes.restore();
  await snapshotStore.recover();
  sandboxes.startSweeping();

  const snapshots = new SandboxSnapshots(sandboxes, snapshotStore, templates);
  const server = createRuntimeServer(sandboxes, templates, apiKey, domain, { webhooks, volumes, snapshots });
  const listener = await listenForHttpAndHttps(server, tls, options.port, options.host);
  // A runtime that runs for months renews its server certificate before it expires.
  const renewal = setInterval(() => {
    const renewed = localTlsFor(paths, domain, log);
    if (renewed) listener.setCredentials(renewed);
  }, 86_400_000).unref();
  writeFileSync(paths.pidFile, String(process.pid));
  // How this runtime was started, so a later start (the extension's, for one) can do the same.
  writeLaunchFile(paths.dataDir, { listen: formatListen(options), imagesDir: paths.imagesDir, domain: options.domain });
  log(`runtime listening on ${url} (data in ${paths.dataDir}); configure a shell with: source ${paths.envFile}`);
  return {
    server,
    sandboxes,
    apiKey,
    url,
    close: async () => {
      await sandboxes.stop();
      deliveries.stop();
      await builds.close();
      await network.close();
      clearInterval(renewal);
      await listener.close();
    },
  };
}

/** The CA and certificate for https on the sandbox domain; undefined (plain http only) when they cannot be made. */
function localTlsFor(paths: RuntimePaths, domain: string, log: (line: string) => void): LocalTls | undefined {
  const host = domainHost(domain);
  if (!host) {
    log(`tls: off, the domain ${domain} is not a DNS name (https://<port>-<id>.<domain> needs one)`);
    return undefined;
  }
  if (!host.includes('.'))
    log(`tls: clients refuse the certificate for *.${host} (a wildcard over one label): use a domain like e2b.${host}`);
  try {
    return ensureLocalTls(paths.tlsDir, host, log);
  } catch (err) {
    log(`tls: off, only plain http is served (${(err as Error).message})`);
    return undefined;
  }
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
    if (isApiKey(key)) return key;
  }
  const key = newApiKey();
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}
