// What a sandbox was booted from (its resolved template: lower layers, limits, start command,
// defaults), kept as <sandboxDir>/boot.json. A filesystem-only resume boots it again from this,
// a snapshot records it as its base, and snapshot clean-up reads it to know which layers a
// sandbox still has mounted; none of them may depend on the template still existing.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedTemplate } from './template-source';

const BOOT_FILE = 'boot.json';

export function writeBootTemplate(sandboxDir: string, template: ResolvedTemplate): void {
  const file = join(sandboxDir, BOOT_FILE);
  writeFileSync(`${file}.tmp`, JSON.stringify(template, null, 2));
  renameSync(`${file}.tmp`, file);
}

export function readBootTemplate(sandboxDir: string): ResolvedTemplate | undefined {
  try {
    return JSON.parse(readFileSync(join(sandboxDir, BOOT_FILE), 'utf8')) as ResolvedTemplate;
  } catch {
    return undefined;
  }
}

/** The directories of an overlay lowerdir option ("a:b:c"), topmost first. */
export function lowerDirsOf(rootfs: string): string[] {
  return rootfs.split(':').filter(Boolean);
}
