// The template build API's routes (protocol §1.3), added to the control-plane API's table.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { invalidInput, forbidden, notFound, conflict } from '../errors';
import { HttpError } from './http-errors';
import { readJsonBody, sendEmpty, sendJson } from './http-util';
import { BuildRequest, TemplateBuilds } from '../template-builds/build';
import { templateNameOf } from '../template-builds/store';
import { templateTagRoutes } from './template-tag-routes';

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void>;
export interface TemplateRoute {
  method: string;
  pattern: RegExp;
  handler: Handler;
  public?: boolean;
}

const HASH = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_UPLOAD_BYTES = 4 * 1024 * 1024 * 1024;

export function templateBuildRoutes(builds: TemplateBuilds, isImage: (name: string) => boolean): TemplateRoute[] {
  const id = '([^/]+)';
  // Upload URLs carry a MAC of the hash instead of the API key, like a presigned URL.
  const secret = randomBytes(32);
  const mac = (hash: string) => createHmac('sha256', secret).update(hash).digest('hex');

  return [
    // Before DELETE /templates/{id}, which /templates/tags would match too.
    ...templateTagRoutes(builds),
    {
      method: 'POST',
      pattern: /^\/v3\/templates$/,
      handler: async (req, res) => {
        const build = builds.request(await readJsonBody(req));
        sendJson(res, 202, {
          templateID: build.templateID,
          buildID: build.buildID,
          public: false,
          names: [build.templateID],
          tags: build.tags,
          aliases: [build.templateID],
        });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/templates/${id}/files/${id}$`),
      handler: async (req, res, [, hash]) => {
        if (!HASH.test(hash)) throw invalidInput('invalid files hash');
        const present = existsSync(builds.store.fileArchive(hash));
        const host = req.headers.host ?? 'localhost';
        sendJson(res, 201, present ? { present } : { present, url: `http://${host}/template-files/${hash}?token=${mac(hash)}` });
      },
    },
    {
      method: 'PUT',
      pattern: /^\/template-files\/([^/]+)$/,
      public: true,
      handler: async (req, res, [hash], url) => {
        const token = Buffer.from(url.searchParams.get('token') ?? '');
        const expected = HASH.test(hash) ? Buffer.from(mac(hash)) : Buffer.alloc(0);
        if (expected.length === 0 || token.length !== expected.length || !timingSafeEqual(token, expected))
          throw forbidden('invalid upload token');
        const length = Number(req.headers['content-length']);
        if (!Number.isInteger(length) || length < 0) throw new HttpError(411, 'Content-Length is required');
        if (length > MAX_UPLOAD_BYTES) throw new HttpError(413, 'archive too large');
        mkdirSync(builds.store.filesDir, { recursive: true });
        const target = builds.store.fileArchive(hash);
        const tmp = `${target}.upload-${randomBytes(4).toString('hex')}`;
        let received = 0;
        req.on('data', (c: Buffer) => {
          received += c.length;
        });
        try {
          await pipeline(req, createWriteStream(tmp));
          if (received !== length) throw invalidInput(`received ${received} bytes, Content-Length said ${length}`);
          renameSync(tmp, target);
        } catch (err) {
          rmSync(tmp, { force: true });
          throw err;
        }
        sendEmpty(res, 200);
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v2/templates/${id}/builds/${id}$`),
      handler: async (req, res, [templateID, buildID]) => {
        builds.start(templateID, buildID, (await readJsonBody(req)) as BuildRequest);
        res.writeHead(202, { 'content-type': 'application/json', 'content-length': 0 });
        res.end();
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/templates/${id}/builds/${id}/status$`),
      handler: async (_req, res, [templateID, buildID], url) => {
        const offset = Number(url.searchParams.get('logsOffset') ?? 0);
        sendJson(res, 200, builds.status(templateID, buildID, Number.isInteger(offset) && offset > 0 ? offset : 0));
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/templates/aliases/${id}$`),
      handler: async (_req, res, [alias]) => {
        const name = templateNameOf(alias);
        if (!builds.store.get(name) && !isImage(name)) throw notFound(`template alias '${alias}' not found`);
        sendJson(res, 200, { templateID: name, public: false });
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/templates/${id}$`),
      handler: async (_req, res, [templateID]) => {
        const name = templateNameOf(templateID);
        if (isImage(name)) throw invalidInput(`'${name}' is a built-in image of this runtime and cannot be deleted`);
        if (builds.building(name)) throw conflict(`template '${name}' is being built`);
        if (!builds.store.delete(name)) throw notFound(`template '${templateID}' not found`);
        sendEmpty(res, 204);
      },
    },
  ];
}
