// Languages the code interpreter knows: how their kernel starts and how code in them sets and
// unsets an environment variable.
import { accessSync, constants } from 'node:fs';
import { KernelSpec } from './kernel';
import { shellQuote } from '../shell-quote';

export interface LanguageSupport {
  /** The kernel a context of this language runs (typescript shares javascript's). */
  kernel: string;
  spec(): KernelSpec;
  /** Code that sets these variables in the running kernel's process environment. */
  setEnv(vars: Record<string, string>): string;
  unsetEnv(names: string[]): string;
  /** True when the kernel's text/plain carries ANSI colours that E2B's clients do not expect. */
  stripAnsi?: boolean;
  /** Run silently once at start: what a first cell would otherwise pay for (no state is left). */
  warmUpCode?: string;
}

export const DEFAULT_CWD = '/home/user';

/** E2B's normalisation: lower-cased and trimmed, js → javascript, ts → typescript, empty → python. */
export function normalizeLanguage(language: unknown): string {
  if (typeof language !== 'string' || !language.trim()) return 'python';
  const lang = language.trim().toLowerCase();
  if (lang === 'js') return 'javascript';
  if (lang === 'ts') return 'typescript';
  return lang;
}

const VALID_SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const python: LanguageSupport = {
  kernel: 'python',
  spec: () => ({
    argv: [
      // ipykernel_launcher without debugpy and jedi at start-up (a third faster).
      'python3',
      '-m',
      'e2b_ipython.launcher',
      '-f',
      '{connection_file}',
      '--ext=e2b_ipython',
      '--InteractiveShell.colors=NoColor',
      '--PlainTextFormatter.max_seq_length=0',
      '--HistoryManager.hist_file=:memory:',
      // ipykernel sleeps 0.5 ms after each cell so IOPub catches up before the reply; a cell here
      // finishes on both "idle" and the reply, whichever comes last.
      '--IPythonKernel._execute_sleep=0',
    ],
    // Figures appear as PNG (and e2b/chart) without plt.show().
    env: { MPLBACKEND: 'module://matplotlib_inline.backend_inline', PYDEVD_DISABLE_FILE_VALIDATION: '1' },
    interruptMode: 'signal',
  }),
  setEnv: (vars) => `__import__('os').environ.update(${JSON.stringify(vars)})`,
  unsetEnv: (names) => `[__import__('os').environ.pop(k, None) for k in ${JSON.stringify(names)}]`,
  warmUpCode: "get_ipython().display_formatter.format(1 + 1); __import__('os').environ.update({})",
};

const javascript: LanguageSupport = {
  kernel: 'javascript',
  spec: () => ({
    argv: ['deno', 'jupyter', '--kernel', '--conn', '{connection_file}'],
    env: { DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1' },
    // Deno's kernel does not support interrupt_request and exits on SIGINT: a stuck cell
    // restarts the context instead (its state is lost).
    interruptMode: 'none',
    // Deno publishes a cell's value and console output from other tasks than its idle status,
    // stamped with whatever request is current then: a marker written the same way follows them.
    // (Only console output is captured; the kernel's own console.log is kept in case cells replace it.)
    setupCode: 'globalThis[Symbol.for("e2b.print")] = console.log.bind(console);',
    flushCode: (marker) => `globalThis[Symbol.for("e2b.print")](${JSON.stringify(marker)});`,
  }),
  setEnv: (vars) => `for (const [k, v] of Object.entries(${JSON.stringify(vars)})) Deno.env.set(k, v);`,
  unsetEnv: (names) => `for (const k of ${JSON.stringify(names)}) Deno.env.delete(k);`,
  stripAnsi: true,
  warmUpCode: 'for (const [k, v] of Object.entries({})) Deno.env.set(k, v); 1 + 1;',
};

const bash: LanguageSupport = {
  kernel: 'bash',
  spec: () => ({ argv: ['python3', '-m', 'e2b_bash_kernel', '-f', '{connection_file}'], interruptMode: 'signal' }),
  setEnv: (vars) =>
    Object.entries(vars)
      .filter(([k]) => VALID_SHELL_NAME.test(k))
      .map(([k, v]) => `export ${k}=${shellQuote(v)}`)
      .join('\n'),
  unsetEnv: (names) => {
    const valid = names.filter((k) => VALID_SHELL_NAME.test(k));
    return valid.length ? `unset ${valid.join(' ')}` : '';
  },
};

const r: LanguageSupport = {
  kernel: 'r',
  spec: () => ({ argv: ['R', '--slave', '-e', 'IRkernel::main()', '--args', '{connection_file}'], interruptMode: 'signal' }),
  // JSON strings are valid R strings (R understands \n, \", \\ and \uXXXX).
  setEnv: (vars) => {
    const names = Object.keys(vars);
    if (!names.length) return '';
    return `do.call(Sys.setenv, setNames(as.list(c(${names.map((k) => JSON.stringify(vars[k])).join(', ')})), c(${names.map((k) => JSON.stringify(k)).join(', ')})))`;
  },
  unsetEnv: (names) => (names.length ? `invisible(Sys.unsetenv(c(${names.map((k) => JSON.stringify(k)).join(', ')})))` : ''),
};

/** A Java string literal: every escape JSON writes is a Java escape too, and it never escapes a line break as a unicode escape. */
const javaString = (text: string) => JSON.stringify(text);

// As on E2B (IJava), env vars reach Java code as system properties: a JVM cannot change its
// own process environment.
const java: LanguageSupport = {
  kernel: 'java',
  spec: () => ({ argv: ['python3', '-m', 'e2b_java_kernel', '-f', '{connection_file}'], interruptMode: 'signal' }),
  setEnv: (vars) =>
    Object.entries(vars)
      .map(([k, v]) => `System.setProperty(${javaString(k)}, ${javaString(v)});`)
      .join('\n'),
  unsetEnv: (names) => names.map((k) => `System.clearProperty(${javaString(k)});`).join('\n'),
};

const LANGUAGES: Record<string, LanguageSupport> = {
  python,
  javascript,
  typescript: javascript,
  bash,
  r,
  java,
};

/** The support for a normalised language, or an error message saying why there is none. */
export function languageSupport(language: string): LanguageSupport | string {
  const support = LANGUAGES[language];
  const optional = [rAvailable() && 'r', javaAvailable() && 'java'].filter(Boolean);
  if (!support)
    return `No kernel for language '${language}': this sandbox runs python, javascript, typescript, bash${optional.map((l) => `, ${l}`).join('')}`;
  if (support === r && !rAvailable()) return `R is not installed in this template (code-interpreter-v1 has it)`;
  if (support === java && !javaAvailable()) return `Java is not installed in this template (code-interpreter-v1 has it)`;
  return support;
}

let rInstalled: boolean | undefined;
function rAvailable(): boolean {
  rInstalled ??= executable('/usr/bin/R') && executable('/usr/lib/R/bin/R');
  return rInstalled;
}

let javaInstalled: boolean | undefined;
function javaAvailable(): boolean {
  javaInstalled ??= executable('/usr/bin/java');
  return javaInstalled;
}
