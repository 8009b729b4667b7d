// The code interpreter (port 49999 in code-interpreter-v1 sandboxes) through the official
// `@e2b/code-interpreter` SDK, unchanged: real Jupyter kernels inside real containers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError, NotFoundError, Sandbox, TimeoutError } from '@e2b/code-interpreter';
import { RuntimeProcess } from './helpers/runtime-process';

describe('code interpreter', () => {
  let runtime: RuntimeProcess;
  let sandbox: Sandbox;
  let createMs = 0;
  before(async () => {
    runtime = await RuntimeProcess.start([
      '--image',
      'base',
      '--image',
      'code-interpreter-v1',
      '--warm-pool',
      'base=1,code-interpreter-v1=1',
    ]);
    const started = Date.now();
    sandbox = await Sandbox.create({ ...runtime.sdk, envs: { SANDBOX_WIDE: 'from-create', OVERRIDDEN: 'sandbox' } });
    createMs = Date.now() - started;
  });
  after(async () => {
    await runtime?.dispose();
  });

  it('is handed out with the default contexts running, from the code-interpreter-v1 template', async () => {
    const started = Date.now();
    const first = await sandbox.runCode('1 + 1');
    assert.equal(first.text, '2');
    const contexts = await sandbox.listCodeContexts();
    const languages = contexts.map((c) => c.language);
    assert.ok(languages.includes('python') && languages.includes('javascript'), `default contexts: ${languages}`);
    for (const c of contexts) assert.equal(c.cwd, '/home/user');
    const info = await Sandbox.getInfo(sandbox.sandboxId, runtime.sdk);
    assert.equal(info.templateId, 'code-interpreter-v1');
    console.log(`# create → ready ${createMs} ms, first cell ${Date.now() - started} ms`);
  });

  it('keeps state between cells; the main result is text', async () => {
    const first = await sandbox.runCode('x = 1; x');
    assert.equal(first.text, '1');
    assert.equal(first.results.length, 1);
    assert.equal(first.results[0].isMainResult, true);
    assert.equal(first.error, undefined);
    const second = await sandbox.runCode('x += 41\nx');
    assert.equal(second.text, '42');
    assert.ok(second.executionCount! > first.executionCount!, 'execution count grows');
    const str = await sandbox.runCode("'quoted'");
    assert.equal(str.text, 'quoted');
    const json = await sandbox.runCode("{'a': [1, 2]}");
    assert.deepEqual(json.results[0].json, { a: [1, 2] });
  });

  it('reports an exception with name, value and traceback', async () => {
    const errors: string[] = [];
    const execution = await sandbox.runCode('def f():\n    return 1 / 0\nf()', {
      onError: (e) => {
        errors.push(e.name);
      },
    });
    assert.ok(execution.error);
    assert.equal(execution.error.name, 'ZeroDivisionError');
    assert.equal(execution.error.value, 'division by zero');
    assert.match(execution.error.traceback, /ZeroDivisionError/);
    assert.match(execution.error.traceback, /return 1 \/ 0/);
    assert.doesNotMatch(execution.error.traceback, /\x1b\[/, 'no ANSI colours');
    assert.deepEqual(errors, ['ZeroDivisionError']);
    const undefinedName = await sandbox.runCode('not_defined_anywhere');
    assert.equal(undefinedName.error?.name, 'NameError');
    assert.equal(undefinedName.error?.value, "name 'not_defined_anywhere' is not defined");
  });

  it('streams stdout and stderr through the callbacks, in order, as they are printed', async () => {
    const seen: { stream: string; line: string; at: number }[] = [];
    const started = Date.now();
    const execution = await sandbox.runCode(
      'import sys, time\nfor i in range(3):\n    print(f"out{i}", flush=True)\n    print(f"err{i}", file=sys.stderr, flush=True)\n    time.sleep(0.4)',
      {
        onStdout: (m) => {
          seen.push({ stream: 'out', line: m.line, at: Date.now() - started });
        },
        onStderr: (m) => {
          seen.push({ stream: 'err', line: m.line, at: Date.now() - started });
        },
      },
    );
    assert.deepEqual(
      seen.map((s) => `${s.stream}:${s.line}`),
      ['out:out0\n', 'err:err0\n', 'out:out1\n', 'err:err1\n', 'out:out2\n', 'err:err2\n'],
    );
    assert.deepEqual(execution.logs.stdout, ['out0\n', 'out1\n', 'out2\n']);
    assert.deepEqual(execution.logs.stderr, ['err0\n', 'err1\n', 'err2\n']);
    // Printed 0.8 s apart: buffered until the end, they would arrive together.
    const spread = seen[5].at - seen[0].at;
    assert.ok(spread > 400, `the lines arrived within ${spread} ms: output is not streamed`);
  });

  it('delivers output nobody flushed (print, write, a child process) with its cell, before the result', async () => {
    // The kernel skips flushes with nothing to send: one that had text must still go out at the
    // cell's end, not 0.2 s later on ipykernel's timer (after the cell has finished).
    const execution = await sandbox.runCode(
      'import os, sys\nprint("a")\nsys.stdout.write("b\\n")\nos.system("echo c; echo e >&2")\nprint("d", file=sys.stderr)\n6 * 7',
    );
    assert.equal(execution.text, '42');
    assert.equal(execution.logs.stdout.join(''), 'a\nb\nc\n');
    // print() writes "d" and "\n" apart, and the child's "e\n" comes in on ipykernel's own
    // thread, so it may land between them: compare the characters, not the lines.
    assert.equal([...execution.logs.stderr.join('')].sort().join(''), '\n\nde');
    // A cell that prints nothing has no logs, and the next cell's output is its own.
    const quiet = await sandbox.runCode('x = 1');
    assert.deepEqual(quiet.logs, { stdout: [], stderr: [] });
    const next = await sandbox.runCode('print(x + 1, end="")');
    assert.deepEqual(next.logs.stdout, ['2']);
  });

  it('turns a matplotlib bar chart into a PNG and chart elements', async () => {
    const execution = await sandbox.runCode(`
import matplotlib.pyplot as plt
plt.figure(figsize=(6, 4))
plt.bar(['Author A', 'Author B', 'Author C'], [100, 200, 300], label='Books Sold')
plt.xlabel('Authors')
plt.ylabel('Sales [units]')
plt.title('Book Sales')
plt.show()
`);
    assert.equal(execution.error, undefined);
    assert.equal(execution.results.length, 1);
    const figure = execution.results[0];
    assert.equal(figure.isMainResult, false);
    assert.ok(figure.png && Buffer.from(figure.png, 'base64').subarray(1, 4).toString() === 'PNG', 'a base64 PNG');
    assert.match(figure.text ?? '', /Figure/);
    const chart = figure.chart as unknown as {
      type: string;
      title: string;
      x_label: string;
      y_label: string;
      y_unit: string;
      x_unit: null;
      elements: { label: string; value: number; group: string }[];
    };
    assert.equal(chart.type, 'bar');
    assert.equal(chart.title, 'Book Sales');
    assert.equal(chart.x_label, 'Authors');
    assert.equal(chart.y_unit, 'units');
    assert.equal(chart.x_unit, null);
    assert.deepEqual(
      chart.elements.map((e) => [e.label, e.value, e.group]),
      [
        ['Author A', 100, 'Books Sold'],
        ['Author B', 200, 'Books Sold'],
        ['Author C', 300, 'Books Sold'],
      ],
    );
    // Figures appear without plt.show() too, at the end of the cell.
    const line = await sandbox.runCode('plt.plot([1, 2, 3], [2, 4, 8], label="growth")\nplt.title("Line")');
    const lineChart = line.results.find((r) => r.chart)?.chart as unknown as {
      type: string;
      elements: { label: string; points: number[][] }[];
    };
    assert.equal(lineChart.type, 'line');
    assert.deepEqual(lineChart.elements[0].points, [
      [1, 2],
      [2, 4],
      [3, 8],
    ]);
  });

  it('shows a DataFrame as HTML and data; display() gives extra, non-main results', async () => {
    const execution = await sandbox.runCode(`
import pandas as pd
from IPython.display import display
df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None]})
display(df.head(1))
df
`);
    assert.equal(execution.error, undefined);
    assert.equal(execution.results.length, 2);
    const [shown, main] = execution.results;
    assert.equal(shown.isMainResult, false);
    assert.equal(main.isMainResult, true);
    assert.match(main.html ?? '', /<table/);
    assert.deepEqual(main.data, { a: [1, 2, 3], b: ['x', 'y', null] });
    assert.deepEqual(shown.data, { a: [1], b: ['x'] });
    assert.ok(main.formats().includes('html') && main.formats().includes('data'));
  });

  it('runs JavaScript and TypeScript (Deno) with state, top-level await and ESM imports', async () => {
    const js = await sandbox.runCode('const base = 40; const { join } = await import("node:path"); join("/a", "b")', {
      language: 'javascript',
    });
    assert.equal(js.error, undefined, js.error?.value);
    assert.equal(js.text, '/a/b');
    const again = await sandbox.runCode('await new Promise((r) => setTimeout(r, 50)); base + 2', { language: 'js' });
    assert.equal(again.text, '42');
    const logged = await sandbox.runCode('console.log("hello from deno"); process.cwd()', { language: 'javascript' });
    assert.deepEqual(logged.logs.stdout, ['hello from deno\n']);
    assert.equal(logged.text, '/home/user');
    const jsError = await sandbox.runCode('throw new TypeError("bad thing")', { language: 'javascript' });
    assert.equal(jsError.error?.name, 'TypeError');
    assert.equal(jsError.error?.value, 'bad thing');

    const ts = await sandbox.runCode(
      'import { basename } from "node:path";\ninterface P { name: string }\nconst p: P = { name: basename("/x/typed.ts") };\nawait Promise.resolve(p.name)',
      { language: 'typescript' },
    );
    assert.equal(ts.error, undefined, ts.error?.value);
    assert.equal(ts.text, 'typed.ts');
    assert.doesNotMatch(ts.text ?? '', /\x1b\[/);
  });

  it('runs bash with state between cells', async () => {
    const first = await sandbox.runCode('cd /tmp && GREETING=hi; echo "$GREETING from $(pwd)"', { language: 'bash' });
    assert.equal(first.error, undefined);
    assert.deepEqual(first.logs.stdout.join(''), 'hi from /tmp\n');
    const second = await sandbox.runCode('echo "$GREETING again in $(pwd)"; whoami', { language: 'bash' });
    assert.equal(second.logs.stdout.join(''), 'hi again in /tmp\nroot\n');
    const failing = await sandbox.runCode('echo before; false', { language: 'bash' });
    assert.equal(failing.logs.stdout.join(''), 'before\n');
    assert.ok(failing.error, 'a non-zero exit status is an error');
  });

  it('runs R (IRkernel)', async () => {
    const first = await sandbox.runCode('x <- 20\nx + 22', { language: 'r' });
    assert.equal(first.error, undefined, first.error?.value);
    // IRkernel shows values as display data (as with E2B's R kernel), not as the main result.
    assert.equal(first.results[0]?.text, '[1] 42');
    const env = await sandbox.runCode('cat(Sys.getenv("SANDBOX_WIDE"), Sys.getenv("ONLY_HERE"), getwd())', {
      language: 'r',
      envs: { ONLY_HERE: 'r' },
    });
    assert.equal(env.logs.stdout.join(''), 'from-create r /home/user');
    const after = await sandbox.runCode('Sys.getenv("ONLY_HERE", "unset")', { language: 'r' });
    assert.equal(after.results[0]?.text, '[1] "unset"');
    const failed = await sandbox.runCode('stop("broken")', { language: 'r' });
    assert.match(failed.error?.value ?? '', /broken/);
  });

  it('sees env vars from create, per context, and per execution (restored afterwards)', async () => {
    const python = await sandbox.runCode('import os; (os.environ["SANDBOX_WIDE"], os.environ["E2B_SANDBOX"])');
    assert.equal(python.text, "('from-create', 'true')");
    const js = await sandbox.runCode('process.env.SANDBOX_WIDE', { language: 'javascript' });
    assert.equal(js.text, 'from-create');
    const bash = await sandbox.runCode('echo $SANDBOX_WIDE', { language: 'bash' });
    assert.equal(bash.logs.stdout.join(''), 'from-create\n');

    // Per execution: visible during the cell, then restored (sandbox value) or removed.
    const during = await sandbox.runCode('import os; (os.environ["OVERRIDDEN"], os.environ["ONLY_HERE"])', {
      envs: { OVERRIDDEN: 'execution', ONLY_HERE: 'yes' },
    });
    assert.equal(during.text, "('execution', 'yes')");
    const afterwards = await sandbox.runCode('import os; (os.environ["OVERRIDDEN"], os.getenv("ONLY_HERE", "unset"))');
    assert.equal(afterwards.text, "('sandbox', 'unset')");
    const jsDuring = await sandbox.runCode('process.env.ONLY_HERE', { language: 'javascript', envs: { ONLY_HERE: 'js' } });
    assert.equal(jsDuring.text, 'js');
    const jsAfter = await sandbox.runCode('process.env.ONLY_HERE ?? "unset"', { language: 'javascript' });
    assert.equal(jsAfter.text, 'unset');
    const bashDuring = await sandbox.runCode('echo "$OVERRIDDEN"', { language: 'bash', envs: { OVERRIDDEN: "it's bash" } });
    assert.equal(bashDuring.logs.stdout.join(''), "it's bash\n");
    const bashAfter = await sandbox.runCode('echo "$OVERRIDDEN"', { language: 'bash' });
    assert.equal(bashAfter.logs.stdout.join(''), 'sandbox\n');

    // Per context: what one context sets stays in that context.
    const context = await sandbox.createCodeContext();
    await sandbox.runCode('import os; os.environ["CONTEXT_ONLY"] = "here"', { context });
    assert.equal((await sandbox.runCode('import os; os.environ["CONTEXT_ONLY"]', { context })).text, 'here');
    assert.equal((await sandbox.runCode('import os; os.getenv("CONTEXT_ONLY", "absent")')).text, 'absent');
    assert.equal((await sandbox.runCode('import os; os.environ["SANDBOX_WIDE"]', { context })).text, 'from-create');
    await sandbox.removeCodeContext(context);
  });

  it('creates, lists, uses, restarts and removes contexts', async () => {
    const context = await sandbox.createCodeContext({ cwd: '/tmp', language: 'python' });
    assert.equal(context.language, 'python');
    assert.equal(context.cwd, '/tmp');
    const listed = await sandbox.listCodeContexts();
    assert.deepEqual(listed[listed.length - 1], { id: context.id, language: 'python', cwd: '/tmp' });

    assert.equal((await sandbox.runCode('import os; os.getcwd()', { context })).text, '/tmp');
    await sandbox.runCode('kept = "yes"', { context });
    assert.equal((await sandbox.runCode('kept', { context })).text, 'yes');
    const isolated = await sandbox.runCode('kept');
    assert.equal(isolated.error?.name, 'NameError', 'contexts do not share state');

    await sandbox.restartCodeContext(context);
    const lost = await sandbox.runCode('kept', { context });
    assert.equal(lost.error?.name, 'NameError');
    assert.equal(lost.error?.value, "name 'kept' is not defined");
    assert.equal((await sandbox.runCode('import os; os.getcwd()', { context })).text, '/tmp', 'the cwd survives a restart');

    const js = await sandbox.createCodeContext({ language: 'js' });
    assert.equal(js.language, 'javascript');
    assert.equal((await sandbox.runCode('let n = 5; n * 2', { context: js })).text, '10');

    await sandbox.removeCodeContext(context.id);
    await sandbox.removeCodeContext(js);
    const ids = (await sandbox.listCodeContexts()).map((c) => c.id);
    assert.ok(!ids.includes(context.id) && !ids.includes(js.id));
    await assert.rejects(sandbox.runCode('1', { context }), NotFoundError);
    await assert.rejects(sandbox.removeCodeContext(context.id), NotFoundError);
  });

  it('starts a kernel that exits while it starts once more, for a new context and a restart', async () => {
    // The next Python to start exits at once (as a kernel does when a process took one of its
    // ports between the pick and its bind), once per marker file. Kernels run as root.
    const hook = '/root/.local/lib/python3.11/site-packages/usercustomize.py';
    const marker = '/tmp/kernel-start-failed';
    await sandbox.files.write(
      hook,
      `import os\nif not os.path.exists("${marker}"):\n    open("${marker}", "w").close()\n    os._exit(3)\n`,
      { user: 'root' },
    );
    try {
      const context = await sandbox.createCodeContext({ language: 'python' });
      assert.ok(await sandbox.files.exists(marker), 'the first start exited');
      await sandbox.runCode('kept = 1', { context });
      await sandbox.files.remove(marker, { user: 'root' });
      await sandbox.restartCodeContext(context);
      assert.ok(await sandbox.files.exists(marker), "the restart's first start exited");
      assert.equal((await sandbox.runCode('40 + 2', { context })).text, '42');
      assert.equal((await sandbox.runCode('kept', { context })).error?.name, 'NameError', 'a new kernel');
      await sandbox.removeCodeContext(context);
    } finally {
      await sandbox.files.remove(hook, { user: 'root' });
    }
  });

  it('rejects a context and a language together, and unknown languages', async () => {
    const context = (await sandbox.listCodeContexts())[0];
    await assert.rejects(sandbox.runCode('1', { context, language: 'python' } as never), InvalidArgumentError);
    const res = await fetch(`${runtime.url}/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'e2b-sandbox-id': sandbox.sandboxId, 'e2b-sandbox-port': '49999' },
      body: JSON.stringify({ code: '1', context_id: context.id, language: 'python' }),
    });
    assert.equal(res.status, 400);
    await assert.rejects(sandbox.runCode('1', { language: 'cobol' }), /500/);
    await assert.rejects(sandbox.createCodeContext({ language: 'cobol' }), /500/);
  });

  it('streams the NDJSON of /execute: counts, timestamps, keepalives, end_of_execution last', async () => {
    const res = await fetch(`${runtime.url}/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'e2b-sandbox-id': sandbox.sandboxId, 'e2b-sandbox-port': '49999' },
      // Keepalives come after 5 s without output: a 7 s sleep always holds at least one.
      body: JSON.stringify({ code: 'print("x")\nimport time\ntime.sleep(7)\n"done"' }),
    });
    assert.equal(res.status, 200);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; [k: string]: unknown });
    const types = lines.map((l) => l.type);
    assert.deepEqual(
      types.filter((t) => t !== 'keepalive'),
      ['number_of_executions', 'stdout', 'result', 'end_of_execution'],
    );
    assert.ok(
      types.slice(types.indexOf('stdout'), types.indexOf('result')).includes('keepalive'),
      `a keepalive during the sleep: ${types}`,
    );
    const [count, stdout, result] = ['number_of_executions', 'stdout', 'result'].map((t) => lines.find((l) => l.type === t)!);
    assert.equal(typeof count.execution_count, 'number');
    assert.ok(!Number.isNaN(Date.parse(String(stdout.timestamp))), 'stdout lines carry an ISO timestamp');
    assert.equal(result.text, 'done');
    assert.equal(result.is_main_result, true);
  });

  it('runs one cell at a time per context, contexts in parallel', async () => {
    const other = await sandbox.createCodeContext();
    const order: string[] = [];
    // The others are sent once the slow cell is running: ending before it proves parallelism,
    // ending after it proves queueing.
    let slowRuns!: () => void;
    const running = new Promise<void>((r) => {
      slowRuns = r;
    });
    const slow = sandbox
      .runCode('print("running", flush=True)\nimport time; time.sleep(3); "slow"', { onStdout: () => slowRuns() })
      .then((e) => {
        order.push(e.text!);
      });
    await Promise.race([running, slow]);
    const queued = sandbox.runCode('"queued"').then((e) => {
      order.push(e.text!);
    });
    const parallel = sandbox.runCode('"parallel"', { context: other }).then((e) => {
      order.push(e.text!);
    });
    await Promise.all([slow, queued, parallel]);
    assert.deepEqual(order, ['parallel', 'slow', 'queued']);
    await sandbox.removeCodeContext(other);
  });

  it('interrupts a cell when the client times out; the context stays usable', async () => {
    await sandbox.runCode('survivor = 7');
    const started = Date.now();
    await assert.rejects(sandbox.runCode('while True: pass', { timeoutMs: 2000 }), /timed out|TimeoutError/i);
    // The call ends (the loop would run forever); how soon past 2 s depends on the machine.
    assert.ok(Date.now() - started < 15_000);
    const next = await sandbox.runCode('survivor * 6', { timeoutMs: 15_000 });
    assert.equal(next.text, '42');
    // The interrupted cell ended with a KeyboardInterrupt, not by losing the kernel.
    assert.ok(next.executionCount! >= 2);

    // JavaScript: a busy loop is interrupted too (or the kernel is replaced), and the context works.
    await assert.rejects(sandbox.runCode('while (true) {}', { language: 'javascript', timeoutMs: 2000 }));
    const js = await sandbox.runCode('21 * 2', { language: 'javascript', timeoutMs: 20_000 });
    assert.equal(js.text, '42');
  });

  it('ends the stream with an error when the sandbox is killed mid-cell', async () => {
    const doomed = await Sandbox.create(runtime.sdk);
    // Killed once the cell is known to run, so the request is surely in progress.
    let cellRuns!: () => void;
    const inCell = new Promise<void>((r) => {
      cellRuns = r;
    });
    const running = doomed.runCode('print("running", flush=True)\nimport time; time.sleep(300)', {
      timeoutMs: 120_000,
      onStdout: () => cellRuns(),
    });
    const outcome = running.then(
      () => 'resolved',
      (err: Error) => err,
    );
    await Promise.race([inCell, outcome]);
    await doomed.kill();
    const result = await outcome;
    assert.ok(result instanceof TimeoutError, `runCode rejects with a TimeoutError: ${String(result)}`);
    assert.match(result.message, /sandbox was killed while the request was in progress/);
  });
});
