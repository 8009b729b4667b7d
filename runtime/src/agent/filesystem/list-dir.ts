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
  // Names are read as bytes: one that is not UTF-8 would not be found again by its string.
  async function visit(rel: string, relBytes: Buffer, level: number): Promise<void> {
    const dirBytes = relBytes.length ? Buffer.concat([Buffer.from(`${resolvedDir}/`), relBytes]) : Buffer.from(resolvedDir);
    let children: Dirent<Buffer>[];
    try {
      children = await readdir(dirBytes, { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Removed (or replaced by a file) while we walked: nothing to list there.
      if (level > 1 && (code === 'ENOENT' || code === 'ENOTDIR')) return;
      throw new ConnectError('internal', `error reading directory ${join(resolvedDir, rel)}: ${(err as Error).message}`);
    }
    children.sort((a, b) => Buffer.compare(a.name, b.name));
    const rels = children.map((child) => (rel ? join(rel, child.name.toString('utf8')) : child.name.toString('utf8')));
    const relsBytes = children.map((child) => (relBytes.length ? Buffer.concat([relBytes, Buffer.from('/'), child.name]) : child.name));
    // Looked up in parallel batches, reported in order.
    const found: (EntryInfoJson | undefined)[] = [];
    for (let i = 0; i < rels.length; i += LOOKUP_BATCH) {
      found.push(
        ...(await Promise.all(
          rels.slice(i, i + LOOKUP_BATCH).map((childRel, j) =>
            entryWithoutMetadata(
              join(resolvedDir, childRel),
              users,
              Buffer.concat([Buffer.from(`${resolvedDir}/`), relsBytes[i + j]]),
            ).catch((err: unknown) => {
              if (err instanceof ConnectError && err.code === 'not_found') return undefined; // gone in between
              throw err;
            }),
          ),
        )),
      );
    }
    for (const [i, child] of children.entries()) {
      const entry = found[i];
      if (!entry) continue;
      entry.path = join(requestedDir, rels[i]);
      entries.push(entry);
      if (child.isDirectory() && level < depth) await visit(rels[i], relsBytes[i], level + 1);
    }
  }
  await visit('', Buffer.alloc(0), 1);
  return entries;
}
