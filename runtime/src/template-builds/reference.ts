// Template references as E2B reads them: "[team/]name[:tag]", normalized (trimmed, lowercase),
// where ":default" means no tag, and tag lists for builds and assignments. The messages are
// E2B's (its id package), so SDK users see the same errors here as in the cloud.

export const DEFAULT_TAG = 'default';

const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
const NAMESPACE_PATTERN = /^[a-z0-9_-]+$/;
const TAG_PATTERN = /^[a-z0-9_.-]+$/;
const UUID_PATTERN = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/;

export interface TemplateRef {
  /** The template's name, without team or tag. */
  name: string;
  /** The tag asked for; undefined for none (or ":default"), which means the `default` tag. */
  tag?: string;
}

/** A reference or tag that does not parse; `message` is E2B's, without the caller's prefix. */
export class ReferenceSyntaxError extends Error {}

function clean(value: string, what: string, pattern: RegExp): string {
  const cleaned = value.trim().toLowerCase();
  if (!pattern.test(cleaned) || cleaned.length > 128) throw new ReferenceSyntaxError(`invalid ${what}: ${value}`);
  return cleaned;
}

/** Parses "[team/]name[:tag]"; throws ReferenceSyntaxError. One team here: the team part is dropped. */
export function parseTemplateRef(input: string): TemplateRef {
  const text = input.trim();
  const colon = text.indexOf(':');
  const identifier = colon < 0 ? text : text.slice(0, colon);
  let tag: string | undefined;
  if (colon >= 0) {
    const cleaned = clean(text.slice(colon + 1), 'tag', TAG_PATTERN);
    if (cleaned !== DEFAULT_TAG) tag = cleaned;
  }
  const slash = identifier.indexOf('/');
  if (slash >= 0) clean(identifier.slice(0, slash), 'namespace', NAMESPACE_PATTERN);
  const name = clean(slash >= 0 ? identifier.slice(slash + 1) : identifier, 'template ID', NAME_PATTERN);
  return { name, tag };
}

/** The name part of a reference, or undefined when it does not parse. */
export function templateNameOrUndefined(input: string): string | undefined {
  try {
    return parseTemplateRef(input).name;
  } catch {
    return undefined;
  }
}

export function isBuildIdLike(tag: string): boolean {
  return UUID_PATTERN.test(tag);
}

/** Normalizes and dedupes tags (order kept); throws ReferenceSyntaxError on the first bad one. */
export function validateTags(tags: unknown[]): string[] {
  const out: string[] = [];
  for (const raw of tags) {
    const tag = String(raw);
    let cleaned: string;
    try {
      cleaned = clean(tag, 'tag', TAG_PATTERN);
    } catch (err) {
      throw new ReferenceSyntaxError(`invalid tag '${tag}': ${(err as Error).message}`);
    }
    // A tag that looks like a build ID would shadow that build in "name:<buildID>" references.
    if (isBuildIdLike(cleaned)) throw new ReferenceSyntaxError(`invalid tag '${tag}': tag cannot be a UUID`);
    if (!out.includes(cleaned)) out.push(cleaned);
  }
  return out;
}
