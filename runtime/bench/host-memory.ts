// The host's used memory (MemTotal − MemAvailable, so page cache that can be dropped does not
// count), for benchmarks that divide its growth by the number of idle sandboxes or containers.
import { readFileSync } from 'node:fs';

export function usedHostMemoryMB(): number {
  const info = Object.fromEntries(
    readFileSync('/proc/meminfo', 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [key, value] = line.split(':');
        return [key, Number.parseInt(value, 10)];
      }),
  );
  return (info.MemTotal - info.MemAvailable) / 1024;
}
