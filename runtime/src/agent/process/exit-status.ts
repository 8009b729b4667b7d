// How a finished process is reported: envd fills EndEvent from Go's os.ProcessState, so the texts
// are Go's ("exit status 1", "signal: killed").
import type * as Os from 'node:os';

export interface EndEvent {
  exitCode: number;
  exited: boolean;
  status: string;
  error?: string;
}

// Go's names for Linux signals (syscall.Signal.String()).
const GO_SIGNAL_NAMES: Record<number, string> = {
  1: 'hangup',
  2: 'interrupt',
  3: 'quit',
  4: 'illegal instruction',
  5: 'trace/breakpoint trap',
  6: 'aborted',
  7: 'bus error',
  8: 'floating point exception',
  9: 'killed',
  10: 'user defined signal 1',
  11: 'segmentation fault',
  12: 'user defined signal 2',
  13: 'broken pipe',
  14: 'alarm clock',
  15: 'terminated',
  16: 'stack fault',
  17: 'child exited',
  18: 'continued',
  19: 'stopped (signal)',
  20: 'stopped',
  21: 'stopped (tty input)',
  22: 'stopped (tty output)',
  23: 'urgent I/O condition',
  24: 'CPU time limit exceeded',
  25: 'file size limit exceeded',
  26: 'virtual timer expired',
  27: 'profiling timer expired',
  28: 'window changed',
  29: 'I/O possible',
  30: 'power failure',
  31: 'bad system call',
};

/** Only Node's spawn reports signals by name; node:os loads then, not at every agent's start-up. */
function signalNumber(name: NodeJS.Signals): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { constants } = require('node:os') as typeof Os;
  return (constants.signals as Record<string, number>)[name];
}

function signalText(signal: NodeJS.Signals | number): string {
  const num = typeof signal === 'number' ? signal : signalNumber(signal);
  return GO_SIGNAL_NAMES[num] ?? (num !== undefined ? `signal ${num}` : String(signal));
}

/** From Node's ('exit' code, signal) pair, or a wait status's exit code / signal number. */
export function endEventFor(code: number | null, signal: NodeJS.Signals | number | null): EndEvent {
  if (signal) {
    const status = `signal: ${signalText(signal)}`;
    return { exitCode: -1, exited: false, status, error: status };
  }
  const exitCode = code ?? -1;
  const status = `exit status ${exitCode}`;
  return exitCode === 0 ? { exitCode, exited: true, status } : { exitCode, exited: true, status, error: status };
}

/** proto3 JSON: default values (0, false) are left out. */
export function endEventJson(end: EndEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (end.exitCode !== 0) out.exitCode = end.exitCode;
  if (end.exited) out.exited = true;
  out.status = end.status;
  if (end.error !== undefined) out.error = end.error;
  return out;
}
