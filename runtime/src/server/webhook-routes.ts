// E2B's lifecycle webhook registration API (/events/webhooks), added to the control-plane API's
// table: create (201), list, get, update (PATCH, 200) and delete (200), as E2B's docs describe it.
import { IncomingMessage, ServerResponse } from 'node:http';
import { readJsonBody, sendJson } from './http-util';
import { WebhookStore, webhookView } from '../webhooks/store';

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void>;
export interface WebhookRoute {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

export function webhookRoutes(store: WebhookStore): WebhookRoute[] {
  const one = /^\/events\/webhooks\/([^/]+)$/;
  return [
    {
      method: 'POST',
      pattern: /^\/events\/webhooks$/,
      handler: async (req, res) => sendJson(res, 201, webhookView(store.create(await readJsonBody(req)))),
    },
    { method: 'GET', pattern: /^\/events\/webhooks$/, handler: async (_req, res) => sendJson(res, 200, store.list().map(webhookView)) },
    { method: 'GET', pattern: one, handler: async (_req, res, [id]) => sendJson(res, 200, webhookView(store.get(id))) },
    {
      method: 'PATCH',
      pattern: one,
      handler: async (req, res, [id]) => sendJson(res, 200, webhookView(store.update(id, await readJsonBody(req)))),
    },
    {
      method: 'DELETE',
      pattern: one,
      handler: async (_req, res, [id]) => {
        store.delete(id);
        sendJson(res, 200, {});
      },
    },
  ];
}
