// The process.Process Connect service: Start, Connect, List, SendInput, StreamInput, CloseStdin,
// SendSignal, Update.
import { basicAuthUser } from '../auth';
import { ConnectError } from '../connect/errors';
import { JsonObject, optionalObject } from '../connect/proto-json';
import { RpcCall, RpcRouter, ServerStream } from '../connect/rpc';
import { log } from '../log';
import { AgentSettings } from '../settings';
import { planLaunch } from './launch';
import { ManagedProcess, ProcessSink } from './managed-process';
import {
  KEEPALIVE_EVENT,
  dataEvent,
  endEvent,
  parseInput,
  parsePty,
  parseSelector,
  parseSignal,
  parseStartRequest,
  processInfo,
  startEvent,
} from './messages';
import { ProcessRegistry } from './registry';
import { CommandStarter } from './starter';

const DEFAULT_KEEPALIVE_SECONDS = 90;

export interface ProcessServiceOptions {
  settings: AgentSettings;
  registry: ProcessRegistry;
  /** Path of e2b-ptyexec; without it there is no PTY support and children get Node's socket pipes. */
  helperPath: string | undefined;
  starter: CommandStarter;
}

function keepaliveMs(call: RpcCall): number {
  const raw = call.header('keepalive-ping-interval');
  const seconds = raw !== undefined && /^\d{1,7}$/.test(raw.trim()) ? Number(raw) : DEFAULT_KEEPALIVE_SECONDS;
  return Math.max(1, seconds) * 1000;
}

/**
 * Streams a process's events: start, then data (with keepalives while idle), then its end.
 * `deadlineMs` ends this stream with deadline_exceeded (Connect's timeout); ending the process
 * too is the caller's choice.
 */
function streamProcess(proc: ManagedProcess, stream: ServerStream, call: RpcCall, deadlineMs?: number): void {
  stream.send(startEvent(proc.pid));
  let deadline: NodeJS.Timeout | undefined;
  const keepalive: NodeJS.Timeout = setTimeout(() => {
    stream.send(KEEPALIVE_EVENT);
    keepalive.refresh();
  }, keepaliveMs(call));
  const stopTimers = () => {
    clearTimeout(keepalive);
    clearTimeout(deadline);
  };
  const sink: ProcessSink = {
    data(kind, chunk) {
      keepalive.refresh();
      return stream.send(dataEvent(kind, chunk));
    },
    end(end) {
      stopTimers();
      stream.send(endEvent(end));
      stream.end();
    },
  };
  const subscription = proc.subscribe(sink);
  stream.onDrain(() => subscription.ready());
  // The client left: the process keeps running, only this stream's interest ends.
  stream.onClientGone(() => {
    stopTimers();
    subscription.cancel();
  });
  if (deadlineMs !== undefined && stream.open) {
    deadline = setTimeout(() => {
      stopTimers();
      subscription.cancel();
      stream.end(new ConnectError('deadline_exceeded', 'the stream reached its Connect-Timeout-Ms'));
    }, deadlineMs);
  }
}

function signalName(value: number): NodeJS.Signals | undefined {
  if (value === 9) return 'SIGKILL';
  if (value === 15) return 'SIGTERM';
  return undefined;
}

async function writeInput(proc: ManagedProcess, msg: JsonObject): Promise<void> {
  const input = parseInput(msg);
  if ('stdin' in input) await proc.writeStdin(input.stdin);
  else await proc.writePty(input.pty);
}

/** Start and end of every process go to the agent's log, which the runtime serves as sandbox logs. */
function logLifetime(proc: ManagedProcess, cmd: string, args: string[]): void {
  log(`process ${proc.pid} started: ${[cmd, ...args].join(' ').slice(0, 300)}`);
  proc.onEnd((end) => log(`process ${proc.pid} ended: ${end.status}`));
}

export function registerProcessService(router: RpcRouter, { settings, registry, helperPath, starter }: ProcessServiceOptions): void {
  router.register('process.Process', {
    Start: {
      kind: 'server-stream',
      async handle(msg, call, stream) {
        const user = settings.resolveUser(basicAuthUser(call.request));
        const request = parseStartRequest(msg);
        const plan = planLaunch(request, user, settings.envVars, settings.defaultWorkdir, helperPath);
        const proc = await ManagedProcess.start(starter.start(plan), request.config, request.tag, plan.pty);
        registry.add(proc);
        logLifetime(proc, request.config.cmd, request.config.args);
        // Same tick as the spawn: no output can have been emitted yet, so none is lost.
        // envd's rule: the Start call's timeout is the process's lifetime (0 or absent: none).
        // When it passes, the stream ends with deadline_exceeded (the SDK's TimeoutError) before
        // the killed process's end could be reported as an ordinary exit.
        streamProcess(proc, stream, call, call.timeoutMs);
        if (call.timeoutMs !== undefined) proc.killAfter(call.timeoutMs);
      },
    },

    Connect: {
      kind: 'server-stream',
      handle(msg, call, stream) {
        const selector = parseSelector(msg);
        const proc = registry.findLive(selector);
        if (proc) return streamProcess(proc, stream, call, call.timeoutMs);
        const exited = registry.findExited(selector);
        if (!exited)
          throw new ConnectError(
            'not_found',
            `${'pid' in selector ? `process with pid ${selector.pid}` : `process with tag ${selector.tag}`} not found`,
          );
        stream.send(startEvent(exited.pid));
        stream.send(endEvent(exited.end));
        stream.end();
      },
    },

    List: {
      kind: 'unary',
      handle() {
        return { processes: registry.list().map((p) => processInfo(p.pid, p.config, p.tag)) };
      },
    },

    SendInput: {
      kind: 'unary',
      async handle(msg) {
        await writeInput(registry.getLive(parseSelector(msg)), msg);
        return {};
      },
    },

    StreamInput: {
      kind: 'client-stream',
      async handle(messages) {
        let proc: ManagedProcess | undefined;
        for await (const msg of messages) {
          const start = optionalObject(msg, 'start');
          const data = optionalObject(msg, 'data');
          if (start) {
            proc = registry.getLive(parseSelector(start));
          } else if (data) {
            if (!proc) throw new ConnectError('failed_precondition', 'the first StreamInput message must be start');
            await writeInput(proc, data);
          }
          // keepalive messages need nothing
        }
        return {};
      },
    },

    CloseStdin: {
      kind: 'unary',
      handle(msg) {
        registry.getLive(parseSelector(msg)).closeStdin();
        return {};
      },
    },

    SendSignal: {
      kind: 'unary',
      handle(msg) {
        const proc = registry.getLive(parseSelector(msg));
        const value = parseSignal(msg);
        const signal = signalName(value);
        if (!signal) throw new ConnectError('unimplemented', `invalid signal: ${value}`);
        proc.signal(signal);
        return {};
      },
    },

    Update: {
      kind: 'unary',
      handle(msg) {
        const proc = registry.getLive(parseSelector(msg));
        const pty = parsePty(msg);
        if (pty) proc.resize(pty.cols, pty.rows);
        return {};
      },
    },
  });
}
