// A sandbox's logs, as E2B's logs endpoints serve them: what its agent logged (processes started
// and ended, problems), which comes from inside the sandbox, and its lifecycle events, which the
// runtime records itself, oldest first.
import { SandboxEvent } from './events';

export interface SandboxLogEntry { timestamp: string; level: 'debug' | 'info' | 'warn' | 'error'; message: string; fields: Record<string, string> }

const AGENT_LINE = /^\[e2b-agent\] (\S+) (.*)$/;

/** `agentLog`: the tail of the agent's log, as its GET /logs gives it ('' when it cannot be asked). */
export function sandboxLogEntries(agentLog: string, events: SandboxEvent[]): SandboxLogEntry[] {
  const text = agentLog;
  const fromAgent = text.split('\n').flatMap((line): SandboxLogEntry[] => {
    const match = AGENT_LINE.exec(line);
    if (!match) return [];
    const message = match[2];
    const level = /uncaught|cannot|not executable|error/i.test(message) ? 'error' : 'info';
    return [{ timestamp: match[1], level, message, fields: { logger: 'agent' } }];
  });
  const fromEvents = events.map((e): SandboxLogEntry => ({
    timestamp: e.timestamp, level: 'info', message: `sandbox ${e.type.replace('sandbox.lifecycle.', '')}`, fields: { logger: 'lifecycle' },
  }));
  return [...fromAgent, ...fromEvents].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
}
