// WatchDir (server stream): {"start":{}}, then {"filesystem":…} per event, {"keepalive":{}} while
// idle (Keepalive-Ping-Interval), until the client leaves or Connect-Timeout-Ms passes. (The
// oneof's members sit at the top level of WatchDirResponse, unlike process events.)
import { stat, statfs } from 'node:fs/promises';
import { ConnectError } from '../connect/errors';
import { JsonObject, optionalBool, optionalString } from '../connect/proto-json';
import { RpcCall, ServerStream } from '../connect/rpc';
import { UserAccount } from '../users';
import { DirWatcher } from './dir-watcher';
import { EntryDeps } from './entry-info';
import { resolveRpcPath } from './paths';
import { FilesystemEventJson, pipeWatcher } from './watch-events';

const DEFAULT_KEEPALIVE_SECONDS = 90;

// statfs f_type of network filesystems (Linux magic.h): NFS, CIFS, SMB, SMB2, FUSE.
const NETWORK_FS_TYPES = new Set([0x6969, 0xff534d42, 0x517b, 0xfe534d42, 0x65735546]);

export interface WatchRequest {
  path: string;
  recursive: boolean;
  includeEntry: boolean;
}

/** Parses a WatchDir / CreateWatcher request and checks the directory can be watched. */
export async function prepareWatch(msg: JsonObject, user: UserAccount, defaultWorkdir: string | undefined): Promise<WatchRequest> {
  const path = resolveRpcPath(optionalString(msg, 'path') ?? '', user, defaultWorkdir);
  const recursive = optionalBool(msg, 'recursive') ?? false;
  const includeEntry = optionalBool(msg, 'includeEntry') ?? false;
  const allowNetworkMounts = optionalBool(msg, 'allowNetworkMounts') ?? false;
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ConnectError('not_found', `path ${path} not found`);
    throw new ConnectError('internal', `error statting path ${path}: ${(err as Error).message}`);
  }
  if (!isDir) throw new ConnectError('invalid_argument', `path ${path} not a directory`);
  if (!allowNetworkMounts) {
    const fs = await statfs(path).catch(() => undefined);
    if (fs && NETWORK_FS_TYPES.has(Number(fs.type) >>> 0)) {
      throw new ConnectError('invalid_argument', `cannot watch path on network filesystem: ${path}`);
    }
  }
  return { path, recursive, includeEntry };
}

export async function startWatcher(helperPath: string | undefined, request: WatchRequest): Promise<DirWatcher> {
  if (!helperPath) throw new ConnectError('failed_precondition', 'watching needs the agent helper (E2B_PTYEXEC), which is unavailable');
  try {
    return await DirWatcher.start(helperPath, request.path, request.recursive);
  } catch (err) {
    throw new ConnectError('internal', `error adding path ${request.path} to watcher: ${(err as Error).message}`);
  }
}

function keepaliveMs(call: RpcCall): number {
  const raw = call.header('keepalive-ping-interval');
  const seconds = raw !== undefined && /^\d{1,7}$/.test(raw.trim()) ? Number(raw) : DEFAULT_KEEPALIVE_SECONDS;
  return Math.max(1, seconds) * 1000;
}

export async function streamWatch(
  request: WatchRequest,
  helperPath: string | undefined,
  deps: EntryDeps,
  call: RpcCall,
  stream: ServerStream,
): Promise<void> {
  const watcher = await startWatcher(helperPath, request);
  if (!stream.open) {
    watcher.close();
    return;
  }
  stream.send({ start: {} });

  const keepalive: NodeJS.Timeout = setTimeout(() => {
    stream.send({ keepalive: {} });
    keepalive.refresh();
  }, keepaliveMs(call));
  let deadline: NodeJS.Timeout | undefined;
  const finish = (error?: ConnectError) => {
    clearTimeout(keepalive);
    clearTimeout(deadline);
    stop();
    stream.end(error);
  };
  stream.onDrain(() => watcher.resume('drain'));
  const stop = pipeWatcher(
    watcher,
    request.path,
    request.includeEntry,
    deps,
    (events: FilesystemEventJson[]) => {
      for (const event of events) {
        if (!stream.send({ filesystem: event })) watcher.pause('drain');
      }
      if (events.length > 0) keepalive.refresh();
    },
    (err) => finish(new ConnectError('internal', `watcher error: ${err.message}`)),
  );

  stream.onClientGone(() => finish());
  if (call.timeoutMs !== undefined) {
    deadline = setTimeout(() => finish(new ConnectError('deadline_exceeded', 'the watch reached its Connect-Timeout-Ms')), call.timeoutMs);
  }
}
