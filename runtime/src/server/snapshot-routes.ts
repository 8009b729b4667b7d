// The snapshot and fork routes of the control-plane API (protocol §1.2), added to its table.
// DELETE /templates/{id} is shared with templates: this one answers only for snapshot ids/names.
import { IncomingMessage, ServerResponse } from 'node:http';
import { SandboxSnapshots } from '../sandbox/snapshot-service';
import { parseSnapshotName } from '../sandbox/snapshots';
import { readJsonBody, sendEmpty, sendJson } from './http-util';
import { parseForkRequest, parseSnapshotNameField } from './sandbox-input';
import { statusOf } from './http-errors';
import { sandboxView } from './sandbox-views';

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void>;
export interface SnapshotRoute {
  method: string;
  pattern: RegExp;
  handler: Handler;
  when?: (params: string[]) => boolean;
}

export function snapshotRoutes(snapshots: SandboxSnapshots, domain: string): SnapshotRoute[] {
  const id = '([^/]+)';
  const isSnapshot = ([ref]: string[]) => {
    try {
      return snapshots.store.find(parseSnapshotName(ref).identifier)?.kind === 'snapshot';
    } catch {
      return false;
    }
  };
  return [
    {
      method: 'POST',
      pattern: new RegExp(`^/sandboxes/${id}/snapshots$`),
      handler: async (req, res, [sandboxID]) => {
        sendJson(res, 201, await snapshots.create(sandboxID, parseSnapshotNameField(await readJsonBody(req))));
      },
    },
    {
      method: 'GET',
      pattern: /^\/snapshots$/,
      handler: async (_req, res, _p, url) => {
        const q = url.searchParams;
        const { page, nextToken } = snapshots.store.list({
          sandboxID: q.get('sandboxID') ?? undefined,
          name: q.get('name') ?? undefined,
          limit: q.get('limit'),
          nextToken: q.get('nextToken'),
        });
        sendJson(res, 200, page, nextToken ? { 'x-next-token': nextToken } : {});
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/sandboxes/${id}/fork$`),
      handler: async (req, res, [sandboxID]) => {
        const { count, timeoutSeconds } = parseForkRequest(await readJsonBody(req));
        const results = await snapshots.fork(sandboxID, count, timeoutSeconds);
        sendJson(
          res,
          201,
          results.map((r) =>
            'sandbox' in r ? { sandbox: sandboxView(r.sandbox, domain) } : { error: { code: statusOf(r.error), message: r.error.message } },
          ),
        );
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/templates/${id}$`),
      when: isSnapshot,
      handler: async (_req, res, [ref]) => {
        await snapshots.store.delete(ref);
        sendEmpty(res, 204);
      },
    },
  ];
}
