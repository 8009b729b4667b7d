// A code context: one kernel of one language with its own cwd and state. Executions in a context
// run one at a time (a FIFO lock); each streams its output as the NDJSON lines of E2B's /execute.
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { ExecutionEnd, JupyterMessage, Kernel } from './kernel';
import { LanguageSupport } from './languages';
import { OutputLine, OutputMapper } from './output';

/** How long an interrupted cell may take to stop before the kernel is restarted instead. */
const INTERRUPT_GRACE_MS = 5000;
/** How long a cell of a kernel that cannot be interrupted may still finish by itself. */
const UNINTERRUPTIBLE_GRACE_MS = 1000;
/** A kernel that keeps dying right after start is not restarted forever. */
const MAX_QUICK_RESTARTS = 3;
/** Starts of a kernel that exits by itself while starting (a port a process took meanwhile). */
const START_ATTEMPTS = 2;

export interface ContextInfo {
  id: string;
  language: string;
  cwd: string;
}

export interface ExecuteRequest {
  code: string;
  envVars?: Record<string, string>;
  /** The X-Access-Token the client sent, to read the sandbox env vars from envd. */
  accessToken?: string;
  write(line: OutputLine): void;
  /** Aborted when the HTTP client goes away: the cell is interrupted. */
  signal: AbortSignal;
}

export type GlobalEnvSource = (accessToken: string | undefined) => Promise<Record<string, string>>;

class Mutex {
  private tail: Promise<void> = Promise.resolve();

  async lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.tail;
    this.tail = previous.then(() => next);
    await previous;
    return release;
  }
}

export class CodeContext {
  readonly id = randomUUID();
  private kernel!: Kernel;
  private ready!: Promise<void>;
  private readonly lock = new Mutex();
  /** The sandbox's env vars as set in this kernel (fetched on the first execution, as upstream). */
  private globalEnvs?: Record<string, string>;
  /** Called when the running execution must end now (restart, removal, kernel death). */
  private abortRunning?: (reason: ExecutionEnd) => void;
  private quickRestarts = 0;
  private removed = false;
  private restarting?: Promise<void>;
  private failure?: Error;

  constructor(
    readonly language: string,
    readonly cwd: string,
    private readonly support: LanguageSupport,
    private readonly globalEnvSource: GlobalEnvSource,
    private readonly log: (line: string) => void,
  ) {}

  get info(): ContextInfo {
    return { id: this.id, language: this.language, cwd: this.cwd };
  }

  /** Starts the kernel; resolves when it answers. Executions wait for `ready`. */
  start(): Promise<void> {
    this.ready = this.launch();
    return this.ready;
  }

  private async launch(): Promise<void> {
    try {
      if (!statSync(this.cwd).isDirectory()) throw new Error('not a directory');
    } catch (err) {
      throw new Error(`cannot use ${this.cwd} as the working directory: ${(err as Error).message}`, { cause: err });
    }
    for (let attempt = 1; ; attempt++) {
      const kernel = new Kernel(this.support.spec(), this.cwd, this.id);
      this.kernel = kernel;
      this.globalEnvs = undefined;
      const started = Date.now();
      try {
        await kernel.start();
      } catch (err) {
        if (attempt < START_ATTEMPTS && kernel.exitedWhileStarting && !this.removed && this.kernel === kernel) {
          this.log(`context ${this.id} (${this.language}): ${(err as Error).message}; starting it again`);
          continue;
        }
        throw err;
      }
      // Only a kernel that came up is restarted when it dies: one that dies while starting is
      // this start's to retry or report, once.
      kernel.once('exit', (code, signal) => this.onKernelExit(kernel, started, code, signal));
      return;
    }
  }

  private onKernelExit(kernel: Kernel, started: number, code: number | null, signal: string | null): void {
    if (kernel.stopping || this.removed || kernel !== this.kernel) return;
    const stderr = kernel.stderr.trim().split('\n').slice(-5).join(' | ');
    this.log(
      `context ${this.id} (${this.language}): kernel exited unexpectedly (${signal ?? `code ${code}`}), restarting it${stderr ? `; its stderr ended with: ${stderr}` : ''}`,
    );
    this.quickRestarts = Date.now() - started < 10_000 ? this.quickRestarts + 1 : 0;
    if (this.quickRestarts > MAX_QUICK_RESTARTS) {
      this.failure = new Error(`the ${this.language} kernel keeps exiting right after it starts`);
    } else {
      // The new `ready` is in place before the running cell ends, so the next one waits for it.
      this.start().catch((err) => {
        this.failure = err as Error;
        this.log(`context ${this.id}: restart failed: ${String(err)}`);
      });
    }
    this.abortRunning?.('kernel-died');
  }

  /** Restarts the kernel: state, env and variables are lost; a running cell ends with an error. */
  restart(): Promise<void> {
    if (this.restarting) return this.restarting;
    const old: Kernel | undefined = this.kernel;
    if (old) old.stopping = true;
    this.failure = undefined;
    this.quickRestarts = 0;
    const stopped = old ? old.shutdown(100) : Promise.resolve();
    const restarting = stopped
      .then(() => this.launch())
      .finally(() => {
        this.restarting = undefined;
      });
    this.ready = this.restarting = restarting;
    this.abortRunning?.('kernel-stopped');
    return restarting;
  }

