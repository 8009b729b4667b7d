// process.Process messages in proto3 JSON: request parsing and the events the streams carry.
import { ConnectError } from '../connect/errors';
import {
  JsonObject,
  optionalBool,
  optionalBytes,
  optionalEnum,
  optionalInteger,
  optionalObject,
  optionalString,
  optionalStringArray,
  optionalStringMap,
} from '../connect/proto-json';
import { EndEvent, endEventJson } from './exit-status';
import { LaunchRequest, ProcessConfig, PtySize } from './launch';
import { OutputKind } from './managed-process';
import { ProcessSelector } from './registry';

const UINT32_MAX = 0xffffffff;

export const SIGNAL_VALUES: Record<string, number> = { SIGNAL_UNSPECIFIED: 0, SIGNAL_SIGTERM: 15, SIGNAL_SIGKILL: 9 };

export type ProcessInput = { stdin: Buffer } | { pty: Buffer };

export function parseProcessConfig(msg: JsonObject): ProcessConfig {
  const obj = optionalObject(msg, 'process');
  if (!obj) throw new ConnectError('invalid_argument', 'process is required');
  const cmd = optionalString(obj, 'cmd') ?? '';
  if (!cmd) throw new ConnectError('invalid_argument', 'process.cmd is required');
  const cwd = optionalString(obj, 'cwd');
  return {
    cmd,
    args: optionalStringArray(obj, 'args') ?? [],
    envs: optionalStringMap(obj, 'envs') ?? {},
    ...(cwd !== undefined ? { cwd } : {}),
  };
}

export function parsePty(msg: JsonObject): PtySize | undefined {
  const pty = optionalObject(msg, 'pty');
  if (!pty) return undefined;
  const size = optionalObject(pty, 'size') ?? {};
  // A zero size is what an unset size means; give the terminal something usable.
  const cols = optionalInteger(size, 'cols', 0, 65535) || 80;
  const rows = optionalInteger(size, 'rows', 0, 65535) || 24;
  return { cols, rows };
}

export function parseStartRequest(msg: JsonObject): LaunchRequest & { tag?: string } {
  const tag = optionalString(msg, 'tag');
  return {
    config: parseProcessConfig(msg),
    pty: parsePty(msg),
    // Absent means true: old clients expect a stdin pipe.
    stdin: optionalBool(msg, 'stdin') ?? true,
    ...(tag !== undefined ? { tag } : {}),
  };
}

/** The `process` ProcessSelector field of a request. */
export function parseSelector(msg: JsonObject): ProcessSelector {
  const selector = optionalObject(msg, 'process');
  if (!selector) throw new ConnectError('invalid_argument', 'process selector is required');
  const pid = optionalInteger(selector, 'pid', 0, UINT32_MAX);
  if (pid !== undefined) return { pid };
  const tag = optionalString(selector, 'tag');
  if (tag !== undefined) return { tag };
  throw new ConnectError('invalid_argument', 'process selector needs a pid or a tag');
}

export function parseInput(msg: JsonObject): ProcessInput {
  const input = optionalObject(msg, 'input');
  if (!input) throw new ConnectError('invalid_argument', 'input is required');
  const stdin = optionalBytes(input, 'stdin');
  if (stdin !== undefined) return { stdin };
  const pty = optionalBytes(input, 'pty');
  if (pty !== undefined) return { pty };
  throw new ConnectError('invalid_argument', 'input needs stdin or pty bytes');
}

export function parseSignal(msg: JsonObject): number {
  return optionalEnum(msg, 'signal', SIGNAL_VALUES) ?? 0;
}

export function startEvent(pid: number): object {
  return { event: { start: { pid } } };
}

export function dataEvent(kind: OutputKind, chunk: Buffer): object {
  return { event: { data: { [kind]: chunk.toString('base64') } } };
}

export function endEvent(end: EndEvent): object {
  return { event: { end: endEventJson(end) } };
}

export const KEEPALIVE_EVENT = { event: { keepalive: {} } };

export function processInfo(pid: number, config: ProcessConfig, tag: string | undefined): object {
  return {
    config: { cmd: config.cmd, args: config.args, envs: config.envs, ...(config.cwd !== undefined ? { cwd: config.cwd } : {}) },
    pid,
    ...(tag !== undefined ? { tag } : {}),
  };
}
