// For a desktop with internet access: runs the same extension-host suite with
// @vscode/test-electron, which downloads a VS Code build. (The machines of this project cannot
// download it; `npm test` runs the suite in code-server instead.) Start a local runtime first
// and point e2b.local.dataDir at it, or use the default /var/lib/e2b-local.
import { resolve } from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  await runTests({
    extensionDevelopmentPath: resolve(__dirname, '../..'),
    extensionTestsPath: resolve(__dirname, '../../out/test/suite/index.js'),
    launchArgs: ['--disable-workspace-trust'],
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
