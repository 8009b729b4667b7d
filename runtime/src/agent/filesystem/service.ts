// The filesystem.Filesystem Connect service: Stat, MakeDir, Move, ListDir, Remove, WatchDir and
// the polling watchers. Paths resolve for the Basic-auth user (default user otherwise); what is
// created belongs to that user. The agent runs as root inside the sandbox: no permission checks,
// as upstream envd.
import { realpath, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { basicAuthUser } from '../auth';
import { ConnectError } from '../connect/errors';
import { JsonObject, optionalInteger, optionalString } from '../connect/proto-json';
import { RpcCall, RpcRouter } from '../connect/rpc';
import { AgentSettings } from '../settings';
import { UserAccount, UserDatabase } from '../users';
import { EntryInfoJson, entryInfo, legacyEntry, withMetadata } from './entry-info';
import { walkDir } from './list-dir';
import { MetadataStore } from './metadata';
import { NotADirectoryError, ensureDirs, resolveRpcPath } from './paths';
import { prepareWatch, streamWatch } from './watch';
import { WatcherRegistry } from './watchers';

export interface FilesystemServiceOptions {
  settings: AgentSettings;
  users: UserDatabase;
  metadata: MetadataStore;
  /** Path of e2b-ptyexec, which does the inotify watching; without it WatchDir is unavailable. */
  helperPath: string | undefined;
}

const UINT32_MAX = 0xffffffff;

/** Registers the service; returns its polling watchers (while there are any, the agent stays up). */
export function registerFilesystemService(
  router: RpcRouter,
  { settings, users, metadata, helperPath }: FilesystemServiceOptions,
): WatcherRegistry {
  const deps = { users, metadata };
  const watchers = new WatcherRegistry(helperPath, deps);

  const userOf = (call: RpcCall): UserAccount => settings.resolveUser(basicAuthUser(call.request));
  const pathOf = (msg: JsonObject, field: string, user: UserAccount): string =>
    resolveRpcPath(optionalString(msg, field) ?? '', user, settings.defaultWorkdir);
  // Upstream strips entries to name/type/path for the very first Python SDK.
  const shape = (call: RpcCall, entry: EntryInfoJson): object =>
    call.header('user-agent') === 'connect-python' ? legacyEntry(entry) : entry;

  router.register('filesystem.Filesystem', {
    Stat: {
      kind: 'unary',
      async handle(msg, call) {
        const path = pathOf(msg, 'path', userOf(call));
        return { entry: shape(call, await entryInfo(path, deps)) };
      },
    },

    MakeDir: {
      kind: 'unary',
      async handle(msg, call) {
        const user = userOf(call);
        const path = pathOf(msg, 'path', user);
        let existing: boolean | undefined;
        try {
          existing = (await stat(path)).isDirectory();
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOTDIR') throw new ConnectError('invalid_argument', `a parent of ${path} is not a directory`);
          if (code !== 'ENOENT') throw new ConnectError('internal', `error getting file info: ${(err as Error).message}`);
        }
        if (existing === true) throw new ConnectError('already_exists', `directory already exists: ${path}`);
        if (existing === false) throw new ConnectError('invalid_argument', `path already exists but it is not a directory: ${path}`);
        await ensureDirsOrFail(path, user);
        return { entry: shape(call, await entryInfo(path, deps)) };
      },
    },

    Move: {
      kind: 'unary',
      async handle(msg, call) {
        const user = userOf(call);
        const source = pathOf(msg, 'source', user);
        const destination = pathOf(msg, 'destination', user);
        await ensureDirsOrFail(dirname(destination), user);
        try {
          await rename(source, destination);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') throw new ConnectError('not_found', `source file not found: ${source}`);
          if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EINVAL' || code === 'EEXIST') {
            throw new ConnectError('invalid_argument', `cannot move ${source} to ${destination}: ${(err as Error).message}`);
          }
          throw new ConnectError('internal', `error renaming: ${(err as Error).message}`);
        }
        return { entry: shape(call, await entryInfo(destination, deps)) };
      },
    },

    ListDir: {
      kind: 'unary',
      async handle(msg, call) {
        const depth = optionalInteger(msg, 'depth', 0, UINT32_MAX) || 1;
        const requested = pathOf(msg, 'path', userOf(call));
        let resolved: string;
        try {
          resolved = await realpath(requested);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || code === 'ENOTDIR') {
            // ENOTDIR: a parent is a file, or the path itself ends in "/" — a file then.
            const isFile = await stat(requested.replace(/\/+$/, '')).then(
              (s) => !s.isDirectory(),
              () => false,
            );
            if (isFile) throw new ConnectError('invalid_argument', `path is not a directory: ${requested}`);
            throw new ConnectError('not_found', `path not found: ${requested}`);
          }
          if (code === 'ELOOP') throw new ConnectError('failed_precondition', `cyclic symlink or chain >40 links at '${requested}'`);
          throw new ConnectError('internal', `error resolving symlink: ${(err as Error).message}`);
        }
        let isDir: boolean;
        try {
          isDir = (await stat(resolved)).isDirectory();
        } catch (err) {
          throw new ConnectError('not_found', `directory not found: ${(err as Error).message}`);
        }
        if (!isDir) throw new ConnectError('invalid_argument', `path is not a directory: ${requested}`);
        const entries = await withMetadata(await walkDir(requested, resolved, depth, users), metadata);
        return { entries: entries.map((e) => shape(call, e)) };
      },
    },

    Remove: {
      kind: 'unary',
      async handle(msg, call) {
        const path = pathOf(msg, 'path', userOf(call));
        try {
          await rm(path, { recursive: true, force: true });
        } catch (err) {
          throw new ConnectError('internal', `error removing file or directory: ${(err as Error).message}`);
        }
        return {};
      },
    },

    WatchDir: {
      kind: 'server-stream',
      async handle(msg, call, stream) {
        const request = await prepareWatch(msg, userOf(call), settings.defaultWorkdir);
        await streamWatch(request, helperPath, deps, call, stream);
      },
    },

    CreateWatcher: {
      kind: 'unary',
      async handle(msg, call) {
        const request = await prepareWatch(msg, userOf(call), settings.defaultWorkdir);
        return { watcherId: await watchers.create(request) };
      },
    },

    GetWatcherEvents: {
      kind: 'unary',
      handle(msg) {
        return { events: watchers.drain(optionalString(msg, 'watcherId') ?? '') };
      },
    },

    RemoveWatcher: {
      kind: 'unary',
      handle(msg) {
        watchers.remove(optionalString(msg, 'watcherId') ?? '');
        return {};
      },
    },
  });
  return watchers;
}

async function ensureDirsOrFail(path: string, user: UserAccount): Promise<void> {
  try {
    await ensureDirs(path, user.uid, user.gid);
  } catch (err) {
    if (err instanceof NotADirectoryError) throw new ConnectError('invalid_argument', err.message);
    throw new ConnectError('internal', `error creating directories: ${(err as Error).message}`);
  }
}
