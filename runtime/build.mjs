// Bundles the runtime's programs: the host-side server/CLI, the agent that runs inside every
// sandbox and the code interpreter that code-interpreter sandboxes start (both mounted read-only
// at /opt/e2b). Fast enough to run before every start.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
// Paths in the bundles' comments are relative to this directory, not to where the build was run
// from: the mcp-gateway image copies a bundle in, and a bundle that differs by a comment makes the
// cached image stale and rebuilt.
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  logLevel: 'warning',
  absWorkingDir: here,
};
await Promise.all([
  build({ ...common, entryPoints: [join(here, 'src/cli/main.ts')], outfile: join(here, 'dist/cli.js') }),
  build({ ...common, entryPoints: [join(here, 'src/agent/main.ts')], outfile: join(here, 'dist/agent.js') }),
  build({ ...common, entryPoints: [join(here, 'src/interpreter/main.ts')], outfile: join(here, 'dist/interpreter.js') }),
  // mcp-gateway images: the gateway and the npm MCP servers it offers, one ESM file each.
  build({ ...common, entryPoints: [join(here, 'src/mcp-gateway/main.ts')], outfile: join(here, 'dist/mcp-gateway.js') }),
  build({
    ...common,
    sourcemap: false,
    format: 'esm',
    outdir: join(here, 'dist/mcp-servers'),
    outExtension: { '.js': '.mjs' },
    entryPoints: {
      filesystem: '@modelcontextprotocol/server-filesystem/dist/index.js',
      memory: '@modelcontextprotocol/server-memory/dist/index.js',
    },
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  }),
]);
