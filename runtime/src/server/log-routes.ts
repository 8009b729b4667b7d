// The sandbox logs endpoints (GET /sandboxes/{id}/logs, the CLI's, and /v2/sandboxes/{id}/logs),
// added to the control-plane API's table. As on E2B, a killed sandbox's logs stay readable (here:
// its lifecycle events, which the runtime keeps for 7 days; its agent's log went with it).
import { IncomingMessage, ServerResponse } from 'node:http';
import { invalidInput, notFound } from '../errors';
import { SandboxManager } from '../sandbox/manager';
import { LOG_LEVELS, LogLevel, LogQuery, queryLogs, rawLogLine, SandboxLogEntry, sandboxLogEntries } from '../sandbox/sandbox-logs';
import { sendJson } from './http-util';

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void>;
export interface LogRoute {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

const MAX_LIMIT = 1000;
const MAX_SEARCH = 256;
const MAX_EVENTS = 10_000;

export function sandboxLogRoutes(sandboxes: SandboxManager): LogRoute[] {
  const id = '([^/]+)';

  async function entriesOf(sandboxId: string): Promise<SandboxLogEntry[]> {
    const events = sandboxes.events.query({ sandboxId, offset: 0, limit: MAX_EVENTS, orderAsc: true });
    const live = sandboxes.get(sandboxId);
    if (!live && events.length === 0) throw notFound(`Sandbox "${sandboxId}" doesn't exist or you don't have access to it`);
    return sandboxLogEntries(live ? await sandboxes.agentLog(sandboxId) : '', events);
  }

  return [
    {
      // v1: oldest first from `start` (unix ms), `logs` as raw JSON lines plus `logEntries`.
      method: 'GET',
      pattern: new RegExp(`^/sandboxes/${id}/logs$`),
      handler: async (_req, res, [sandboxId], url) => {
        const q = url.searchParams;
        const query: LogQuery = { fromMs: unixMs(q, 'start'), limit: limitOf(q, Number.MAX_SAFE_INTEGER), direction: 'forward' };
        const entries = queryLogs(await entriesOf(sandboxId), query);
        sendJson(res, 200, {
          logs: entries.map((e) => ({ timestamp: e.timestamp, line: rawLogLine(e, sandboxId) })),
          logEntries: entries,
        });
      },
    },
    {
      // v2: newest first unless direction=forward; `cursor` (unix ms) is where the page starts.
      method: 'GET',
      pattern: new RegExp(`^/v2/sandboxes/${id}/logs$`),
      handler: async (_req, res, [sandboxId], url) => {
        const q = url.searchParams;
        const direction = q.get('direction') ?? 'backward';
        if (direction !== 'forward' && direction !== 'backward') throw invalidInput('direction must be forward or backward');
        const level = q.get('level') ?? undefined;
        if (level !== undefined && !LOG_LEVELS.includes(level as LogLevel))
          throw invalidInput(`level must be one of ${LOG_LEVELS.join(', ')}`);
        const search = q.get('search') ?? undefined;
        if (search !== undefined && search.length > MAX_SEARCH) throw invalidInput(`search can be at most ${MAX_SEARCH} characters`);
        const cursor = unixMs(q, 'cursor');
        const query: LogQuery = {
          fromMs: direction === 'forward' ? cursor : undefined,
          beforeMs: direction === 'backward' && cursor !== undefined ? cursor + 1 : undefined,
          limit: limitOf(q, MAX_LIMIT),
          direction,
          minLevel: level as LogLevel | undefined,
          search,
        };
        sendJson(res, 200, { logs: queryLogs(await entriesOf(sandboxId), query) });
      },
    },
  ];
}

function unixMs(q: URLSearchParams, name: string): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^\d{1,16}$/.test(raw)) throw invalidInput(`${name} must be a non-negative integer (unix time in milliseconds)`);
  return Number(raw);
}

function limitOf(q: URLSearchParams, max: number): number {
  const raw = q.get('limit');
  if (raw === null || raw === '') return MAX_LIMIT;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > max) throw invalidInput(`limit must be an integer from 0 to ${Math.min(max, 2 ** 31 - 1)}`);
  return Number(raw);
}
