// How snapshots are named and read, like branches: a name (E2B's syntax, `name[:tag]`), shown
// without the team namespace; a default name made from the sandbox's own name and the time, so
// taking one needs no typing. Pure functions: no VS Code API here, so they are unit-tested directly.

export interface SnapshotRef {
  snapshotId: string;
  names: string[];
}

/** `team/name:tag` (or `id:tag` when unnamed) → its name and tag. */
export function snapshotParts(snapshot: SnapshotRef): { name: string; tag: string } {
  const [ref, tag = 'default'] = snapshot.snapshotId.split(':');
  return { name: ref.slice(ref.lastIndexOf('/') + 1), tag };
}

/** What a user calls the snapshot: its name, `:tag` added when it is not the default one. */
export function snapshotLabel(snapshot: SnapshotRef): string {
  const { name, tag } = snapshotParts(snapshot);
  return tag === 'default' ? name : `${name}:${tag}`;
}

/** `<sandbox name>-<yyyymmdd>-<hhmmss>` in E2B's name alphabet, e.g. `notebook-ipynb-20261202-064812`. */
export function defaultSnapshotName(sandboxLabel: string, now: Date): string {
  const base =
    sandboxLabel
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40)
      .replace(/-+$/, '') || 'snapshot';
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return `${base}-${stamp}`;
}

/** Why `name` is not a snapshot name E2B accepts (undefined when it is one). */
export function snapshotNameProblem(name: string): string | undefined {
  const [identifier, tag, extra] = name.trim().split(':');
  if (extra !== undefined) return 'Use one ":" at most, before the tag (name:tag)';
  if (!/^[a-z0-9_-]+$/.test(identifier)) return 'Use lowercase letters, digits, "-" and "_" (and ":tag" after it if you like)';
  if (tag !== undefined && !/^[a-z0-9_.-]+$/.test(tag)) return 'A tag uses lowercase letters, digits, ".", "-" and "_"';
  return undefined;
}
