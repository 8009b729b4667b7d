// `npm run runtime -- up [--listen ADDR] [--data-dir DIR] [--images-dir DIR] [--domain D] [--image NAME...] [--uplink U]`
import { uplinkFrom } from '../network/uplink';
import {
  DEFAULT_DATA_DIR,
  DEFAULT_LISTEN,
  formatListen,
  parseRuntimeArguments,
  RuntimeArgumentError,
  RuntimeCommandLine,
} from '../contract/local-runtime-contract';
import { RuntimePaths } from '../paths';
import { buildMissingImages, startRuntime } from '../runtime';
import { parsePoolSizes } from '../sandbox/warm-pool';

// base is what Sandbox.create() uses; code-interpreter-v1 is what @e2b/code-interpreter and the
// extension's notebooks use.
const DEFAULT_IMAGES = ['base', 'code-interpreter-v1', 'mcp-gateway'];
// Sandboxes kept booted and ready to hand out (an idle base sandbox costs ~7 MB of host memory).
const DEFAULT_WARM_POOL = 'base=2,code-interpreter-v1=1';
const DEFAULT_AGENT_IDLE_EXIT_SECONDS = 30;

const USAGE = `usage: npm run runtime -- up [options]     start the runtime
       npm run runtime -- build [options]  build missing images, then exit
  --listen ADDR        address[:port] to serve on (default ${formatListen(DEFAULT_LISTEN)})
  --data-dir DIR       state, API key and env file (default ${DEFAULT_DATA_DIR})
  --images-dir DIR     where sandbox images are cached (default DATA_DIR/images)
  --domain DOMAIN      sandbox host names are <port>-<id>.DOMAIN (default e2b.localhost:PORT)
  --image NAME         an image to build if missing (repeatable; default base and code-interpreter-v1)
  --warm-pool T=N,...  ready sandboxes to keep per template (default ${DEFAULT_WARM_POOL}; 0 = none)
  --no-new-privileges  set no_new_privs on sandbox processes (sudo then stops working)
  --disk-size-mb N     every sandbox's disk, instead of its template's size (10240)
  --volume-size-mb N   the size cap of each new volume (10240; sparse: costs what is written)
  --offline-fallback   a template whose image registry cannot be reached is built on the local
                       base image instead of failing (its build log says so)
  --agent-idle-exit S  a sandbox's agent exits after S idle seconds and starts again on the next
                       request, so an idle sandbox holds no agent memory (default ${DEFAULT_AGENT_IDLE_EXIT_SECONDS}; 0 = never)
  --uplink U           where sandbox traffic goes out: host (the host's routing), none (loopback
                       only), netns:NAME (a network namespace; for tests). Default $E2B_RUNTIME_UPLINK or host`;

async function main(argv: string[]): Promise<void> {
  const [command] = argv;
  if (command !== 'up' && command !== 'build') {
    console.error(USAGE);
    process.exit(command === undefined || command === '--help' ? 0 : 2);
  }
  let args: RuntimeCommandLine;
  try {
    args = parseRuntimeArguments(argv);
  } catch (err) {
    if (err instanceof RuntimeArgumentError && err.showUsage) throw new Error(`${err.message}\n${USAGE}`, { cause: err });
    throw err;
  }
  const dataDir = args.dataDir ?? DEFAULT_DATA_DIR;
  const images = args.images ?? DEFAULT_IMAGES;
  const log = (line: string) => console.log(`[${new Date().toISOString()}] ${line}`);
  if (command === 'build') {
    await buildMissingImages(new RuntimePaths(dataDir, args.imagesDir), images, log);
    return;
  }
  const runtime = await startRuntime({
    ...(args.listen ?? DEFAULT_LISTEN),
    dataDir,
    imagesDir: args.imagesDir,
    domain: args.domain,
    images,
    noNewPrivileges: args.noNewPrivileges ?? false,
    diskSizeMB: args.diskSizeMB,
    volumeSizeMB: args.volumeSizeMB,
    offlineFallback: args.offlineFallback ?? false,
    log,
    uplink: uplinkFrom(args.uplink),
    warmPool: parsePoolSizes(args.warmPool ?? [DEFAULT_WARM_POOL]),
    agentIdleExitSeconds: args.agentIdleExitSeconds ?? DEFAULT_AGENT_IDLE_EXIT_SECONDS,
  });
  const shutdown = () => {
    log('stopping (sandboxes keep running and are re-adopted on the next start)');
    void runtime.close().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main(process.argv.slice(2)).catch((err) => {
  console.error(`e2b runtime: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
