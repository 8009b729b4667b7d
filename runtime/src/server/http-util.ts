// Small helpers for the plain node:http servers.
import { IncomingMessage, ServerResponse } from 'node:http';
import { invalidInput } from '../errors';
import { HttpError, statusOf } from './http-errors';
import { readBody } from '../http-body';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': payload.length, ...headers });
  res.end(payload);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

/** E2B's error body: {"code": <status>, "message": "..."}. */
export function sendError(res: ServerResponse, err: unknown): void {
  const status = statusOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (!res.headersSent) sendJson(res, status, { code: status, message });
  else res.destroy();
}

const MAX_JSON_BODY = 1024 * 1024;

export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = (await readBody(req, MAX_JSON_BODY, () => new HttpError(413, 'request body too large'))).toString('utf8').trim();
  if (!text) return {};
  try {
    const value = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw invalidInput('request body must be a JSON object');
  }
}
