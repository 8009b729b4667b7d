// Raw watcher events → FilesystemEvent messages, as envd sends them: one message per operation
// (create, rename, chmod, write, remove, in that order), the name relative to the watched dir,
// and with includeEntry an EntryInfo for create/write/chmod (best-effort: absent if already gone).
import { relative } from 'node:path';
import { log } from '../log';
import { EntryDeps, EntryInfoJson, entryInfo } from './entry-info';
import { DirWatcher, OP_CHMOD, OP_CREATE, OP_REMOVE, OP_RENAME, OP_WRITE, RawFsEvent } from './dir-watcher';

export type EventTypeName = 'EVENT_TYPE_CREATE' | 'EVENT_TYPE_WRITE' | 'EVENT_TYPE_REMOVE' | 'EVENT_TYPE_RENAME' | 'EVENT_TYPE_CHMOD';

export interface FilesystemEventJson {
  name: string;
  type: EventTypeName;
  entry?: EntryInfoJson;
}

const ORDER: [number, EventTypeName][] = [
  [OP_CREATE, 'EVENT_TYPE_CREATE'],
  [OP_RENAME, 'EVENT_TYPE_RENAME'],
  [OP_CHMOD, 'EVENT_TYPE_CHMOD'],
  [OP_WRITE, 'EVENT_TYPE_WRITE'],
  [OP_REMOVE, 'EVENT_TYPE_REMOVE'],
];

const CARRIES_ENTRY = OP_CREATE | OP_WRITE | OP_CHMOD;

export async function toFilesystemEvents(
  raw: RawFsEvent,
  root: string,
  includeEntry: boolean,
  deps: EntryDeps,
): Promise<FilesystemEventJson[]> {
  const name = relative(root, raw.path) || '.';
  let entry: EntryInfoJson | undefined;
  if (includeEntry && raw.ops & CARRIES_ENTRY) {
    entry = await entryInfo(raw.path, deps).catch((err: Error & { code?: string }) => {
      if (err.code !== 'not_found') log(`watch: no entry info for ${raw.path}: ${err.message}`);
      return undefined;
    });
  }
  const events: FilesystemEventJson[] = [];
  for (const [bit, type] of ORDER) {
    if (!(raw.ops & bit)) continue;
    events.push({ name, type, ...(entry && bit & CARRIES_ENTRY ? { entry } : {}) });
  }
  return events;
}

// Events waiting for their entry info before the watcher is paused (an event storm with
// includeEntry must not queue without bound).
const MAX_IN_FLIGHT = 1000;

/**
 * Converts a watcher's events in order and hands them to `deliver`; `fail` gets a broken watch.
 * Returns a function that stops it (and closes the watcher).
 */
export function pipeWatcher(
  watcher: DirWatcher,
  root: string,
  includeEntry: boolean,
  deps: EntryDeps,
  deliver: (events: FilesystemEventJson[]) => void,
  fail: (err: Error) => void,
): () => void {
  let stopped = false;
  let inFlight = 0;
  let chain: Promise<void> = Promise.resolve();
  watcher.deliverTo({
    event(raw) {
      if (stopped) return;
      if (!includeEntry) {
        deliver(ORDER.filter(([bit]) => raw.ops & bit).map(([, type]) => ({ name: relative(root, raw.path) || '.', type })));
        return;
      }
      inFlight++;
      if (inFlight === MAX_IN_FLIGHT) watcher.pause('entries');
      chain = chain
        .then(() => toFilesystemEvents(raw, root, includeEntry, deps))
        .then((events) => {
          if (!stopped) deliver(events);
        })
        .finally(() => {
          inFlight--;
          if (inFlight === MAX_IN_FLIGHT / 10) watcher.resume('entries');
        });
    },
    error(err) {
      if (stopped) return;
      // Events converted before the break still go out first.
      void chain.then(() => {
        if (!stopped) fail(err);
      });
    },
  });
  return () => {
    stopped = true;
    watcher.close();
  };
}
