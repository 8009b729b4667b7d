// The control-plane REST API (protocol §1), as the official SDKs call it.
import { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { invalidInput, unauthenticated, notFound } from '../errors';
import { HttpError } from './http-errors';
import { SandboxManager } from '../sandbox/manager';
import { TemplateCatalog } from '../template-catalog';
import { readJsonBody, sendEmpty, sendError, sendJson } from './http-util';
import { parseListQuery, parseMetadataFilter, selectPage } from './list-query';
import { parseNetworkUpdate } from './network-input';
import { parseCreateSettings, parseMemory, parseOptionalTimeout, parseTimeout, templateNameOf } from './sandbox-input';
import { sandboxLogRoutes } from './log-routes';
import { webhookRoutes } from './webhook-routes';
import { WebhookStore } from '../webhooks/store';
import { listedSandboxView, sandboxDetailView, sandboxView } from './sandbox-views';
import { templateBuildRoutes } from './template-build-routes';
import { volumeRoutes } from './volume-routes';
import { VolumeStore } from '../volumes/store';
import { snapshotRoutes } from './snapshot-routes';
import { SandboxSnapshots } from '../sandbox/snapshot-service';

/** The optional parts of the API: each brings its routes when the runtime has it. */
export interface ApiExtras {
  webhooks?: WebhookStore;
  volumes?: VolumeStore;
  snapshots?: SandboxSnapshots;
}

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void>;

/** `when`: the route answers only the requests it recognises; others go on to the next route. */
interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
  public?: boolean;
  when?: (params: string[]) => boolean;
}

export class ControlPlaneApi {
  private readonly routes: Route[];
  /** The volumes a create request's volumeMounts may name. */
  private readonly volumes?: VolumeStore;

