// The notebook queue's rules (src/providers/notebook/cell-queue.ts), on stand-ins for VS Code's
// cell executions (the real ones are exercised in test/suite/notebook-kernels.test.ts): one cell
// at a time, in order; a failure ends the rest unless told to run on; a closed queue runs nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type * as vscode from 'vscode';
import { CellOutcome, CellQueue } from '../../src/providers/notebook/cell-queue';
import { settle } from './fake-clock';

interface FakeExecution {
  name: string;
  events: string[];
  token: { isCancellationRequested: boolean };
  start(): void;
  end(success: boolean | undefined): void;
}

function executions(...names: string[]): FakeExecution[] {
  return names.map((name) => {
    const events: string[] = [];
    return {
      name,
      events,
      token: { isCancellationRequested: false },
      start: () => events.push('start'),
      end: (s) => events.push(`end:${s}`),
    };
  });
}
const asReal = (e: FakeExecution[]) => e as unknown as vscode.NotebookCellExecution[];

function queueWith(outcomes: Record<string, CellOutcome>, stopOnError = true) {
  const ran: string[] = [];
  let running = 0;
  const queue = new CellQueue(
    async (execution) => {
      const { name } = execution as unknown as FakeExecution;
      running++;
      assert.equal(running, 1, 'one cell at a time');
      ran.push(name);
      // Still running while everything else that is ready runs: no timer, so no machine is too slow.
      await settle();
      running--;
      return outcomes[name] ?? 'ok';
    },
    () => stopOnError,
  );
  return { queue, ran };
}

describe('notebook cell queue', () => {
  it('runs cells one at a time in order, also those queued while others run', async () => {
    const { queue, ran } = queueWith({});
    const first = queue.add(asReal(executions('a', 'b')));
    const second = queue.add(asReal(executions('c')));
    await Promise.all([first, second]);
    assert.deepEqual(ran, ['a', 'b', 'c']);
  });

  it('ends the cells after a failure unexecuted', async () => {
    const { queue, ran } = queueWith({ b: 'failed' });
    const cells = executions('a', 'b', 'c', 'd');
    await queue.add(asReal(cells));
    assert.deepEqual(ran, ['a', 'b']);
    assert.deepEqual(cells[2].events, ['start', 'end:undefined']);
    assert.deepEqual(cells[3].events, ['start', 'end:undefined']);
    // The queue works again afterwards.
    await queue.add(asReal(executions('e')));
    assert.deepEqual(ran, ['a', 'b', 'e']);
  });

  it('runs on after a failure when stopOnError is off, but never after an abort', async () => {
    const runOn = queueWith({ b: 'failed' }, false);
    await runOn.queue.add(asReal(executions('a', 'b', 'c')));
    assert.deepEqual(runOn.ran, ['a', 'b', 'c']);
    const aborted = queueWith({ a: 'abort' }, false);
    await aborted.queue.add(asReal(executions('a', 'b', 'c')));
    assert.deepEqual(aborted.ran, ['a']);
  });

  it('skips cancelled cells, and a closed queue runs nothing more', async () => {
    const { queue, ran } = queueWith({});
    const cells = executions('a', 'b');
    cells[0].token.isCancellationRequested = true;
    await queue.add(asReal(cells));
    assert.deepEqual(ran, ['b']);
    queue.close();
    const late = executions('c');
    await queue.add(asReal(late));
    assert.deepEqual(ran, ['b']);
    assert.deepEqual(late[0].events, ['start', 'end:undefined']);
  });
});
