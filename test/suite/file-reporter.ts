// A mocha reporter that appends one line per test to a file the test command reads, since the
// extension host's console is not visible from outside code-server.
import { appendFileSync, writeFileSync } from 'node:fs';
import Mocha from 'mocha';

const { EVENT_RUN_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } = Mocha.Runner.constants;

export class FileReporter extends Mocha.reporters.Base {
  constructor(runner: Mocha.Runner, options: { reporterOptions?: { file?: string } }) {
    super(runner, options);
    const file = options.reporterOptions?.file;
    if (!file) throw new Error('FileReporter needs reporterOptions.file');
    writeFileSync(file, '');
    const write = (line: string) => appendFileSync(file, `${line}\n`);
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    runner.on(EVENT_TEST_PASS, (test) => {
      passed++;
      write(`ok - ${test.fullTitle()} (${test.duration} ms)`);
    });
    runner.on(EVENT_TEST_PENDING, (test) => {
      skipped++;
      write(`skip - ${test.fullTitle()}`);
    });
    runner.on(EVENT_TEST_FAIL, (test, err) => {
      failed++;
      write(`not ok - ${test.fullTitle()}`);
      for (const line of String(err?.stack ?? err)
        .split('\n')
        .slice(0, 12))
        write(`    ${line}`);
    });
    runner.once(EVENT_RUN_END, () => write(`# done ${JSON.stringify({ passed, failed, skipped })}`));
  }
}
