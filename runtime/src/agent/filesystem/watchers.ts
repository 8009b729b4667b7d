// The polling watch API (CreateWatcher / GetWatcherEvents / RemoveWatcher, used by the sync
// Python SDK): watchers live until removed and collect events between polls.
import { randomBytes } from 'node:crypto';
import { ConnectError } from '../connect/errors';
import { EntryDeps } from './entry-info';
import { WatchRequest, startWatcher } from './watch';
import { FilesystemEventJson, pipeWatcher } from './watch-events';

// Unread events one watcher may hold before it gives up (an abandoned watcher must not grow forever).
const MAX_UNREAD_EVENTS = 100_000;

interface PollingWatcher {
  events: FilesystemEventJson[];
  error?: ConnectError;
  stop(): void;
}

export class WatcherRegistry {
  private readonly watchers = new Map<string, PollingWatcher>();

  constructor(
    private readonly helperPath: string | undefined,
    private readonly deps: EntryDeps,
  ) {}

  /** Watchers not removed yet. */
  get size(): number {
    return this.watchers.size;
  }

  async create(request: WatchRequest): Promise<string> {
    const watcher = await startWatcher(this.helperPath, request);
    const id = `w${randomBytes(12).toString('hex')}`;
    const entry: PollingWatcher = { events: [], stop: () => {} };
    entry.stop = pipeWatcher(
      watcher,
      request.path,
      request.includeEntry,
      this.deps,
      (events) => {
        if (entry.error) return;
        entry.events.push(...events);
        if (entry.events.length > MAX_UNREAD_EVENTS) {
          entry.error = new ConnectError('resource_exhausted', `more than ${MAX_UNREAD_EVENTS} unread events: the watcher stopped`);
          entry.events = [];
          entry.stop();
        }
      },
      (err) => {
        entry.error ??= new ConnectError('internal', `watcher error: ${err.message}`);
      },
    );
    this.watchers.set(id, entry);
    return id;
  }

  /** The events since the last call; a broken watcher reports its error instead. */
  drain(id: string): FilesystemEventJson[] {
    const entry = this.get(id);
    if (entry.error) throw entry.error;
    return entry.events.splice(0);
  }

  remove(id: string): void {
    const entry = this.get(id);
    entry.stop();
    this.watchers.delete(id);
  }

  private get(id: string): PollingWatcher {
    const entry = this.watchers.get(id);
    if (!entry) throw new ConnectError('not_found', `watcher with id ${id} not found`);
    return entry;
  }
}
