// Templates as the API presents them: for now, one per locally built image.
import { readdirSync } from 'node:fs';
import { SandboxLimits } from '../container/oci-spec';
import { ENVD_VERSION, TemplateSource } from '../sandbox/manager';
import { RuntimePaths } from '../paths';
import { readImageInfo } from './build';
import type { TemplateBuilds } from '../templates/build';
import { TEMPLATE_DISK_SIZE_MB } from '../templates/store';

const DEFAULT_LIMITS: SandboxLimits = { cpuCount: 2, memoryMB: 1024, pids: 4096 };
const DISK_SIZE_MB = 10240;

export class ImageTemplates implements TemplateSource {
  /** `builds`: the templates built through the template build API, next to the images. */
  constructor(private readonly paths: RuntimePaths, readonly builds?: TemplateBuilds) {}

  isImage(name: string): boolean {
    return /^[a-z0-9][a-z0-9._-]*$/.test(name) && readImageInfo(this.paths.imageDir(name)) !== undefined;
  }

  resolve(templateIdOrAlias: string) {
    // SDKs may send "name:tag" or "team/name"; the local runtime has one team and one tag per name.
    const name = templateIdOrAlias.replace(/^[^/]*\//, '').replace(/:default$/, '');
    const info = /^[a-z0-9][a-z0-9._-]*$/.test(name) ? readImageInfo(this.paths.imageDir(name)) : undefined;
    if (!info) return this.builds?.store.resolve(templateIdOrAlias);
    return { templateID: name, alias: name, rootfs: this.paths.imageRootfs(name), limits: DEFAULT_LIMITS, diskSizeMB: DISK_SIZE_MB, start: info.start };
  }

  /** The `Template` objects of `GET /templates`. */
  list(): object[] {
    let names: string[] = [];
    try {
      names = readdirSync(this.paths.imagesDir).filter((n) => !n.startsWith('.'));
    } catch {
      return [];
    }
    return names.flatMap((name) => {
      const info = readImageInfo(this.paths.imageDir(name));
      if (!info) return [];
      return [{
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
      }];
    }).concat(this.builds?.store.all().map((t) => ({
      templateID: t.templateID,
      buildID: t.buildID,
      cpuCount: t.cpuCount,
      memoryMB: t.memoryMB,
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
    })) ?? []);
  }
}
