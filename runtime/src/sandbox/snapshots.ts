// Snapshots of sandboxes' files, stored as templates (protocol §1.2: createSnapshot,
// listSnapshots, deleteSnapshot, Sandbox.create(<snapshot>), fork). A snapshot is a copy of a
// sandbox's writable overlay layer; a sandbox started from it mounts that copy as the topmost
// lower layer over the layers its source booted from, so starting one copies nothing.
//   <dataDir>/snapshots/templates/<templateID>.json   a snapshot template: its name, tag → build
//   <dataDir>/snapshots/layers/<buildID>/             one build's files (an overlay upper dir)
// A layer outlives its snapshot while any sandbox (boot.json) or other snapshot stacks on it.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { removeTree } from '../container/bundle';
import { runHostCommand, whyFailed } from '../host-command';
import { RuntimePaths } from '../paths';
import { lowerDirsOf, readBootTemplate } from './boot-template';
import { invalidInput } from '../errors';
import { newSandboxId } from './ids';
import type { ResolvedTemplate, TemplateSource } from './template-source';

export const DEFAULT_TAG = 'default';
const IDENTIFIER = /^[a-z0-9_-]+$/;
const TAG = /^[a-z0-9_.-]+$/;
const PAGE_LIMIT = 100;

/** One captured layer and what it sits on. */
export interface SnapshotBuild {
  buildID: string;
  createdAt: string;
  /** The sandbox it was taken from. */
  sandboxID: string;
  /** What that sandbox had booted from (its lower layers, start command, defaults). */
  base: ResolvedTemplate;
}

export interface SnapshotTemplate {
  templateID: string;
  name?: string;
  createdAt: string;
  /** 'fork': the moment a fork starts from; never listed, removed once the forks are up. */
  kind: 'snapshot' | 'fork';
  tags: Record<string, SnapshotBuild>;
}

/** `SnapshotInfo` as the API answers it. */
export interface SnapshotInfo {
  snapshotID: string;
  names: string[];
}

export interface SnapshotReference {
  identifier: string;
  tag?: string;
}

/** E2B's name syntax: `[namespace/]alias[:tag]`, lowercased; the namespace is not ours to check. */
export function parseSnapshotName(input: string): SnapshotReference {
  const trimmed = input.trim();
  const colon = trimmed.indexOf(':');
  const identifierPart = colon === -1 ? trimmed : trimmed.slice(0, colon);
  const tagPart =
    colon === -1
      ? undefined
      : trimmed
          .slice(colon + 1)
          .trim()
          .toLowerCase();
  const slash = identifierPart.indexOf('/');
  const identifier = (slash === -1 ? identifierPart : identifierPart.slice(slash + 1)).trim().toLowerCase();
  if (tagPart !== undefined && !TAG.test(tagPart)) throw invalidInput(`Invalid name: invalid tag: ${input.slice(colon + 1)}`);
  if (!IDENTIFIER.test(identifier))
    throw invalidInput(`Invalid name: invalid template ID: ${identifierPart} (use lowercase letters, digits, '-' and '_')`);
  return { identifier, tag: tagPart };
}

export class SnapshotStore implements TemplateSource {
  constructor(private readonly paths: RuntimePaths) {}

  get dir(): string {
    return join(this.paths.dataDir, 'snapshots');
  }
  private get templatesDir(): string {
    return join(this.dir, 'templates');
  }
  private get layersDir(): string {
    return join(this.dir, 'layers');
  }
  layerDir(buildID: string): string {
    return join(this.layersDir, buildID);
  }

  /** A snapshot id or name (`id`, `id:tag`, `name`, `team/name:tag`) → what a sandbox boots from. */
  resolve(ref: string): ResolvedTemplate | undefined {
    let parsed: SnapshotReference;
    try {
      parsed = parseSnapshotName(ref);
    } catch {
      return undefined;
    }
    const template = this.find(parsed.identifier);
    const build = template?.tags[parsed.tag ?? DEFAULT_TAG];
    if (!template || !build) return undefined;
    const { base } = build;
    // A fork is its source's template under a new id; a snapshot is a template of its own.
    const own = template.kind === 'snapshot';
    return {
      ...base,
      templateID: own ? template.templateID : base.templateID,
      alias: own ? template.name : base.alias,
      rootfs: [this.layerDir(build.buildID), ...lowerDirsOf(base.rootfs)].join(':'),
      fromSnapshot: true,
    };
  }

