// What a sandbox starts from, as the sandbox layer needs it: a template (or snapshot) resolved to
// its root file system, limits, start command and defaults. The template catalog and the snapshot
// store provide it; the sandboxes only consume it.
import type { SandboxLimits } from '../container/oci-spec';
import type { SandboxStart } from '../image/recipes';

export interface ResolvedTemplate {
  templateID: string;
  alias?: string;
  rootfs: string;
  limits: SandboxLimits;
  diskSizeMB: number;
  start?: SandboxStart;
  /** Built templates: their ENV values, last USER and WORKDIR (sandboxes' defaults). */
  envVars?: Record<string, string>;
  defaultUser?: string;
  defaultWorkdir?: string;
  /** Started from a snapshot: never from the warm pool (whose sandboxes have the template's files only). */
  fromSnapshot?: boolean;
}

export interface TemplateSource {
  /** Resolves a template id or alias to the image that backs it. */
  resolve(templateIdOrAlias: string): ResolvedTemplate | undefined;
}
