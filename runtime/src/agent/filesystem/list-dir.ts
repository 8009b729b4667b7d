// ListDir's walk: entries up to `depth` levels below a directory, in lexical pre-order (Go's
// filepath.WalkDir), symlinked directories not followed, paths under the requested prefix.
import { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConnectError } from '../connect/errors';
import { UserDatabase } from '../users';
import { EntryInfoJson, entryWithoutMetadata } from './entry-info';

const LOOKUP_BATCH = 64;

/**
 * `resolvedDir` is where the walk happens (symlinks resolved); `requestedDir` is the prefix the
 * entries are reported under.
 */
export async function walkDir(requestedDir: string, resolvedDir: string, depth: number, users: UserDatabase): Promise<EntryInfoJson[]> {
  const entries: EntryInfoJson[] = [];
  async function visit(rel: string, level: number): Promise<void> {
    let children: Dirent[];
    try {
      children = await readdir(join(resolvedDir, rel), { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Removed (or replaced by a file) while we walked: nothing to list there.
      if (level > 1 && (code === 'ENOENT' || code === 'ENOTDIR')) return;
      throw new ConnectError('internal', `error reading directory ${join(resolvedDir, rel)}: ${(err as Error).message}`);
    }
    children.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
    const rels = children.map((child) => (rel ? join(rel, child.name) : child.name));
    // Looked up in parallel batches, reported in order.
    const found: (EntryInfoJson | undefined)[] = [];
    for (let i = 0; i < rels.length; i += LOOKUP_BATCH) {
      found.push(...await Promise.all(rels.slice(i, i + LOOKUP_BATCH).map((childRel) =>
        entryWithoutMetadata(join(resolvedDir, childRel), users).catch((err: unknown) => {
          if (err instanceof ConnectError && err.code === 'not_found') return undefined; // gone in between
          throw err;
        }))));
    }
    for (const [i, child] of children.entries()) {
      const entry = found[i];
      if (!entry) continue;
      entry.path = join(requestedDir, rels[i]);
      entries.push(entry);
      if (child.isDirectory() && level < depth) await visit(rels[i], level + 1);
    }
  }
  await visit('', 1);
  return entries;
}
