// A sandbox's logs, as E2B's logs endpoints serve them: what its agent logged (processes started
// and ended, problems), which comes from inside the sandbox, and its lifecycle events, which the
// runtime records itself. Each entry is structured (level, message, string fields) and also has
// the raw JSON line E2B's v1 endpoint returns and the CLI parses (`e2b sandbox logs`).
import { SandboxEvent } from './events';
import { LOCAL_TEAM_ID } from './team';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface SandboxLogEntry {
  timestamp: string;
  level: LogLevel;
  message: string;
  fields: Record<string, string>;
}

export interface LogQuery {
  /** Oldest entry wanted, unix ms, inclusive. */
  fromMs?: number;
  /** Entries strictly older than this, unix ms. */
  beforeMs?: number;
  limit: number;
  direction: 'forward' | 'backward';
  /** Entries below this level are left out. */
  minLevel?: LogLevel;
  /** Case-sensitive substring of the message. */
  search?: string;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
export const LOG_LEVELS = Object.keys(LEVEL_RANK) as LogLevel[];

const AGENT_LINE = /^\[e2b-agent\] (\S+) (.*)$/;
const PROCESS_LINE = /^process (\d+) /;

/**
 * `agentLog`: the tail of the agent's log, as its GET /logs gives it ('' when it cannot be asked).
 * The sandbox can write anything there, so those lines are always the `agent` logger's, never
 * `lifecycle`, which only the runtime's own events use.
 */
export function sandboxLogEntries(agentLog: string, events: SandboxEvent[]): SandboxLogEntry[] {
  const fromAgent = agentLog.split('\n').flatMap((line): SandboxLogEntry[] => {
    const match = AGENT_LINE.exec(line);
    if (!match || Number.isNaN(Date.parse(match[1]))) return [];
    const message = match[2];
    const fields: Record<string, string> = { logger: 'agent' };
    const pid = PROCESS_LINE.exec(message);
    if (pid) fields.pid = pid[1];
    // A process line quotes the user's command, whose words say nothing about the agent's health.
    const level = !pid && /uncaught|cannot|not executable|error|failed/i.test(message) ? 'error' : 'info';
    return [{ timestamp: new Date(match[1]).toISOString(), level, message, fields }];
  });
  const fromEvents = events.map((e): SandboxLogEntry => ({
    timestamp: e.timestamp,
    level: 'info',
    message: `sandbox ${e.type.replace('sandbox.lifecycle.', '')}`,
    fields: { logger: 'lifecycle', eventType: e.type },
  }));
  return [...fromAgent, ...fromEvents].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
}

export function queryLogs(entries: SandboxLogEntry[], q: LogQuery): SandboxLogEntry[] {
  const matching = entries.filter((e) => {
    const at = Date.parse(e.timestamp);
    return (
      (q.fromMs === undefined || at >= q.fromMs) &&
      (q.beforeMs === undefined || at < q.beforeMs) &&
      (!q.minLevel || LEVEL_RANK[e.level] >= LEVEL_RANK[q.minLevel]) &&
      (!q.search || e.message.includes(q.search))
    );
  });
  const ordered = q.direction === 'backward' ? matching.reverse() : matching;
  return ordered.slice(0, q.limit);
}

/** The raw line of an entry, shaped like the JSON lines E2B's log pipeline stores. */
export function rawLogLine(entry: SandboxLogEntry, sandboxId: string): string {
  return JSON.stringify({ level: entry.level, message: entry.message, ...entry.fields, sandboxID: sandboxId, teamID: LOCAL_TEAM_ID });
}
