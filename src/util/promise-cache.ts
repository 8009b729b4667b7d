// One in-flight or settled promise per key; a rejected one is forgotten so the next call retries.
export class PromiseCache<T> {
  private readonly entries = new Map<string, Promise<T>>();

  get(key: string, create: () => Promise<T>): Promise<T> {
    return this.entries.get(key) ?? this.set(key, create());
  }

  /** Caches a promise made elsewhere (a value already at hand: Promise.resolve(it)). */
  set(key: string, entry: Promise<T>): Promise<T> {
    this.entries.set(key, entry);
    entry.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
