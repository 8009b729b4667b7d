// The sandbox's user accounts, read from its own /etc/passwd and /etc/group (no NSS in the agent).
// Re-read when a file changes, so users added inside the sandbox (useradd) are found.
import { readFileSync, statSync } from 'node:fs';

export interface UserAccount {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
  /** Supplementary group ids (from /etc/group member lists), without the primary gid. */
  groups: number[];
}

interface CachedFile<T> {
  key: string;
  value: T;
}

function fileKey(path: string): string {
  try {
    const st = statSync(path);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return 'missing';
  }
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n');
  } catch {
    return [];
  }
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export function parsePasswd(lines: string[]): Map<string, PasswdEntry> {
  const users = new Map<string, PasswdEntry>();
  for (const line of lines) {
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 7) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!f[0] || !Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    // First entry wins, as getpwnam does.
    if (!users.has(f[0])) users.set(f[0], { name: f[0], uid, gid, home: f[5] || '/', shell: f[6] || '/bin/sh' });
  }
  return users;
}

/** gid → group name (first entry wins, as getgrgid does) */
export function parseGroupNames(lines: string[]): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of lines) {
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 3) continue;
    const gid = Number(f[2]);
    if (!f[0] || !Number.isInteger(gid)) continue;
    if (!names.has(gid)) names.set(gid, f[0]);
  }
  return names;
}

/** user name → supplementary gids */
export function parseGroupMembers(lines: string[]): Map<string, number[]> {
  const members = new Map<string, number[]>();
  for (const line of lines) {
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 4) continue;
    const gid = Number(f[2]);
    if (!Number.isInteger(gid)) continue;
    for (const member of f[3].split(',')) {
      const name = member.trim();
      if (!name) continue;
      const list = members.get(name) ?? [];
      if (!list.includes(gid)) list.push(gid);
      members.set(name, list);
    }
  }
  return members;
}

export class UserDatabase {
  private passwd?: CachedFile<Map<string, PasswdEntry>>;
  private group?: CachedFile<Map<string, number[]>>;
  private uidNames?: CachedFile<Map<number, string>>;
  private gidNames?: CachedFile<Map<number, string>>;

  constructor(
    private readonly passwdPath = '/etc/passwd',
    private readonly groupPath = '/etc/group',
  ) {}

  lookup(name: string): UserAccount | undefined {
    const entry = this.passwdEntries().get(name);
    if (!entry) return undefined;
    const groups = (this.groupMembers().get(name) ?? []).filter((g) => g !== entry.gid);
    return { ...entry, groups };
  }

  exists(name: string): boolean {
    return this.passwdEntries().has(name);
  }

  /** The name of a uid (first passwd entry with it), or the number as a string, as envd reports owners. */
  userName(uid: number): string {
    const key = fileKey(this.passwdPath);
    if (this.uidNames?.key !== key) {
      const names = new Map<number, string>();
      for (const entry of this.passwdEntries().values()) if (!names.has(entry.uid)) names.set(entry.uid, entry.name);
      this.uidNames = { key, value: names };
    }
    return this.uidNames.value.get(uid) ?? String(uid);
  }

  /** The name of a gid, or the number as a string. */
  groupName(gid: number): string {
    const key = fileKey(this.groupPath);
    if (this.gidNames?.key !== key) this.gidNames = { key, value: parseGroupNames(readLines(this.groupPath)) };
    return this.gidNames.value.get(gid) ?? String(gid);
  }

  private passwdEntries(): Map<string, PasswdEntry> {
    const key = fileKey(this.passwdPath);
    if (this.passwd?.key !== key) this.passwd = { key, value: parsePasswd(readLines(this.passwdPath)) };
    return this.passwd.value;
  }

  private groupMembers(): Map<string, number[]> {
    const key = fileKey(this.groupPath);
    if (this.group?.key !== key) this.group = { key, value: parseGroupMembers(readLines(this.groupPath)) };
    return this.group.value;
  }
}
