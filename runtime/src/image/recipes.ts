// The sandbox images the runtime builds from Debian packages. A change to a recipe changes its
// fingerprint, which makes the cached image stale and rebuilt on next start.
import { createHash } from 'node:crypto';

/** Processes a sandbox of this image runs at start; it is handed out once `readyCmd` passes. */
export interface SandboxStart {
  startCmd?: string;
  readyCmd?: string;
  /** User the start command runs as (default: the sandbox's default user). */
  user?: string;
}

export interface ImageRecipe {
  name: string;
  suite: string;
  packages: string[];
  /** Host files copied into the root before setup: `source` may be computed when the image is built. */
  files?: { source: string | (() => string); target: string }[];
  /** Shell commands run inside the new root (chroot) after the packages are installed. */
  setup: string[];
  start?: SandboxStart;
}

const SANDBOX_USER_SETUP = [
  'useradd --create-home --uid 1000 --user-group --shell /bin/bash user',
  "echo 'user ALL=(ALL:ALL) NOPASSWD: ALL' > /etc/sudoers.d/user && chmod 0440 /etc/sudoers.d/user",
  'echo e2b.local > /etc/hostname',
  "printf '127.0.0.1 localhost e2b.local\\n::1 localhost ip6-localhost ip6-loopback\\n' > /etc/hosts",
  'mkdir -p /opt/e2b /run/e2b',
];

export const IMAGE_RECIPES: Record<string, ImageRecipe> = {
  base: {
    name: 'base',
    suite: 'bookworm',
    packages: ['bash', 'coreutils', 'python3', 'curl', 'git', 'sudo', 'procps', 'ca-certificates', 'passwd', 'less', 'nano'],
    setup: SANDBOX_USER_SETUP,
  },
};

export function recipeFingerprint(recipe: ImageRecipe): string {
  const files = recipe.files?.map((f) => ({ target: f.target, source: typeof f.source === 'string' ? f.source : f.source.name }));
  return createHash('sha256').update(JSON.stringify({ ...recipe, files })).digest('hex').slice(0, 16);
}