  /** By template id or by name. */
  find(identifier: string): SnapshotTemplate | undefined {
    const byId = this.read(identifier);
    if (byId) return byId;
    return this.all().find((t) => t.name === identifier);
  }

  /**
   * Copies a sandbox's upper dir into a new layer. The caller keeps the sandbox frozen meanwhile,
   * so nothing in the tree moves under the copy: `cp -a` copies symlinks as links (never following
   * them), and keeps owners, modes, times, overlay whiteouts and opaque-dir xattrs.
   */
  async copyLayer(upperDir: string): Promise<string> {
    mkdirSync(this.layersDir, { recursive: true });
    // Only root on the host walks the snapshots (they hold sandboxes' setuid files, for one).
    chmodSync(this.dir, 0o700);
    const buildID = randomUUID();
    const target = this.layerDir(buildID);
    const partial = `${target}.partial`;
    this.uncommitted.add(buildID);
    try {
      await run('cp', ['-a', '--no-target-directory', '--', upperDir, partial]);
      renameSync(partial, target);
    } catch (err) {
      this.uncommitted.delete(buildID);
      await removeTree(partial).catch(() => undefined);
      throw err;
    }
    return buildID;
  }

  /** Drops a copied layer that will not be committed. */
  async discard(buildID: string): Promise<void> {
    this.uncommitted.delete(buildID);
    await removeTree(this.layerDir(buildID));
  }

  /**
   * Records a copied layer as a snapshot: under `name` (a new build of that snapshot when the name
   * exists: its tag now points here) or under a new id.
   */
  commit(
    buildID: string,
    source: { sandboxID: string; base: ResolvedTemplate },
    kind: SnapshotTemplate['kind'],
    name?: SnapshotReference,
  ): { template: SnapshotTemplate; tag: string } {
    const now = new Date().toISOString();
    const existing = name ? this.all().find((t) => t.name === name.identifier && t.kind === 'snapshot') : undefined;
    const template: SnapshotTemplate = existing ?? { templateID: newSandboxId(), name: name?.identifier, createdAt: now, kind, tags: {} };
    const tag = name?.tag ?? DEFAULT_TAG;
    template.tags[tag] = { buildID, createdAt: now, sandboxID: source.sandboxID, base: source.base };
    this.write(template);
    this.uncommitted.delete(buildID);
    return { template, tag };
  }

  info(template: SnapshotTemplate, tag: string): SnapshotInfo {
    return { snapshotID: `${template.name ?? template.templateID}:${tag}`, names: template.name ? [template.name] : [] };
  }

