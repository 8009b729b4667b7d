// Test-only companion extension: code-server cannot take --extensionTestsPath, so this loads the
// suite (the same module @vscode/test-electron would load) inside the real extension host.
import { appendFileSync } from 'node:fs';

export async function activate(): Promise<void> {
  const suite = process.env.E2B_VSCODE_TEST_SUITE;
  const results = process.env.E2B_VSCODE_TEST_RESULTS;
  if (!suite || !results) return;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    await (require(suite) as { run(): Promise<void> }).run();
  } catch (err) {
    // Failures are already in the results file; a crash before mocha started is not.
    appendFileSync(results, `# runner: ${String((err as Error)?.stack ?? err)}\n`);
  } finally {
    appendFileSync(results, '# runner finished\n');
  }
}
