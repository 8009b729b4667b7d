// GET /v2/sandboxes: filters, ordering and cursor pagination as the SDK's paginator uses them.
import { invalidInput } from '../errors';
import { SandboxRecord, SandboxState } from '../sandbox/record';

export interface ListQuery {
  states: SandboxState[];
  metadata: [string, string][];
  template?: string;
  startedAfter?: number;
  order: 'asc' | 'desc';
  limit: number;
  nextToken?: string;
}

const MAX_LIMIT = 100;

export function parseListQuery(params: URLSearchParams): ListQuery {
  const states = (params.get('state') ?? 'running,paused')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const state of states) if (state !== 'running' && state !== 'paused') throw invalidInput(`invalid state "${state}"`);
  const order = params.get('order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw invalidInput('order must be asc or desc');
  const limit = params.has('limit') ? Number(params.get('limit')) : MAX_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw invalidInput(`limit must be an integer from 1 to ${MAX_LIMIT}`);
  const startedAfterText = params.get('startedAfter');
  const startedAfter = startedAfterText ? Date.parse(startedAfterText) : undefined;
  if (startedAfter !== undefined && Number.isNaN(startedAfter)) throw invalidInput('startedAfter must be an RFC 3339 date-time');
  return {
    states: states as SandboxState[],
    metadata: parseMetadataFilter(params.get('metadata')),
    template: params.get('template') || undefined,
    startedAfter,
    order,
    limit,
    nextToken: params.get('nextToken') || undefined,
  };
}

/** The SDK encodes `k=v&k2=v2` with each key and value escaped, then the whole string once more. */
export function parseMetadataFilter(value: string | null): [string, string][] {
  if (!value) return [];
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    throw invalidInput('metadata filter is not valid URL encoding');
  }
  return decoded
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = eq < 0 ? pair : pair.slice(0, eq);
      const val = eq < 0 ? '' : pair.slice(eq + 1);
      try {
        return [decodeURIComponent(key.replace(/\+/g, ' ')), decodeURIComponent(val.replace(/\+/g, ' '))];
      } catch {
        throw invalidInput('metadata filter is not valid URL encoding');
      }
    });
}

interface Cursor {
  startedAt: string;
  sandboxID: string;
}

/** A position in the order: the start time parsed once, not in every comparison of the sort. */
interface Position {
  startedAtMs: number;
  sandboxID: string;
}

function encodeCursor(record: SandboxRecord): string {
  return Buffer.from(`${record.startedAt}__${record.sandboxID}`).toString('base64url');
}

function decodeCursor(token: string): Cursor {
  const [startedAt, sandboxID] = Buffer.from(token, 'base64url').toString().split('__');
  if (!startedAt || !sandboxID || Number.isNaN(Date.parse(startedAt))) throw invalidInput('invalid nextToken');
  return { startedAt, sandboxID };
}

function positionOf(at: Cursor): Position {
  return { startedAtMs: Date.parse(at.startedAt), sandboxID: at.sandboxID };
}

function compare(a: Position, b: Position): number {
  return a.startedAtMs - b.startedAtMs || (a.sandboxID < b.sandboxID ? -1 : a.sandboxID > b.sandboxID ? 1 : 0);
}

export function selectPage(all: SandboxRecord[], query: ListQuery): { page: SandboxRecord[]; nextToken?: string } {
  const direction = query.order === 'asc' ? 1 : -1;
  const cursor = query.nextToken ? positionOf(decodeCursor(query.nextToken)) : undefined;
  const matching = all
    .filter((s) => query.states.includes(s.state))
    .filter((s) => query.metadata.every(([k, v]) => s.metadata[k] === v))
    .filter((s) => !query.template || s.templateID === query.template || s.alias === query.template)
    .map((record) => ({ record, position: positionOf(record) }))
    .filter(({ position }) => query.startedAfter === undefined || position.startedAtMs >= query.startedAfter)
    .filter(({ position }) => !cursor || compare(position, cursor) * direction > 0)
    .sort((a, b) => compare(a.position, b.position) * direction)
    .map(({ record }) => record);
  const page = matching.slice(0, query.limit);
  const more = matching.length > query.limit;
  return { page, nextToken: more ? encodeCursor(page[page.length - 1]) : undefined };
}
