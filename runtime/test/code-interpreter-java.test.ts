// More of the code interpreter through the official `@e2b/code-interpreter` SDK: the Java kernel
// (E2B's sixth language), PIL images shown or saved as results, the preinstalled Python packages,
// and chart numbers that E2B sends as floats arriving as floats on the wire.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox } from '@e2b/code-interpreter';
import { RuntimeProcess } from './helpers/runtime-process';

describe('code interpreter: Java, PIL images, Python packages, chart floats', () => {
  let runtime: RuntimeProcess;
  let sandbox: Sandbox;
  before(async () => {
    runtime = await RuntimeProcess.start([
      '--image',
      'base',
      '--image',
      'code-interpreter-v1',
      '--warm-pool',
      'base=0,code-interpreter-v1=0',
    ]);
    sandbox = await Sandbox.create({ ...runtime.sdk, envs: { SANDBOX_WIDE: 'from-create', OVERRIDDEN: 'sandbox' } });
  });
  after(async () => {
    await sandbox?.kill().catch(() => undefined);
    await runtime?.dispose();
  });

  /** The raw NDJSON lines of one /execute, as the interpreter writes them. */
  async function rawExecute(code: string): Promise<string[]> {
    const res = await fetch(`${runtime.url}/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'e2b-sandbox-id': sandbox.sandboxId, 'e2b-sandbox-port': '49999' },
      body: JSON.stringify({ code }),
    });
    assert.equal(res.status, 200);
    return (await res.text()).trim().split('\n');
  }

  it('runs Java: state between cells, the last expression as text, printed output', async () => {
    const first = await sandbox.runCode('int base = 40;\nString greet(String who) { return "hello " + who; }\nbase + 2', {
      language: 'java',
    });
    assert.equal(first.error, undefined, first.error?.value);
    assert.equal(first.text, '42');
    assert.equal(first.results.length, 1);
    assert.equal(first.results[0].isMainResult, true);
    const second = await sandbox.runCode('greet("java")', { language: 'java' });
    assert.equal(second.text, 'hello java');
    const stdout: string[] = [];
    const printed = await sandbox.runCode(
      'for (int i = 0; i < 3; i++) System.out.println("line " + i);\nSystem.err.print("to stderr");\nList.of(1, 2, 3).stream().map(n -> n * base).collect(Collectors.toList())',
      {
        language: 'java',
        onStdout: (m) => {
          stdout.push(m.line);
        },
      },
    );
    assert.equal(printed.error, undefined, printed.error?.value);
    assert.equal(printed.logs.stdout.join(''), 'line 0\nline 1\nline 2\n');
    assert.equal(stdout.join(''), 'line 0\nline 1\nline 2\n');
    assert.equal(printed.logs.stderr.join(''), 'to stderr');
    assert.equal(printed.text, '[40, 80, 120]');
    const declarationOnly = await sandbox.runCode('class Point { int x = 1; }\nvar p = new Point();', { language: 'java' });
    assert.equal(declarationOnly.error, undefined, declarationOnly.error?.value);
    assert.equal((await sandbox.runCode('p.x + 1', { language: 'java' })).text, '2');
  });

  it('reports Java exceptions and compile errors with name, value and traceback', async () => {
    const thrown = await sandbox.runCode('int divide(int a, int b) { return a / b; }\ndivide(1, 0)', { language: 'java' });
    assert.equal(thrown.error?.name, 'java.lang.ArithmeticException');
    assert.equal(thrown.error?.value, '/ by zero');
    assert.match(thrown.error?.traceback ?? '', /ArithmeticException: \/ by zero\n\tat .*divide/);
    const custom = await sandbox.runCode('throw new IllegalStateException("broken state")', { language: 'java' });
    assert.equal(custom.error?.name, 'java.lang.IllegalStateException');
    assert.equal(custom.error?.value, 'broken state');
    const compile = await sandbox.runCode('int ok = 1;\nint broken = "text";', { language: 'java' });
    assert.equal(compile.error?.name, 'CompilationException');
    assert.match(compile.error?.value ?? '', /incompatible types/);
    assert.match(compile.error?.traceback ?? '', /line 2: .*incompatible types/);
    // The cell stops at its first error; the context stays usable.
    const stopped = await sandbox.runCode('System.out.println("before");\nundefinedMethod();\nSystem.out.println("after");', {
      language: 'java',
    });
    assert.equal(stopped.logs.stdout.join(''), 'before\n');
    assert.ok(stopped.error);
    assert.equal((await sandbox.runCode('ok + 1', { language: 'java' })).text, '2');
    // System.exit ends the JVM and its kernel, as on E2B: the context restarts it (state lost),
    // and the new kernel gets the sandbox's env vars again.
    const exited = await sandbox.runCode('System.exit(3);', { language: 'java' });
    assert.equal(exited.error?.name, 'ContextRestarting');
    assert.equal((await sandbox.runCode('"alive again"', { language: 'java' })).text, 'alive again');
    assert.equal((await sandbox.runCode('System.getProperty("SANDBOX_WIDE")', { language: 'java' })).text, 'from-create');
  });

  it('gives Java the sandbox env vars, per-execution ones (restored afterwards), and the cwd', async () => {
    // As on E2B, Java code reads them as system properties.
    assert.equal((await sandbox.runCode('System.getProperty("SANDBOX_WIDE")', { language: 'java' })).text, 'from-create');
    const during = await sandbox.runCode('System.getProperty("OVERRIDDEN") + "/" + System.getProperty("ONLY_HERE")', {
      language: 'java',
      envs: { OVERRIDDEN: 'execution', ONLY_HERE: 'yes "quoted"\n' },
    });
    assert.equal(during.text, 'execution/yes "quoted"\n');
    const afterwards = await sandbox.runCode('System.getProperty("OVERRIDDEN") + "/" + System.getProperty("ONLY_HERE", "unset")', {
      language: 'java',
    });
    assert.equal(afterwards.text, 'sandbox/unset');
    assert.equal((await sandbox.runCode('System.getProperty("user.dir")', { language: 'java' })).text, '/home/user');
    const context = await sandbox.createCodeContext({ language: 'java', cwd: '/tmp' });
    assert.equal(context.language, 'java');
    const cwd = await sandbox.runCode('new java.io.File("x").getAbsolutePath() + " " + java.nio.file.Path.of("").toAbsolutePath()', {
      context,
    });
    assert.equal(cwd.text, '/tmp/x /tmp');
    await sandbox.runCode('System.setProperty("CONTEXT_ONLY", "here");', { context });
    assert.equal((await sandbox.runCode('System.getProperty("CONTEXT_ONLY", "absent")', { language: 'java' })).text, 'absent');
    await sandbox.removeCodeContext(context);
  });

  it('interrupts a Java cell when the client times out; the context keeps its state', async () => {
    await sandbox.runCode('int kept = 7;', { language: 'java' });
    await assert.rejects(sandbox.runCode('while (true) { Thread.onSpinWait(); }', { language: 'java', timeoutMs: 2000 }));
    const after = await sandbox.runCode('kept * 6', { language: 'java' });
    assert.equal(after.text, '42', 'the stopped cell left the JVM and its state in place');
  });

  it('turns PIL Image.show() and Image.save(path) into image results, as on E2B', async () => {
    const shown = await sandbox.runCode('from PIL import Image\nimg = Image.new("RGB", (32, 16), "red")\nimg.show()');
    assert.equal(shown.error, undefined, shown.error?.value);
    assert.equal(shown.results.length, 1);
    const png = Buffer.from(shown.results[0].png ?? '', 'base64');
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    assert.equal(png.readUInt32BE(16), 32, 'the PNG is the image (its width)');
    assert.equal(shown.results[0].isMainResult, false);
    const saved = await sandbox.runCode('img.save("/tmp/red.png")\nimport os; os.path.getsize("/tmp/red.png") > 0');
    assert.equal(saved.error, undefined, saved.error?.value);
    assert.equal(saved.results.length, 2, 'the saved image, then the main result');
    assert.ok(saved.results[0].png, 'save() to a path displays the image');
    assert.equal(saved.text, 'True', 'and still writes the file');
    const toBuffer = await sandbox.runCode('import io; buf = io.BytesIO(); img.save(buf, "PNG"); len(buf.getvalue()) > 0');
    assert.equal(toBuffer.results.length, 1, 'saving to a buffer displays nothing');
  });

  it("has the Python packages of E2B's code-interpreter template that Debian packages", async () => {
    const modules = [
      'numpy',
      'pandas',
      'matplotlib',
      'PIL',
      'aiohttp',
      'bs4',
      'imageio',
      'joblib',
      'nltk',
      'numba',
      'openpyxl',
      'plotly',
      'pytest',
      'docx',
      'pytz',
      'requests',
      'skimage',
      'sklearn',
      'scipy',
      'seaborn',
      'soundfile',
      'tornado',
      'urllib3',
      'xarray',
      'xlrd',
      'sympy',
    ];
    const check = await sandbox.runCode(
      `import importlib\nmissing = []\nfor m in ${JSON.stringify(modules)}:\n    try:\n        importlib.import_module(m)\n    except Exception as e:\n        missing.append(f"{m}: {e}")\nmissing`,
      { timeoutMs: 180_000 },
    );
    assert.equal(check.error, undefined, check.error?.value);
    assert.equal(check.text, '[]');
  });

  it('sends chart ticks and points as floats (1.0, not 1) for line, scatter and log charts', async () => {
    const floatsOf = (line: string, field: string) => {
      const match = line.match(new RegExp(`"${field}":\\[([^\\]]*)\\]`));
      assert.ok(match, `${field} in ${line.slice(0, 300)}`);
      return match[1].split(',');
    };
    const charts: [string, string][] = [
      ['line', 'import matplotlib.pyplot as plt\nplt.figure()\nplt.plot([1, 2, 3], [2, 4, 8])\nplt.show()'],
      ['scatter', 'import matplotlib.pyplot as plt\nplt.figure()\nplt.scatter([0, 1, 2], [10, 20, 30])\nplt.show()'],
      [
        'log',
        'import numpy as np, matplotlib.pyplot as plt\nplt.figure()\nx = np.linspace(0, 10, 11)\nplt.plot(x, np.exp(x))\nplt.yscale("log")\nplt.show()',
      ],
    ];
    for (const [kind, code] of charts) {
      const lines = await rawExecute(code);
      const result = lines.find((l) => l.includes('"chart":'));
      assert.ok(result, `a ${kind} chart result: ${lines.map((l) => l.slice(0, 120)).join('\n')}`);
      for (const field of ['x_ticks', 'y_ticks']) {
        const numbers = floatsOf(result, field);
        assert.ok(numbers.length > 1, `${kind} ${field}`);
        for (const n of numbers) assert.match(n, /[.eE]/, `${kind} ${field} holds ${n}: E2B sends floats`);
      }
      const points = result.match(/"points":\[\[([^\]]*)\]/);
      assert.ok(points, `${kind} points`);
      for (const n of points[1].split(',')) assert.match(n, /[.eE]/, `${kind} point ${n}`);
    }
    // Integers stay integers (a bar chart's labels, execution counts), and the SDK reads it all.
    const bar = await sandbox.runCode('import matplotlib.pyplot as plt\nplt.figure()\nplt.bar(["a", "b"], [1, 2])\nplt.show()');
    const chart = bar.results[0].chart as unknown as { elements: { value: number }[] };
    assert.deepEqual(
      chart.elements.map((e) => e.value),
      [1, 2],
    );
    const counted = (await rawExecute('1')).find((l) => l.includes('number_of_executions'))!;
    assert.match(counted, /"execution_count":\d+[,}]/);
  });
});
