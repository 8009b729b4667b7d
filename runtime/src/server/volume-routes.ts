// The volume API's routes (protocol §1.4), added to the control-plane API's table: /volumes with
// the API key, and the content API /volumecontent/{id}/… with the volume's bearer token (the SDK
// reaches it at E2B_VOLUME_API_URL, which the runtime's env file points here).
import { IncomingMessage, ServerResponse } from 'node:http';
import { posix } from 'node:path';
import { invalidInput } from '../errors';
import { readJsonBody, sendEmpty, sendJson } from './http-util';
import { ID_RANGE } from '../container/idmap';
import { VolumeStore } from '../volumes/store';
import { EntryOwnership, MAX_LIST_DEPTH } from '../volumes/volume-io';

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void>;
export interface VolumeRoute {
  method: string;
  pattern: RegExp;
  handler: Handler;
  public?: boolean;
}

/** `mountedBy(volumeID)`: the sandboxes (running, paused or being created) that mount it. */
export function volumeRoutes(volumes: VolumeStore, mountedBy: (volumeID: string) => string[]): VolumeRoute[] {
  const id = '([^/]+)';
  const content = (op: string) => new RegExp(`^/volumecontent/${id}/${op}$`);
  const io = (req: IncomingMessage, volumeID: string) => volumes.content(volumeID, req.headers.authorization);

  return [
    {
      method: 'POST',
      pattern: /^\/volumes$/,
      handler: async (req, res) => {
        const { volumeID, name, token } = await volumes.create((await readJsonBody(req)).name);
        sendJson(res, 201, { volumeID, name, token });
      },
    },
    {
      method: 'GET',
      pattern: /^\/volumes$/,
      handler: async (_req, res) => {
        sendJson(
          res,
          200,
          volumes.list().map(({ volumeID, name }) => ({ volumeID, name })),
        );
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/volumes/${id}$`),
      handler: async (_req, res, [volumeID]) => {
        const record = volumes.require(volumeID);
        sendJson(res, 200, { volumeID: record.volumeID, name: record.name, token: record.token });
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/volumes/${id}$`),
      handler: async (_req, res, [volumeID]) => {
        const record = volumes.require(volumeID);
        await volumes.destroy(record.volumeID, mountedBy(record.volumeID));
        sendEmpty(res, 204);
      },
    },
    {
      method: 'GET',
      pattern: content('dir'),
      public: true,
      handler: async (req, res, [volumeID], url) => {
        const files = io(req, volumeID);
        sendJson(res, 200, await files.list(volumePath(url), listDepth(url.searchParams.get('depth'))));
      },
    },
    {
      method: 'POST',
      pattern: content('dir'),
      public: true,
      handler: async (req, res, [volumeID], url) => {
        const files = io(req, volumeID);
        sendJson(res, 201, await files.makeDir(volumePath(url), ownershipOfQuery(url), flag(url, 'force')));
      },
    },
    {
      method: 'GET',
      pattern: content('path'),
      public: true,
      handler: async (req, res, [volumeID], url) => {
        const files = io(req, volumeID);
        sendJson(res, 200, await files.stat(volumePath(url)));
      },
    },
    {
      method: 'PATCH',
      pattern: content('path'),
      public: true,
      handler: async (req, res, [volumeID], url) => {
        const files = io(req, volumeID);
        const body = await readJsonBody(req);
        sendJson(res, 200, await files.updateMetadata(volumePath(url), ownership(body.uid, body.gid, body.mode)));
      },
    },
    {
      method: 'DELETE',
      pattern: content('path'),
      public: true,
      handler: async (req, res, [volumeID], url) => {
        const files = io(req, volumeID);
        await files.remove(volumePath(url));
        sendEmpty(res, 204);
      },
    },
    {
      method: 'GET',
      pattern: content('file'),
      public: true,
      handler: async (req, res, [volumeID], url) => {
        const files = io(req, volumeID);
        await files.readFile(volumePath(url), res);
      },
    },
    {
      method: 'PUT',
      pattern: content('file'),
      public: true,
      handler: async (req, res, [volumeID], url) => {
        const files = io(req, volumeID);
        const path = volumePath(url);
        if (path === '/') throw invalidInput('path must name a file');
        sendJson(res, 201, await files.writeFile(path, ownershipOfQuery(url), flag(url, 'force'), req));
      },
    },
  ];
}

/** A path inside the volume, as E2B reads one: relative to the volume's root, cleaned. */
function volumePath(url: URL): string {
  const raw = url.searchParams.get('path') ?? '';
  if (raw.includes('\0')) throw invalidInput('path must not contain NUL');
  const clean = posix.normalize(`/${raw}`);
  return clean.length > 1 && clean.endsWith('/') ? clean.slice(0, -1) : clean;
}

function listDepth(value: string | null): number {
  const depth = value === null || value === '' ? 1 : Number(value);
  if (!Number.isInteger(depth)) throw invalidInput('depth must be an integer');
  if (depth > MAX_LIST_DEPTH) throw invalidInput(`depth must be between 1 and ${MAX_LIST_DEPTH}`);
  return Math.max(depth, 1);
}

function flag(url: URL, name: string): boolean {
  const value = url.searchParams.get(name);
  if (value === null || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw invalidInput(`${name} must be true or false`);
}

function ownershipOfQuery(url: URL): EntryOwnership {
  const q = url.searchParams;
  const num = (name: string) => (q.has(name) && q.get(name) !== '' ? Number(q.get(name)) : undefined);
  return ownership(num('uid'), num('gid'), num('mode'));
}

function ownership(uid: unknown, gid: unknown, mode: unknown): EntryOwnership {
  const id = (value: unknown, name: string) => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= ID_RANGE)
      throw invalidInput(`${name} must be an integer from 0 to ${ID_RANGE - 1}`);
    return value;
  };
  const result: EntryOwnership = { uid: id(uid, 'uid'), gid: id(gid, 'gid') };
  if (mode !== undefined && mode !== null) {
    if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o7777)
      throw invalidInput('mode must be an integer from 0 to 0o7777');
    result.mode = mode;
  }
  return result;
}
