// The sandbox images the runtime builds from Debian packages. A change to a recipe changes its
// fingerprint, which makes the cached image stale and rebuilt on next start.
import { createHash } from 'node:crypto';

export interface ImageRecipe {
  name: string;
  suite: string;
  packages: string[];
  /** Shell commands run inside the new root (chroot) after the packages are installed. */
  setup: string[];
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
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 16);
}
