// The template tag routes (protocol §1.3): assign tags to the build a "name:tag" points at, remove
// tags, list a template's tags. Validation order, status codes and messages follow E2B's API, so
// the SDK raises the same TemplateError text here as in the cloud.
import { invalidInput, forbidden, notFound } from '../errors';
import { readJsonBody, sendEmpty, sendJson } from './http-util';
import type { TemplateBuilds } from '../template-builds/build';
import { DEFAULT_TAG, parseTemplateRef, TemplateRef, validateTags } from '../template-builds/reference';
import type { TemplateRoute } from './template-build-routes';
import { StoredTemplate } from '../template-builds/store';

export function templateTagRoutes(builds: TemplateBuilds): TemplateRoute[] {
  const store = builds.store;

  function parseRef(input: unknown, prefix: string): TemplateRef {
    try {
      return parseTemplateRef(typeof input === 'string' ? input : '');
    } catch (err) {
      throw invalidInput(`${prefix}: ${(err as Error).message}`);
    }
  }

  function parseTags(input: unknown): string[] {
    if (!Array.isArray(input)) throw invalidInput('Invalid request body: tags must be an array of strings');
    try {
      return validateTags(input);
    } catch (err) {
      throw invalidInput(`Invalid tag: ${(err as Error).message}`);
    }
  }

  /** The stored template of a name; built-in images are someone else's (E2B's public templates). */
  function ownTemplate(name: string): StoredTemplate {
    const template = store.get(name);
    if (template) return template;
    if (builds.imageBuild(name))
      throw forbidden(
        `'${name}' is a built-in image of this runtime: its tags cannot change (build your own template from it to tag that)`,
      );
    throw notFound(`template '${name}' not found`);
  }

  return [
    {
      method: 'POST',
      pattern: /^\/templates\/tags$/,
      handler: async (req, res) => {
        const body = await readJsonBody(req);
        if (body.tags === undefined || (Array.isArray(body.tags) && body.tags.length === 0))
          throw invalidInput('At least one tag is required');
        const target = parseRef(body.target, 'Invalid target template format');
        const template = ownTemplate(target.name);
        const targetTag = target.tag ?? DEFAULT_TAG;
        const chosen = store.choose(template, target.tag);
        if (!chosen) throw notFound(`Template '${String(body.target)}' with tag '${targetTag}' not found`);
        const tags = parseTags(body.tags);
        store.assignTags(template, chosen.build.buildID, tags);
        sendJson(res, 201, { tags, buildID: chosen.build.buildID });
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/templates\/tags$/,
      handler: async (req, res) => {
        const body = await readJsonBody(req);
        const tags = parseTags(body.tags ?? []);
        if (tags.length === 0) throw invalidInput('At least one tag is required');
        // Every template keeps its `default` tag: it is what "name" alone means.
        if (tags.includes(DEFAULT_TAG)) throw invalidInput(`Cannot delete the '${DEFAULT_TAG}' tag`);
        const ref = parseRef(body.name, 'Invalid template name format');
        if (ref.tag) throw invalidInput("Template name should not contain a tag, use the 'tags' field instead");
        store.removeTags(ownTemplate(ref.name), tags);
        sendEmpty(res, 204);
      },
    },
    {
      method: 'GET',
      pattern: /^\/templates\/([^/]+)\/tags$/,
      handler: async (_req, res, [templateID]) => {
        const { name } = parseRef(templateID, 'Invalid template reference');
        const template = store.get(name);
        if (template) {
          sendJson(
            res,
            200,
            store
              .tagsOf(template)
              .list()
              .map((a) => ({ tag: a.tag, buildID: a.buildID, createdAt: a.createdAt })),
          );
          return;
        }
        const image = builds.imageBuild(name);
        if (!image) throw notFound(`template '${name}' not found`);
        sendJson(res, 200, [{ tag: DEFAULT_TAG, buildID: image.buildID, createdAt: image.createdAt }]);
      },
    },
  ];
}
