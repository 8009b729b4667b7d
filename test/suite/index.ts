// The extension-host test suite, in the shape @vscode/test-electron expects (`run()` loaded
// through extensionTestsPath). Here it is started inside code-server's extension host by the
// companion runner extension, which sets E2B_VSCODE_TEST_RESULTS to collect the results.
import * as path from 'node:path';
import * as fs from 'node:fs';
import Mocha from 'mocha';
import { FileReporter } from './file-reporter';

export function run(): Promise<void> {
  const resultsFile = process.env.E2B_VSCODE_TEST_RESULTS;
  const mocha = new Mocha({
    ui: 'bdd',
    color: false,
    timeout: 120_000,
    reporter: resultsFile ? FileReporter : 'spec',
    reporterOptions: resultsFile ? { file: resultsFile } : undefined,
    grep: process.env.E2B_VSCODE_TEST_GREP || undefined,
  });
  for (const file of fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.js'))
    .sort())
    mocha.addFile(path.join(__dirname, file));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} tests failed`)) : resolve()));
  });
}
