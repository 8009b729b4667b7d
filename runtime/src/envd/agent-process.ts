// Host-side use of the agent's process service over its socket: start a template's start
// command in the background, or run its ready command to completion.
import { request } from 'node:http';
import { connectAgentSocket } from './agent-link';

export interface SandboxCommand {
  cmd: string;
  user?: string;
  envs?: Record<string, string>;
  cwd?: string;
}
export interface RunOptions {
  /** Wait for the exit status; otherwise return once the process has started. */
  waitForExit: boolean;
  timeoutMs?: number;
  /** Output as it arrives (stdout, stderr and PTY alike). */
  onOutput?: (text: string) => void;
}
export interface CommandOutcome {
  pid: number;
  exitCode?: number;
  output: string;
  /** The end event's status ("exit status 3"). */ status?: string;
}

function envelope(message: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(message));
  const head = Buffer.alloc(5);
  head.writeUInt32BE(json.length, 1);
  return Buffer.concat([head, json]);
}

/**
 * Starts `bash -l -c cmd` in the sandbox. With `waitForExit` false it returns as soon as the
 * process has started (it keeps running when this connection closes, as envd does).
 */
export function runInSandbox(
  socketPath: string,
  accessToken: string | undefined,
  command: SandboxCommand,
  waitForExit: boolean,
  timeoutMs = 60_000,
): Promise<CommandOutcome> {
  return startInSandbox(socketPath, accessToken, command, { waitForExit, timeoutMs });
}

export function startInSandbox(
  socketPath: string,
  accessToken: string | undefined,
  command: SandboxCommand,
  options: RunOptions,
): Promise<CommandOutcome> {
  const { waitForExit, timeoutMs = 60_000, onOutput } = options;
  const body = envelope({
    process: { cmd: '/bin/bash', args: ['-l', '-c', command.cmd], envs: command.envs ?? {}, cwd: command.cwd },
    stdin: false,
  });
  const headers: Record<string, string | number> = {
    'content-type': 'application/connect+json',
    'connect-protocol-version': '1',
    'content-length': body.length,
  };
  if (accessToken) headers['x-access-token'] = accessToken;
  if (command.user) headers.authorization = `Basic ${Buffer.from(`${command.user}:`).toString('base64')}`;
  if (waitForExit) headers['connect-timeout-ms'] = timeoutMs;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        createConnection: () => connectAgentSocket(socketPath),
        method: 'POST',
        path: '/process.Process/Start',
        headers,
        timeout: timeoutMs,
      },
      (res) => {
        let buffer = Buffer.alloc(0);
        let pid = 0;
        let output = '';
        res.on('data', (chunk: Buffer) => {
          buffer = Buffer.concat([buffer, chunk]);
          while (buffer.length >= 5 && buffer.length >= 5 + buffer.readUInt32BE(1)) {
            const flags = buffer[0];
            const message = JSON.parse(buffer.subarray(5, 5 + buffer.readUInt32BE(1)).toString());
            buffer = buffer.subarray(5 + buffer.readUInt32BE(1));
            if (flags & 2) {
              if (message.error) reject(new Error(`${message.error.code}: ${message.error.message}`));
              continue;
            }
            const event = message.event ?? {};
            if (event.start) {
              pid = event.start.pid;
              if (!waitForExit) {
                resolve({ pid, output });
                req.destroy();
                return;
              }
            } else if (event.data) {
              const text = Buffer.from(event.data.stdout ?? event.data.stderr ?? event.data.pty ?? '', 'base64').toString();
              output = (output + text).slice(-64 * 1024);
              onOutput?.(text);
            } else if (event.end) {
              // A process killed by a signal reports exited:false and no exit code.
              resolve({ pid, exitCode: event.end.exitCode ?? (event.end.exited === false ? -1 : 0), output, status: event.end.status });
            }
          }
        });
        res.on('end', () => reject(new Error('the command stream ended without an exit status')));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`"${command.cmd}" did not finish in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
