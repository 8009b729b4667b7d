// The control-plane REST API (protocol §1), as the official SDKs call it.
import { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { ApiError, notFound } from '../sandbox/errors';
import { SandboxManager, CreateRequest } from '../sandbox/manager';
import { ImageTemplates } from '../image/templates';
import { readJsonBody, sendEmpty, sendError, sendJson } from './http-util';
import { parseListQuery, parseMetadataFilter, selectPage } from './list-query';
import { listedSandboxView, sandboxDetailView, sandboxView } from './sandbox-views';

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void>;

interface Route { method: string; pattern: RegExp; handler: Handler; public?: boolean }

export class ControlPlaneApi {
  private readonly routes: Route[];

  constructor(
    private readonly sandboxes: SandboxManager,
    private readonly templates: ImageTemplates,
    private readonly apiKey: string,
    private readonly domain: string,
  ) {
    const id = '([^/]+)';
    this.routes = [
      { method: 'GET', pattern: /^\/health$/, handler: this.health, public: true },
      // SDKs up to 2.45 use the v1 paths for create and connect, later ones v2; both stay served.
      { method: 'POST', pattern: /^\/(?:v2\/)?sandboxes$/, handler: this.create },
      { method: 'GET', pattern: /^\/sandboxes$/, handler: this.listV1 },
      { method: 'GET', pattern: /^\/v2\/sandboxes$/, handler: this.listV2 },
      { method: 'GET', pattern: new RegExp(`^/sandboxes/${id}$`), handler: this.getOne },
      { method: 'DELETE', pattern: new RegExp(`^/sandboxes/${id}$`), handler: this.kill },
      { method: 'POST', pattern: new RegExp(`^/sandboxes/${id}/timeout$`), handler: this.setTimeout },
      { method: 'POST', pattern: new RegExp(`^/sandboxes/${id}/refreshes$`), handler: this.refresh },
      { method: 'POST', pattern: new RegExp(`^/(?:v2/)?sandboxes/${id}/connect$`), handler: this.connect },
      { method: 'GET', pattern: /^\/templates$/, handler: this.listTemplates },
    ];
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const candidates = this.routes.filter((r) => r.pattern.test(url.pathname));
      if (candidates.length === 0) throw notFound(`no route for ${url.pathname}`);
      const route = candidates.find((r) => r.method === req.method);
      if (!route) throw new ApiError(405, `method ${req.method} not allowed on ${url.pathname}`);
      if (!route.public) this.authenticate(req);
      // Path params arrive fully percent-encoded (template ids such as team%2Fname%3Atag).
      const params = url.pathname.match(route.pattern)!.slice(1).map((p) => decodeURIComponent(p));
      await route.handler.call(this, req, res, params, url);
    } catch (err) {
      sendError(res, err);
    }
  }

  private authenticate(req: IncomingMessage): void {
    const given = req.headers['x-api-key'];
    if (typeof given !== 'string' || given.length === 0) throw new ApiError(401, 'missing API key: send it in the X-API-KEY header');
    const a = Buffer.from(given);
    const b = Buffer.from(this.apiKey);
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw new ApiError(401, 'invalid API key');
  }

  private async health(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    sendJson(res, 200, { status: 'ok' });
  }

  private async create(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readJsonBody(req)) as CreateRequest;
    const record = await this.sandboxes.create(body);
    sendJson(res, 201, sandboxView(record, this.domain));
  }

  private async listV1(_req: IncomingMessage, res: ServerResponse, _p: string[], url: URL): Promise<void> {
    const filter = parseMetadataFilter(url.searchParams.get('metadata'));
    const running = this.sandboxes.list().filter((s) => s.state === 'running' && filter.every(([k, v]) => s.metadata[k] === v));
    sendJson(res, 200, running.map(listedSandboxView));
  }

  private async listV2(_req: IncomingMessage, res: ServerResponse, _p: string[], url: URL): Promise<void> {
    const all = this.sandboxes.list();
    const { page, nextToken } = selectPage(all, parseListQuery(url.searchParams));
    const headers: Record<string, string> = { 'x-total-running': String(all.filter((s) => s.state === 'running').length) };
    if (nextToken) headers['x-next-token'] = nextToken;
    sendJson(res, 200, page.map(listedSandboxView), headers);
  }

  private async getOne(_req: IncomingMessage, res: ServerResponse, [id]: string[]): Promise<void> {
    sendJson(res, 200, sandboxDetailView(this.sandboxes.require(id), this.domain));
  }

  private async kill(_req: IncomingMessage, res: ServerResponse, [id]: string[]): Promise<void> {
    if (!(await this.sandboxes.kill(id))) throw notFound(`sandbox "${id}" not found`);
    sendEmpty(res, 204);
  }

  private async setTimeout(req: IncomingMessage, res: ServerResponse, [id]: string[]): Promise<void> {
    const body = await readJsonBody(req);
    this.sandboxes.setTimeout(id, body.timeout);
    sendEmpty(res, 204);
  }

  private async refresh(req: IncomingMessage, res: ServerResponse, [id]: string[]): Promise<void> {
    const body = await readJsonBody(req);
    this.sandboxes.connect(id, body.duration ?? 60);
    sendEmpty(res, 204);
  }

  private async connect(req: IncomingMessage, res: ServerResponse, [id]: string[]): Promise<void> {
    const body = await readJsonBody(req);
    const record = this.sandboxes.connect(id, body.timeout);
    sendJson(res, 200, sandboxView(record, this.domain));
  }

  private async listTemplates(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    sendJson(res, 200, this.templates.list());
  }
}
