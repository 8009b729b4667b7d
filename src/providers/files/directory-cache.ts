// Directory listings kept until a watch event or one of our own writes says they changed, and at
// most a few seconds in any case (changes in unwatched directories show up soon after).
import type { EntryInfo } from 'e2b';

const TTL_MS = 5000;

interface CachedListing {
  entries: EntryInfo[];
  at: number;
}

export class DirectoryCache {
  private readonly listings = new Map<string, CachedListing>();

  private key(sandboxId: string, path: string): string {
    return `${sandboxId}:${path}`;
  }

  get(sandboxId: string, path: string): EntryInfo[] | undefined {
    const cached = this.listings.get(this.key(sandboxId, path));
    return cached && Date.now() - cached.at <= TTL_MS ? cached.entries : undefined;
  }

  set(sandboxId: string, path: string, entries: EntryInfo[]): void {
    this.listings.set(this.key(sandboxId, path), { entries, at: Date.now() });
  }

  /** Forgets a directory (its own listing changed). */
  invalidate(sandboxId: string, path: string): void {
    this.listings.delete(this.key(sandboxId, path));
  }

  /** Forgets a directory and everything below it (it was removed or renamed). */
  invalidateTree(sandboxId: string, path: string): void {
    const prefix = this.key(sandboxId, path);
    for (const key of this.listings.keys()) if (key === prefix || key.startsWith(`${prefix}/`)) this.listings.delete(key);
  }

  forgetSandbox(sandboxId: string): void {
    for (const key of this.listings.keys()) if (key.startsWith(`${sandboxId}:`)) this.listings.delete(key);
  }
}
