// Templates built through the template build API (protocol §1.3). Each is a stack of layers, the
// overlay upper dirs of its build steps, over a local image's rootfs:
//   <dataDir>/templates/<name>.json   the template (layers, env vars, user, workdir, start)
//   <dataDir>/layers/<key>            one step's layer, cached by a hash of its parents and step
//   <dataDir>/template-files/<hash>   the archives the SDK uploads for COPY steps
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SandboxLimits } from '../container/oci-spec';
import { SandboxStart } from '../image/recipes';
import { RuntimePaths } from '../paths';

export const TEMPLATE_DISK_SIZE_MB = 10240;
const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

export interface BuiltTemplate {
  templateID: string;
  buildID: string;
  createdAt: string;
  updatedAt: string;
  buildCount: number;
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

/** "team/name:tag" → "name" (one team, one version per name). */
export function templateNameOf(idOrAlias: string): string {
  return idOrAlias.replace(/^[^/]*\//, '').replace(/:[^:]*$/, '');
}

export function isValidTemplateName(name: string): boolean {
  return NAME_PATTERN.test(name) && name.length <= 128;
}

export class TemplateStore {
  constructor(private readonly paths: RuntimePaths) {}

  get templatesDir(): string { return join(this.paths.dataDir, 'templates'); }
  get layersDir(): string { return join(this.paths.dataDir, 'layers'); }
  get filesDir(): string { return join(this.paths.dataDir, 'template-files'); }

  layerDir(key: string): string { return join(this.layersDir, key); }
  fileArchive(hash: string): string { return join(this.filesDir, hash); }

  /** The overlay lower dirs of a template, topmost first. */
  rootfsOf(t: Pick<BuiltTemplate, 'layers' | 'baseRootfs'>): string {
    return [...t.layers.map((k) => this.layerDir(k)), t.baseRootfs].join(':');
  }

  get(idOrAlias: string): BuiltTemplate | undefined {
    const name = templateNameOf(idOrAlias);
    if (!isValidTemplateName(name)) return undefined;
    try {
      return JSON.parse(readFileSync(join(this.templatesDir, `${name}.json`), 'utf8')) as BuiltTemplate;
    } catch {
      return undefined;
    }
  }

  save(template: BuiltTemplate): void {
    mkdirSync(this.templatesDir, { recursive: true });
    const file = join(this.templatesDir, `${template.templateID}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(template, null, 2));
    renameSync(`${file}.tmp`, file);
  }

  /** Forgets the template; its layers stay cached (sandboxes may still have them mounted). */
  delete(idOrAlias: string): boolean {
    const template = this.get(idOrAlias);
    if (!template) return false;
    rmSync(join(this.templatesDir, `${template.templateID}.json`), { force: true });
    return true;
  }

  all(): BuiltTemplate[] {
    let files: string[] = [];
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

  resolve(idOrAlias: string): BuiltResolution | undefined {
    const t = this.get(idOrAlias);
    if (!t) return undefined;
    return {
      templateID: t.templateID,
      alias: t.templateID,
      rootfs: this.rootfsOf(t),
      limits: { cpuCount: t.cpuCount, memoryMB: t.memoryMB, pids: 4096 },
      diskSizeMB: TEMPLATE_DISK_SIZE_MB,
      start: t.start,
      envVars: t.envs,
      defaultUser: t.user,
      defaultWorkdir: t.workdir,
    };
  }
}
