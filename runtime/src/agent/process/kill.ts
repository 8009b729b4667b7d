// Signals for a started command and everything it spawned. Each command leads its own session and
// process group (spawned detached), so the group gets the signal; interactive shells move their
// jobs into other groups of the same session, so those are found in /proc and signalled too.
import { readdirSync, readFileSync } from 'node:fs';

/** The session id from /proc/<pid>/stat (fields after the "(comm)": state ppid pgrp session). */
function sessionOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[3]);
  } catch {
    return undefined;
  }
}

function trySignal(target: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch {
    return false;
  }
}

export function signalProcessTree(leader: number, signal: NodeJS.Signals): void {
  if (!trySignal(-leader, signal)) trySignal(leader, signal);
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === leader || pid === process.pid) continue;
    if (sessionOf(pid) === leader) trySignal(pid, signal);
  }
}
