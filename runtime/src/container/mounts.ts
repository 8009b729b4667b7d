// The host's mount table as this process sees it (/proc/self/mountinfo): mount points and options.
import { readFileSync } from 'node:fs';

export interface MountEntry {
  point: string;
  options: string[];
}

export function mountTable(): MountEntry[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const fields = line.split(' ');
      return { point: fields[4], options: fields[5].split(',') };
    });
}

export function isMountPoint(path: string): boolean {
  return mountTable().some((m) => m.point === path);
}
