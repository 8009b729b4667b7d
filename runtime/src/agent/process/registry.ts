// Live processes by pid and tag, plus a short memory of recently exited ones so a late Connect
// still gets start + end instead of not_found, as envd does. That memory outlives a sleep of the
// agent (idle-exit.ts) through a root-only file beside its state file.
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { ConnectError } from '../connect/errors';
import { EndEvent } from './exit-status';
import { ProcessConfig } from './launch';
import { ManagedProcess } from './managed-process';

export type ProcessSelector = { pid: number } | { tag: string };

export interface ExitedProcess {
  pid: number;
  tag: string | undefined;
  config: ProcessConfig;
  end: EndEvent;
  exitedAt: number;
}

const KEEP_EXITED = 100;
const KEEP_EXITED_MS = 5 * 60 * 1000;

export function describeSelector(selector: ProcessSelector): string {
  return 'pid' in selector ? `process with pid ${selector.pid}` : `process with tag ${selector.tag}`;
}

export class ProcessRegistry {
  private readonly live = new Map<number, ManagedProcess>();
  private exited: ExitedProcess[] = [];

  add(proc: ManagedProcess): void {
    this.live.set(proc.pid, proc);
    proc.onEnd((end) => {
      if (this.live.get(proc.pid) === proc) this.live.delete(proc.pid);
      this.exited.push({ pid: proc.pid, tag: proc.tag, config: proc.config, end, exitedAt: Date.now() });
      this.prune();
    });
  }

  list(): ManagedProcess[] {
    return [...this.live.values()];
  }

  findLive(selector: ProcessSelector): ManagedProcess | undefined {
    if ('pid' in selector) return this.live.get(selector.pid);
    for (const proc of this.live.values()) if (proc.tag === selector.tag) return proc;
    return undefined;
  }

  /** The live process, or not_found. */
  getLive(selector: ProcessSelector): ManagedProcess {
    const proc = this.findLive(selector);
    if (!proc) throw new ConnectError('not_found', `${describeSelector(selector)} not found`);
    return proc;
  }

  findExited(selector: ProcessSelector): ExitedProcess | undefined {
    this.prune();
    for (let i = this.exited.length - 1; i >= 0; i--) {
      const p = this.exited[i];
      if ('pid' in selector ? p.pid === selector.pid : p.tag === selector.tag) return p;
    }
    return undefined;
  }

  /** Keeps the exited processes' memory for the next run of the agent (it is about to sleep). */
  saveExited(file: string): void {
    this.prune();
    if (this.exited.length === 0) return;
    writeFileSync(`${file}.tmp`, JSON.stringify(this.exited), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }

  /** Takes back what an earlier run saved; a file that does not parse as that is dropped. */
  loadExited(file: string): void {
    let saved: unknown;
    try {
      saved = JSON.parse(readFileSync(file, 'utf8'));
      unlinkSync(file);
    } catch {
      return; // none saved
    }
    if (!Array.isArray(saved)) return;
    this.exited = saved.filter(
      (p): p is ExitedProcess =>
        typeof p === 'object' &&
        p !== null &&
        Number.isInteger(p.pid) &&
        (p.tag === undefined || typeof p.tag === 'string') &&
        typeof p.config === 'object' &&
        p.config !== null &&
        typeof p.end === 'object' &&
        p.end !== null &&
        typeof p.exitedAt === 'number',
    );
    this.prune();
  }

  private prune(): void {
    const cutoff = Date.now() - KEEP_EXITED_MS;
    let drop = Math.max(0, this.exited.length - KEEP_EXITED);
    while (drop < this.exited.length && this.exited[drop].exitedAt < cutoff) drop++;
    if (drop > 0) this.exited = this.exited.slice(drop);
  }
}