  /**
   * Snapshots, newest first (by when the snapshot was first taken), each with its newest build
   * (or the one with the tag the name filter asks for). `sandboxID` keeps those taken from it.
   */
  list(query: { sandboxID?: string; name?: string; limit?: string | null; nextToken?: string | null }): {
    page: SnapshotInfo[];
    nextToken?: string;
  } {
    const limit = query.limit === undefined || query.limit === null || query.limit === '' ? PAGE_LIMIT : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1) throw invalidInput('limit must be a positive integer');
    const filter = query.name ? parseSnapshotName(query.name) : undefined;
    const rows = this.all()
      .filter((t) => t.kind === 'snapshot')
      .filter((t) => !filter || t.templateID === filter.identifier || t.name === filter.identifier)
      .flatMap((t) => {
        const tag = filter?.tag ?? newestTag(t);
        const build = t.tags[tag];
        if (!build || (query.sandboxID && build.sandboxID !== query.sandboxID)) return [];
        return [{ template: t, tag }];
      })
      .sort(
        (a, b) => b.template.createdAt.localeCompare(a.template.createdAt) || b.template.templateID.localeCompare(a.template.templateID),
      );
    let start = 0;
    if (query.nextToken) {
      const [createdAt, templateID] = Buffer.from(query.nextToken, 'base64url').toString().split('__');
      if (!createdAt || !templateID || Number.isNaN(Date.parse(createdAt))) throw invalidInput('Invalid next token');
      start = rows.findIndex(
        (r) => r.template.createdAt < createdAt || (r.template.createdAt === createdAt && r.template.templateID < templateID),
      );
      if (start === -1) start = rows.length;
    }
    const page = rows.slice(start, start + Math.min(limit, PAGE_LIMIT));
    const last = page[page.length - 1];
    const more = start + page.length < rows.length;
    return {
      page: page.map((r) => this.info(r.template, r.tag)),
      nextToken: more && last ? Buffer.from(`${last.template.createdAt}__${last.template.templateID}`).toString('base64url') : undefined,
    };
  }

  /** Forgets a snapshot (every tag); its layers go once nothing stacks on them. */
  async delete(ref: string): Promise<boolean> {
    const template = this.find(parseSnapshotName(ref).identifier);
    if (!template) return false;
    rmSync(this.templateFile(template.templateID), { force: true });
    await this.collectGarbage();
    return true;
  }

  /** Removes fork moments a crashed runtime left, then every layer nothing uses. */
  async recover(): Promise<void> {
    for (const t of this.all().filter((t) => t.kind === 'fork')) rmSync(this.templateFile(t.templateID), { force: true });
    await this.collectGarbage();
  }

  /**
   * Removes layers no snapshot and no sandbox stacks on, and half-copied ones. A sandbox keeps its
   * boot.json until its directory is removed, so a layer is never pulled from under a mount.
   */
  async collectGarbage(): Promise<void> {
    if (!existsSync(this.layersDir)) return;
    const inUse = new Set<string>();
    const use = (rootfs: string) => lowerDirsOf(rootfs).forEach((d) => inUse.add(d));
    for (const t of this.all()) for (const build of Object.values(t.tags)) use(`${this.layerDir(build.buildID)}:${build.base.rootfs}`);
    for (const id of safeReaddir(this.paths.sandboxesDir)) {
      const boot = readBootTemplate(this.paths.sandboxDir(id));
      if (boot) use(boot.rootfs);
    }
    for (const entry of safeReaddir(this.layersDir)) {
      // Being copied, or copied and not yet recorded: not garbage. A dead runtime's .partial is.
      if (this.uncommitted.has(entry.replace(/\.partial$/, ''))) continue;
      const dir = join(this.layersDir, entry);
      // A layer no live snapshot names can never be resolved again, so no new sandbox can take it.
      if (!inUse.has(dir)) await removeTree(dir);
    }
  }

  /** Layers copied by this process and not yet committed (or discarded). */
  private readonly uncommitted = new Set<string>();

  private all(): SnapshotTemplate[] {
    return safeReaddir(this.templatesDir)
      .filter((f) => f.endsWith('.json'))
      .flatMap((f) => {
        const t = this.read(f.slice(0, -'.json'.length));
        return t ? [t] : [];
      });
  }

  private read(templateID: string): SnapshotTemplate | undefined {
    if (!IDENTIFIER.test(templateID)) return undefined;
    try {
      return JSON.parse(readFileSync(this.templateFile(templateID), 'utf8')) as SnapshotTemplate;
    } catch {
      return undefined;
    }
  }

  private write(template: SnapshotTemplate): void {
    mkdirSync(this.templatesDir, { recursive: true });
    const file = this.templateFile(template.templateID);
    writeFileSync(`${file}.tmp`, JSON.stringify(template, null, 2));
    renameSync(`${file}.tmp`, file);
  }

  private templateFile(templateID: string): string {
    return join(this.templatesDir, `${templateID}.json`);
  }
}

function newestTag(t: SnapshotTemplate): string {
  return Object.entries(t.tags).sort(([, a], [, b]) => b.createdAt.localeCompare(a.createdAt))[0]?.[0] ?? DEFAULT_TAG;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** A failed copy can complain about every file: its first three lines say enough. */
async function run(command: string, args: string[]): Promise<void> {
  try {
    await runHostCommand(command, args);
  } catch (err) {
    throw new Error(`${command}: ${whyFailed(err).split('\n').slice(0, 3).join('; ')}`, { cause: err });
  }
}
