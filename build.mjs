// Bundles the extension (and its test suite) with esbuild. `node build.mjs` for a build,
// `node build.mjs --tests` to also compile the extension-host tests.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const withTests = process.argv.includes('--tests');
// `--bench` compiles the extension-host benchmarks (test/bench/suite) and the runner extension.
const withBench = process.argv.includes('--bench');
const common = { platform: 'node', target: 'node20', format: 'cjs', sourcemap: 'linked', logLevel: 'warning' };

await build({
  ...common,
  bundle: true,
  entryPoints: ['src/extension.ts'],
  outfile: 'dist/extension.js',
  external: ['vscode'],
  // The SDK loads optional undici 8 only where Node supports it.
  mainFields: ['module', 'main'],
  // The activation benchmark measures from the bundle's first line (src/extension.ts reads it).
  banner: { js: '"use strict";\nvar __e2bBundleStart = performance.now();' },
  // Loading the code is most of activation: a third less text to read and parse (names are kept,
  // and the linked source map gives lines back).
  minifyWhitespace: true,
});

if (withTests) {
  const suiteFiles = readdirSync('test/suite')
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join('test/suite', f));
  // mocha and the SDK load from node_modules at run time; the extension's own modules the tests
  // use are bundled in.
  await build({
    ...common,
    bundle: true,
    entryPoints: suiteFiles,
    outdir: 'out/test/suite',
    external: ['vscode', 'mocha', 'e2b', '@e2b/code-interpreter'],
  });
}
if (withTests || withBench) {
  await build({
    ...common,
    bundle: true,
    entryPoints: ['test/runner-extension/extension.ts'],
    outfile: 'out/test/runner-extension/extension.js',
    external: ['vscode'],
  });
}
if (withBench) {
  await build({
    ...common,
    bundle: true,
    entryPoints: ['test/bench/suite/index.ts'],
    outfile: 'out/test/bench/index.js',
    external: ['vscode', 'e2b', '@e2b/code-interpreter'],
  });
}
