// `npm run runtime -- up [--listen ADDR] [--data-dir DIR] [--images-dir DIR] [--domain D] [--image NAME...] [--uplink U]`
import { uplinkFrom } from '../network/uplink';
import { DEFAULT_DATA_DIR, RuntimePaths } from '../paths';
import { buildMissingImages, startRuntime } from '../runtime';
import { parsePoolSizes } from '../sandbox/warm-pool';

// base is what Sandbox.create() uses; code-interpreter-v1 is what @e2b/code-interpreter and the
// extension's notebooks use.
const DEFAULT_IMAGES = ['base', 'code-interpreter-v1', 'mcp-gateway'];
// Sandboxes kept booted and ready to hand out (an idle base sandbox costs ~7 MB of host memory).
const DEFAULT_WARM_POOL = 'base=2,code-interpreter-v1=1';

const USAGE = `usage: npm run runtime -- up [options]     start the runtime
       npm run runtime -- build [options]  build missing images, then exit
  --listen ADDR        address[:port] to serve on (default 127.0.0.1:49982)
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
  --uplink U           where sandbox traffic goes out: host (the host's routing), none (loopback
                       only), netns:NAME (a network namespace; for tests). Default $E2B_RUNTIME_UPLINK or host`;

function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+))?(?::(\d+))?$/.exec(value);
  if (!match) throw new Error(`--listen: cannot parse "${value}"`);
  return { host: match[1] ?? match[2] ?? '127.0.0.1', port: match[3] ? Number(match[3]) : 49982 };
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command !== 'up' && command !== 'build') {
    console.error(USAGE);
    process.exit(command === undefined || command === '--help' ? 0 : 2);
  }
  let listen = { host: '127.0.0.1', port: 49982 };
  let dataDir = DEFAULT_DATA_DIR;
  let imagesDir: string | undefined;
  let domain: string | undefined;
  const images: string[] = [];
  let noNewPrivileges = false;
  let diskSizeMB: number | undefined;
  let volumeSizeMB: number | undefined;
  const warmPool: string[] = [];
  let offlineFallback = false;
  let uplinkOption: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const value = () => {
      const v = rest[++i];
      if (v === undefined) throw new Error(`${rest[i - 1]} needs a value`);
      return v;
    };
    switch (rest[i]) {
      case '--listen': listen = parseListen(value()); break;
      case '--data-dir': dataDir = value(); break;
      case '--images-dir': imagesDir = value(); break;
      case '--domain': domain = value(); break;
      case '--image': images.push(value()); break;
      case '--warm-pool': warmPool.push(value()); break;
      case '--no-new-privileges': noNewPrivileges = true; break;
      case '--offline-fallback': offlineFallback = true; break;
      case '--disk-size-mb':
        diskSizeMB = Number(value());
        if (!Number.isInteger(diskSizeMB) || diskSizeMB < 16) throw new Error('--disk-size-mb takes a whole number of MB, at least 16');
        break;
      case '--volume-size-mb':
        volumeSizeMB = Number(value());
        if (!Number.isInteger(volumeSizeMB) || volumeSizeMB < 16) throw new Error('--volume-size-mb takes a whole number of MB, at least 16');
        break;
      case '--uplink': uplinkOption = value(); break;
      default: throw new Error(`unknown option ${rest[i]}\n${USAGE}`);
    }
  }
  const log = (line: string) => console.log(`[${new Date().toISOString()}] ${line}`);
  if (command === 'build') {
    await buildMissingImages(new RuntimePaths(dataDir, imagesDir), images.length ? images : DEFAULT_IMAGES, log);
    return;
  }
  const runtime = await startRuntime({
    ...listen, dataDir, imagesDir, domain, images: images.length ? images : DEFAULT_IMAGES, noNewPrivileges, diskSizeMB, volumeSizeMB, offlineFallback, log, uplink: uplinkFrom(uplinkOption),
    warmPool: parsePoolSizes(warmPool.length ? warmPool : [DEFAULT_WARM_POOL]),
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
