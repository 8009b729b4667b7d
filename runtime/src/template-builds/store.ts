// Templates built through the template build API (protocol §1.3). A template is a name with its
// finished builds and the tags that point at them; each build is a stack of layers, the overlay
// upper dirs of its build steps, over a local image's rootfs:
//   <dataDir>/templates/<name>.json   the template: its builds and tag assignments
//   <dataDir>/layers/<key>            one step's layer, cached by a hash of its parents and step
//   <dataDir>/template-files/<hash>   the archives the SDK uploads for COPY steps
// Layers are never removed here: a build that lost its tags may still back running sandboxes
// (and later builds reuse its layers through the cache).
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SandboxLimits } from '../container/oci-spec';
import { SandboxStart } from '../image/recipes';
import { RuntimePaths } from '../paths';
import { DEFAULT_TAG, isBuildIdLike, parseTemplateRef, templateNameOrUndefined } from './reference';
import { TagAssignment, TemplateTags } from './tags';

export const TEMPLATE_DISK_SIZE_MB = 10240;
const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

/** One finished build: what a sandbox of it runs on. */
export interface TemplateBuildRecord {
  buildID: string;
  createdAt: string;
  cpuCount: number;
  memoryMB: number;
  /** Layer keys, topmost first. */
  layers: string[];
  /** The image rootfs under the layers. */
  baseRootfs: string;
  envs: Record<string, string>;
  user: string;
  workdir?: string;
  start?: SandboxStart;
}

export interface StoredTemplate {
  templateID: string;
  createdAt: string;
  updatedAt: string;
  buildCount: number;
  builds: Record<string, TemplateBuildRecord>;
  /** Every tag assignment, oldest first: a tag points at the build of its latest one. */
  assignments: TagAssignment[];
}

/** A template and the build a reference to it chose. */
export interface ChosenBuild {
  template: StoredTemplate;
  build: TemplateBuildRecord;
  tag: string;
}

/** What a sandbox of a built template needs (ResolvedTemplate plus env vars, user and workdir). */
export interface BuiltResolution {
  templateID: string;
  alias: string;
  rootfs: string;
  limits: SandboxLimits;
  diskSizeMB: number;
  start?: SandboxStart;
  envVars: Record<string, string>;
  defaultUser: string;
  defaultWorkdir?: string;
}

/** "team/name:tag" → "name" (one team); a reference that does not parse is returned as it is. */
export function templateNameOf(idOrAlias: string): string {
  return templateNameOrUndefined(idOrAlias) ?? idOrAlias;
}

export function isValidTemplateName(name: string): boolean {
  return NAME_PATTERN.test(name) && name.length <= 128;
}

export class TemplateStore {
  constructor(private readonly paths: RuntimePaths) {}

  get templatesDir(): string {
    return join(this.paths.dataDir, 'templates');
  }
  get layersDir(): string {
    return join(this.paths.dataDir, 'layers');
  }
  get filesDir(): string {
    return join(this.paths.dataDir, 'template-files');
  }

  layerDir(key: string): string {
    return join(this.layersDir, key);
  }
  fileArchive(hash: string): string {
    return join(this.filesDir, hash);
  }

  /** The overlay lower dirs of a build, topmost first. */
  rootfsOf(t: Pick<TemplateBuildRecord, 'layers' | 'baseRootfs'>): string {
    return [...t.layers.map((k) => this.layerDir(k)), t.baseRootfs].join(':');
  }

