// The template catalog: every template a sandbox can start from, as the API presents them: the
// runtime's local images (one build each, tagged `default`) and the templates built through the
// template build API (template-builds/, builds chosen by tag).
import { readdirSync } from 'node:fs';
import { SandboxLimits } from './container/oci-spec';
import { ENVD_VERSION } from './envd/version';
import { TemplateSource } from './sandbox/template-source';
import { RuntimePaths } from './paths';
import { isLocalImage, readImageInfo } from './image/build';
import type { TemplateBuilds } from './template-builds/build';
import { TagNotFoundError, TEMPLATE_DISK_SIZE_MB } from './template-builds/store';
import { parseTemplateRef, ReferenceSyntaxError } from './template-builds/reference';
import { invalidInput, notFound } from './errors';

const DEFAULT_LIMITS: SandboxLimits = { cpuCount: 2, memoryMB: 1024, pids: 4096 };
const DISK_SIZE_MB = 10240;

export class TemplateCatalog implements TemplateSource {
  /** `builds`: the templates built through the template build API, next to the images. */
  constructor(
    private readonly paths: RuntimePaths,
    readonly builds?: TemplateBuilds,
  ) {}

  isImage(name: string): boolean {
    return isLocalImage(this.paths, name);
  }

  /**
   * "name", "team/name", "name:tag": undefined when no such template; a reference that does not
   * parse is a 400 and an unknown tag a 404, with E2B's messages.
   */
  resolve(templateIdOrAlias: string) {
    let ref: { name: string; tag?: string };
    try {
      ref = parseTemplateRef(templateIdOrAlias);
    } catch (err) {
      if (err instanceof ReferenceSyntaxError) throw invalidInput(`Invalid template reference: ${err.message}`);
      throw err;
    }
    const name = ref.name;
    const info = readImageInfo(this.paths.imageDir(name));
    if (!info) {
      try {
        return this.builds?.store.resolve(templateIdOrAlias);
      } catch (err) {
        if (err instanceof TagNotFoundError) throw notFound(err.message);
        throw err;
      }
    }
    // An image has one build, tagged `default`.
    if (ref.tag) throw notFound(new TagNotFoundError(name, ref.tag).message);
    return {
      templateID: name,
      alias: name,
      rootfs: this.paths.imageRootfs(name),
      limits: DEFAULT_LIMITS,
      diskSizeMB: DISK_SIZE_MB,
      start: info.start,
    };
  }

  /** The `Template` objects of `GET /templates`. */
  list(): object[] {
    let names: string[];
    try {
      names = readdirSync(this.paths.imagesDir).filter((n) => !n.startsWith('.'));
    } catch {
      return [];
    }
    return names
      .flatMap((name) => {
        const info = readImageInfo(this.paths.imageDir(name));
        if (!info) return [];
        return [
          {
            templateID: name,
            buildID: info.fingerprint,
            cpuCount: DEFAULT_LIMITS.cpuCount,
            memoryMB: DEFAULT_LIMITS.memoryMB,
            diskSizeMB: DISK_SIZE_MB,
            public: false,
            aliases: [name],
            names: [name],
            createdAt: info.builtAt,
            updatedAt: info.builtAt,
            createdBy: null,
            lastSpawnedAt: null,
            spawnCount: 0,
            buildCount: 1,
            envdVersion: ENVD_VERSION,
            buildStatus: 'ready',
          },
        ];
      })
      .concat(
        this.builds?.store.all().flatMap((t) => {
          const build = this.builds!.store.shownBuild(t);
          if (!build) return [];
          return [
            {
              templateID: t.templateID,
              buildID: build.buildID,
              cpuCount: build.cpuCount,
              memoryMB: build.memoryMB,
              diskSizeMB: TEMPLATE_DISK_SIZE_MB,
              public: false,
              aliases: [t.templateID],
              names: [t.templateID],
              createdAt: t.createdAt,
              updatedAt: t.updatedAt,
              createdBy: null,
              lastSpawnedAt: null,
              spawnCount: 0,
              buildCount: t.buildCount,
              envdVersion: ENVD_VERSION,
              buildStatus: 'ready',
            },
          ];
        }) ?? [],
      );
  }
}