  constructor(
    private readonly sandboxes: SandboxManager,
    private readonly templates: TemplateCatalog,
    private readonly apiKey: string,
    private readonly domain: string,
    extras: ApiExtras = {},
  ) {
    const { webhooks, volumes, snapshots } = extras;
    this.volumes = volumes;
    const id = '([^/]+)';
    this.routes = [
      { method: 'GET', pattern: /^\/health$/, handler: this.health, public: true },
      // Before /sandboxes/{id}, which would match it too.
      { method: 'GET', pattern: /^\/sandboxes\/metrics$/, handler: this.batchMetrics },
      // SDKs up to 2.45 use the v1 paths for create and connect, later ones v2; both stay served.
      { method: 'POST', pattern: /^\/(?:v2\/)?sandboxes$/, handler: this.create },
      { method: 'GET', pattern: /^\/sandboxes$/, handler: this.listV1 },
      { method: 'GET', pattern: /^\/v2\/sandboxes$/, handler: this.listV2 },
      { method: 'GET', pattern: new RegExp(`^/sandboxes/${id}$`), handler: this.getOne },
      { method: 'DELETE', pattern: new RegExp(`^/sandboxes/${id}$`), handler: this.kill },
      { method: 'POST', pattern: new RegExp(`^/sandboxes/${id}/timeout$`), handler: this.setTimeout },
      { method: 'POST', pattern: new RegExp(`^/sandboxes/${id}/refreshes$`), handler: this.refresh },
      { method: 'POST', pattern: new RegExp(`^/(?:v2/)?sandboxes/${id}/connect$`), handler: this.connect },
      { method: 'POST', pattern: new RegExp(`^/sandboxes/${id}/pause$`), handler: this.pause },
      { method: 'POST', pattern: new RegExp(`^/sandboxes/${id}/resume$`), handler: this.resume },
      { method: 'GET', pattern: new RegExp(`^/sandboxes/${id}/metrics$`), handler: this.metrics },
      { method: 'PUT', pattern: new RegExp(`^/sandboxes/${id}/network$`), handler: this.updateNetwork },
      ...sandboxLogRoutes(sandboxes),
      { method: 'GET', pattern: /^\/events\/sandboxes$/, handler: this.events },
      { method: 'GET', pattern: new RegExp(`^/events/sandboxes/${id}$`), handler: this.events },
      ...(webhooks ? webhookRoutes(webhooks) : []),
      { method: 'GET', pattern: /^\/templates$/, handler: this.listTemplates },
      // Before the template routes: DELETE /templates/{id} deletes snapshots too.
      ...(snapshots ? snapshotRoutes(snapshots, domain) : []),
      ...(templates.builds ? templateBuildRoutes(templates.builds, (name) => templates.isImage(name)) : []),
      ...(volumes ? volumeRoutes(volumes, (volumeID) => sandboxes.volumeUsers(volumeID)) : []),
    ];
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const candidates = this.routes.filter((r) => r.pattern.test(url.pathname));
      if (candidates.length === 0) throw notFound(`no route for ${url.pathname}`);
      const sameMethod = candidates.filter((r) => r.method === req.method);
      if (sameMethod.length === 0) throw new HttpError(405, `method ${req.method} not allowed on ${url.pathname}`);
      // A guarded route looks into the caller's data: only for an authenticated caller.
      if (sameMethod.some((r) => r.when && !r.public)) this.authenticate(req);
      // Path params arrive fully percent-encoded (template ids such as team%2Fname%3Atag).
      const paramsOf = (r: Route) => url.pathname.match(r.pattern)!.slice(1).map(decodePathParam);
      const route = sameMethod.find((r) => !r.when || r.when(paramsOf(r))) ?? sameMethod[sameMethod.length - 1];
      if (!route.public) this.authenticate(req);
      const params = paramsOf(route);
      await route.handler.call(this, req, res, params, url);
    } catch (err) {
      sendError(res, err);
    }
  }

  private authenticate(req: IncomingMessage): void {
    const given = req.headers['x-api-key'];
    if (typeof given !== 'string' || given.length === 0) throw unauthenticated('missing API key: send it in the X-API-KEY header');
    const a = Buffer.from(given);
    const b = Buffer.from(this.apiKey);
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw unauthenticated('invalid API key');
  }

  private async health(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    sendJson(res, 200, { status: 'ok' });
  }

  private async create(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonBody(req);
    // The template first: an unknown one is the caller's 404 whatever else the request says.
    const template = this.sandboxes.template(templateNameOf(body));
    const record = await this.sandboxes.create(template, parseCreateSettings(body, this.volumes));
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
    // An unknown sandbox is a 404 before its timeout is looked at.
    this.sandboxes.require(id);
    await this.sandboxes.setTimeout(id, parseTimeout(body.timeout));
    sendEmpty(res, 204);
  }

  private async refresh(req: IncomingMessage, res: ServerResponse, [id]: string[]): Promise<void> {
    const body = await readJsonBody(req);
    await this.sandboxes.connect(id, parseTimeout(body.duration ?? 60), false);
    sendEmpty(res, 204);
  }

  private async connect(req: IncomingMessage, res: ServerResponse, [id]: string[]): Promise<void> {
    const body = await readJsonBody(req);
    // Checked before anything happens: a bad timeout must not leave a paused sandbox thawed.
    const seconds = parseOptionalTimeout(body.timeout);
    const memory = parseMemory(body.memory);
    const { record, resumed } = await this.sandboxes.connect(id, seconds, memory === false);
    // 201 tells the SDK the sandbox was resumed, 200 that it was running.
    sendJson(res, resumed ? 201 : 200, sandboxView(record, this.domain));
  }

  private async pause(req: IncomingMessage, res: ServerResponse, [id]: string[]): Promise<void> {
    const body = await readJsonBody(req);
    await this.sandboxes.pause(id, parseMemory(body.memory) ?? true);
    sendEmpty(res, 204);
  }

  /** Legacy resume (SDKs before connect resumed): 201, or 409 when it is running. */
  private async resume(req: IncomingMessage, res: ServerResponse, [id]: string[]): Promise<void> {
    const body = await readJsonBody(req);
    const record = await this.sandboxes.resume(id, parseOptionalTimeout(body.timeout));
    sendJson(res, 201, sandboxView(record, this.domain));
  }

  private async metrics(_req: IncomingMessage, res: ServerResponse, [id]: string[], url: URL): Promise<void> {
    this.sandboxes.require(id);
    const start = url.searchParams.has('start') ? Number(url.searchParams.get('start')) : undefined;
    const end = url.searchParams.has('end') ? Number(url.searchParams.get('end')) : undefined;
    sendJson(res, 200, this.sandboxes.metrics.samples(id, start, end));
  }

  /** The latest sample of each sandbox asked for (`sandbox_ids=a,b`). */
  private async batchMetrics(_req: IncomingMessage, res: ServerResponse, _p: string[], url: URL): Promise<void> {
    const ids = (url.searchParams.get('sandbox_ids') ?? '').split(',').filter(Boolean);
    const sandboxes: Record<string, unknown> = {};
    for (const id of ids) {
      const latest = this.sandboxes.metrics.latest(id);
      if (latest) sandboxes[id] = latest;
    }
    sendJson(res, 200, { sandboxes });
  }

  /** PUT /sandboxes/{id}/network: the body is checked before the sandbox is looked up, as upstream. */
  private async updateNetwork(req: IncomingMessage, res: ServerResponse, [id]: string[]): Promise<void> {
    const update = parseNetworkUpdate(await readJsonBody(req));
    await this.sandboxes.updateNetwork(id, update);
    sendEmpty(res, 204);
  }

  /** E2B's lifecycle events API: newest first unless orderAsc, `types` repeatable. */
  private async events(_req: IncomingMessage, res: ServerResponse, [id]: string[], url: URL): Promise<void> {
    const q = url.searchParams;
    const limit = q.has('limit') ? Number(q.get('limit')) : 10;
    const offset = q.has('offset') ? Number(q.get('offset')) : 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalidInput('limit must be an integer from 1 to 100');
    if (!Number.isInteger(offset) || offset < 0) throw invalidInput('offset must be a non-negative integer');
    const types = q
      .getAll('types')
      .flatMap((t) => t.split(','))
      .filter(Boolean);
    sendJson(res, 200, this.sandboxes.events.query({ sandboxId: id, types, limit, offset, orderAsc: q.get('orderAsc') === 'true' }));
  }

  private async listTemplates(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    sendJson(res, 200, this.templates.list());
  }
}

/** A path segment as the SDK sent it, percent-decoded; broken encoding (`%ff`) is the caller's error. */
function decodePathParam(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalidInput(`invalid percent-encoding in the path: "${segment}"`);
  }
}