  async remove(): Promise<void> {
    this.removed = true;
    this.abortRunning?.('kernel-stopped');
    // A kernel still starting is stopped once it is up.
    await this.ready?.catch(() => undefined);
    await this.kernel?.shutdown();
  }

  /** Runs a cell; resolves once the last line is written (env cleanup may still follow). */
  async execute(request: ExecuteRequest): Promise<void> {
    const release = await this.lock.lock();
    let cleanup: Record<string, string> | undefined;
    try {
      await this.runCell(request).then((envVars) => {
        cleanup = envVars;
      });
    } finally {
      if (cleanup && Object.keys(cleanup).length) {
        // Restore after the response is complete, still holding the lock, as upstream does.
        this.restoreEnv(Object.keys(cleanup))
          .catch((err) => this.log(`context ${this.id}: env cleanup failed: ${String(err)}`))
          .finally(release);
      } else {
        release();
      }
    }
  }

  private async runCell(request: ExecuteRequest): Promise<Record<string, string> | undefined> {
    const { write, signal } = request;
    if (this.failure) {
      write({ type: 'error', name: 'ContextFailed', value: this.failure.message, traceback: '' });
      return undefined;
    }
    try {
      await this.ready;
    } catch (err) {
      write({
        type: 'error',
        name: 'ContextFailed',
        value: `the ${this.language} kernel did not start: ${(err as Error).message}`,
        traceback: '',
      });
      return undefined;
    }
    if (signal.aborted) return undefined;

    if (this.globalEnvs === undefined) {
      try {
        const envs = await this.globalEnvSource(request.accessToken);
        if (Object.keys(envs).length) await this.silent(this.support.setEnv(envs));
        this.globalEnvs = envs;
      } catch (err) {
        this.log(`context ${this.id}: cannot apply the sandbox env vars: ${String(err)}`);
      }
    }
    const envVars = request.envVars && Object.keys(request.envVars).length ? request.envVars : undefined;
    if (envVars) await this.silent(this.support.setEnv(envVars));

    const kernel = this.kernel;
    const mapper = new OutputMapper(write, !!this.support.stripAnsi);
    const running = kernel.execute(request.code, { onMessage: (msg: JupyterMessage) => mapper.onMessage(msg) });
    const aborted = new Promise<ExecutionEnd>((resolve) => {
      this.abortRunning = resolve;
    });
    let interruptTimer: NodeJS.Timeout | undefined;
    const onClientGone = () => {
      const interrupted = kernel.interrupt();
      const grace = interrupted ? INTERRUPT_GRACE_MS : UNINTERRUPTIBLE_GRACE_MS;
      this.log(
        `context ${this.id}: the client went away, ${interrupted ? 'interrupting the cell' : `the ${this.language} kernel cannot be interrupted`}`,
      );
      interruptTimer = setTimeout(() => {
        this.log(`context ${this.id}: the cell did not stop within ${grace} ms, restarting the kernel`);
        this.restart().catch((err) => this.log(`context ${this.id}: restart failed: ${String(err)}`));
      }, grace);
    };
    if (signal.aborted) onClientGone();
    else signal.addEventListener('abort', onClientGone, { once: true });
    try {
      const end = await Promise.race([running.finished, aborted]);
      // As upstream: a kernel that died (and is being restarted) is ContextRestarting; a context
      // restarted or removed on request cuts its running cell off.
      if (end === 'kernel-died') {
        mapper.fail('ContextRestarting', 'Context was restarted');
        return undefined;
      }
      if (end === 'kernel-stopped') {
        mapper.fail('UnexpectedEndOfExecution', 'Connection to the execution was closed before the execution was finished');
        return undefined;
      }
      return envVars;
    } finally {
      clearTimeout(interruptTimer);
      signal.removeEventListener('abort', onClientGone);
      this.abortRunning = undefined;
    }
  }

  /**
   * Pays the first execution's one-time costs (compiling, imports, formatters) before anyone
   * waits for a cell: a sandbox taken from the warm pool then answers its first cell at once.
   */
  async warmUp(): Promise<void> {
    await this.ready;
    if (this.support.warmUpCode) await this.silent(this.support.warmUpCode);
  }

  /** A silent execution (no history, no output to anyone); errors are logged. */
  private async silent(code: string): Promise<void> {
    if (!code.trim()) return;
    const running = this.kernel.execute(code, {
      silent: true,
      storeHistory: false,
      onMessage: (msg) => {
        if (msg.header.msg_type === 'error') this.log(`context ${this.id}: setup code failed: ${msg.content.ename}: ${msg.content.evalue}`);
      },
    });
    await running.finished;
  }

  private async restoreEnv(names: string[]): Promise<void> {
    const global = this.globalEnvs ?? {};
    const back: Record<string, string> = {};
    const gone: string[] = [];
    for (const name of names) {
      if (Object.prototype.hasOwnProperty.call(global, name)) back[name] = global[name];
      else gone.push(name);
    }
    if (Object.keys(back).length) await this.silent(this.support.setEnv(back));
    if (gone.length) await this.silent(this.support.unsetEnv(gone));
  }
}