  /** The template of a name (a reference's tag is ignored). */
  get(idOrAlias: string): StoredTemplate | undefined {
    const name = templateNameOrUndefined(idOrAlias);
    if (!name || !isValidTemplateName(name)) return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.fileOf(name), 'utf8'));
    } catch {
      return undefined;
    }
    return upgradeStoredTemplate(raw);
  }

  /** The tags of a template, as `GET /templates/{id}/tags` lists them. */
  tagsOf(template: StoredTemplate): TemplateTags {
    return new TemplateTags(template.assignments);
  }

  /**
   * The build a parsed reference names: its tag's (`default` without one), or a build ID in the
   * tag's place as E2B allows. undefined when the template has no such tag.
   */
  choose(template: StoredTemplate, tag: string | undefined): ChosenBuild | undefined {
    const wanted = tag ?? DEFAULT_TAG;
    const buildID =
      this.tagsOf(template).buildOf(wanted) ??
      (isBuildIdLike(wanted) && template.assignments.some((a) => a.buildID === wanted) ? wanted : undefined);
    const build = buildID ? template.builds[buildID] : undefined;
    return build ? { template, build, tag: wanted } : undefined;
  }

  /** Records a finished build and points `tags` at it (tags elsewhere stay where they are). */
  addBuild(name: string, build: TemplateBuildRecord, tags: string[]): StoredTemplate {
    const now = new Date().toISOString();
    const template = this.get(name) ?? { templateID: name, createdAt: now, updatedAt: now, buildCount: 0, builds: {}, assignments: [] };
    template.builds[build.buildID] = build;
    template.buildCount += 1;
    template.updatedAt = now;
    for (const tag of tags) template.assignments.push({ tag, buildID: build.buildID, createdAt: now });
    this.save(template);
    return template;
  }

  /** Points `tags` at a build of the template. */
  assignTags(template: StoredTemplate, buildID: string, tags: string[]): void {
    const now = new Date().toISOString();
    for (const tag of tags) template.assignments.push({ tag, buildID, createdAt: now });
    this.save(template);
  }

  /**
   * Removes the tags (all their assignments). The builds stay recorded (a build no tag reaches
   * cannot be started again, but its sandboxes keep running on its layers).
   */
  removeTags(template: StoredTemplate, tags: string[]): void {
    template.assignments = template.assignments.filter((a) => !tags.includes(a.tag));
    this.save(template);
  }

  /** Forgets the template; its layers stay cached (sandboxes may still have them mounted). */
  delete(idOrAlias: string): boolean {
    const template = this.get(idOrAlias);
    if (!template) return false;
    rmSync(this.fileOf(template.templateID), { force: true });
    return true;
  }

  all(): StoredTemplate[] {
    let files: string[];
    try {
      files = readdirSync(this.templatesDir).filter((f) => f.endsWith('.json'));
    } catch {
      return [];
    }
    return files.flatMap((f) => {
      const t = this.get(f.slice(0, -'.json'.length));
      return t ? [t] : [];
    });
  }

  /** The build GET /templates shows: the default tag's, else the newest. */
  shownBuild(template: StoredTemplate): TemplateBuildRecord | undefined {
    return (
      this.choose(template, undefined)?.build ?? Object.values(template.builds).sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0]
    );
  }

  /**
   * A sandbox's view of `ref` ("name", "name:tag", "name:<buildID>"): undefined when no such
   * template; throws ReferenceSyntaxError, or TagNotFoundError when the template lacks the tag.
   */
  resolve(ref: string): BuiltResolution | undefined {
    const { name, tag } = parseTemplateRef(ref);
    const template = this.get(name);
    if (!template) return undefined;
    const chosen = this.choose(template, tag);
    if (!chosen) throw new TagNotFoundError(name, tag ?? DEFAULT_TAG);
    const b = chosen.build;
    return {
      templateID: template.templateID,
      alias: template.templateID,
      rootfs: this.rootfsOf(b),
      limits: { cpuCount: b.cpuCount, memoryMB: b.memoryMB, pids: 4096 },
      diskSizeMB: TEMPLATE_DISK_SIZE_MB,
      start: b.start,
      envVars: b.envs,
      defaultUser: b.user,
      defaultWorkdir: b.workdir,
    };
  }

  private fileOf(name: string): string {
    return join(this.templatesDir, `${name}.json`);
  }

  private save(template: StoredTemplate): void {
    mkdirSync(this.templatesDir, { recursive: true });
    const file = this.fileOf(template.templateID);
    writeFileSync(`${file}.tmp`, JSON.stringify(template, null, 2));
    renameSync(`${file}.tmp`, file);
  }
}

/** The template exists, the tag does not: E2B's 404 text. */
export class TagNotFoundError extends Error {
  constructor(
    readonly templateName: string,
    readonly tag: string,
  ) {
    super(`tag '${tag}' does not exist for template '${templateName}'`);
  }
}

/** Templates saved before tags (one build per name, its fields at the top) read as one `default` build. */
function upgradeStoredTemplate(raw: unknown): StoredTemplate | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const t = raw as Record<string, unknown> & Partial<StoredTemplate>;
  if (t.builds && Array.isArray(t.assignments)) return t as StoredTemplate;
  if (typeof t.buildID !== 'string' || !Array.isArray(t.layers)) return undefined;
  const old = t as unknown as TemplateBuildRecord & { templateID: string; updatedAt: string; createdAt: string; buildCount?: number };
  const build: TemplateBuildRecord = {
    buildID: old.buildID,
    createdAt: old.updatedAt,
    cpuCount: old.cpuCount,
    memoryMB: old.memoryMB,
    layers: old.layers,
    baseRootfs: old.baseRootfs,
    envs: old.envs ?? {},
    user: old.user ?? 'user',
    workdir: old.workdir,
    start: old.start,
  };
  return {
    templateID: old.templateID,
    createdAt: old.createdAt,
    updatedAt: old.updatedAt,
    buildCount: old.buildCount ?? 1,
    builds: { [build.buildID]: build },
    assignments: [{ tag: DEFAULT_TAG, buildID: build.buildID, createdAt: old.updatedAt }],
  };
}
