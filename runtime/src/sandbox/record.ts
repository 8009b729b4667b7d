// What the runtime knows about one sandbox, persisted as <sandboxDir>/sandbox.json so that a
// restarted runtime picks up where it left off.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SandboxNetwork } from './network-config';
import type { SandboxVolumeMount } from '../volumes/mounts';

export type SandboxState = 'creating' | 'running' | 'paused';

export interface SandboxRecord {
  sandboxID: string;
  templateID: string;
  alias?: string;
  envdVersion: string;
  envdAccessToken?: string;
  trafficAccessToken?: string;
  startedAt: string;
  /** ISO time at which the sandbox is killed (or paused, with onTimeout 'pause'). */
  endAt: string;
  cpuCount: number;
  memoryMB: number;
  diskSizeMB: number;
  metadata: Record<string, string>;
  envVars: Record<string, string>;
  state: SandboxState;
  /** While paused: how much of its timeout the sandbox had left when it was paused. */
  pausedRemainingMs?: number;
  lifecycle: { onTimeout: 'kill' | 'pause'; autoResume: boolean };
  /** false: the timeout's auto-pause keeps only the files. */
  autoPauseMemory?: boolean;
  /** While paused: false when only its files were kept (resume boots it again). */
  memoryKept?: boolean;
  allowInternetAccess: boolean;
  /** The create request's `network`, egress settings as the last updateNetwork left them. */
  network?: SandboxNetwork;
  /** The volumes mounted at create (absent in records older than volumes). */
  volumeMounts?: SandboxVolumeMount[];
}

const RECORD_FILE = 'sandbox.json';

export function writeRecord(sandboxDir: string, record: SandboxRecord): void {
  const file = join(sandboxDir, RECORD_FILE);
  writeFileSync(`${file}.tmp`, JSON.stringify(record, null, 2));
  renameSync(`${file}.tmp`, file);
}

/**
 * writeRecord off the event loop, in two steps, for a record that holds only once some work is
 * done (for a caller that holds the sandbox's operation lock: one write at a time): its content is
 * written now, while that work runs, and becomes the record only at commit (one rename); until
 * then the record on disk is the one before. `settled` resolves once nothing is being written.
 */
export function stageRecord(sandboxDir: string, record: SandboxRecord): { commit(): Promise<void>; settled: Promise<void> } {
  const file = join(sandboxDir, RECORD_FILE);
  // Its own temporary name: a sync writeRecord that runs meanwhile cannot truncate or take it.
  const partial = `${file}.saving.tmp`;
  const written = writeFile(partial, JSON.stringify(record, null, 2));
  const settled = written.then(
    () => undefined,
    () => undefined,
  );
  const commit = async () => {
    await written;
    await rename(partial, file);
  };
  return { commit, settled };
}

export function readRecord(sandboxDir: string): SandboxRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(sandboxDir, RECORD_FILE), 'utf8')) as SandboxRecord;
  } catch {
    return undefined;
  }
}
