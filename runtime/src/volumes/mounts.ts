// `volumeMounts` of a create request: checked as E2B checks them (every volume known, absolute and
// clean paths, each path once; all problems in one 400), before any sandbox is touched, and turned
// into the OCI bind mounts of the sandbox.
import { posix } from 'node:path';
import { invalidInput } from '../errors';
import { VolumeStore } from './store';

/** What a sandbox record keeps of a mount; `name` and `path` are what the API shows. */
export interface SandboxVolumeMount {
  name: string;
  path: string;
  volumeID: string;
}

/** Where a volume would hide or replace what the runtime itself mounts into every sandbox. */
const RESERVED = ['/proc', '/sys', '/dev', '/run/e2b', '/opt/e2b'];

export function resolveVolumeMounts(volumes: VolumeStore | undefined, requested: unknown): SandboxVolumeMount[] {
  if (requested === undefined || requested === null) return [];
  if (!volumes) {
    if (Array.isArray(requested) && requested.length === 0) return [];
    throw invalidInput('Volume mounts are not enabled.');
  }
  if (!Array.isArray(requested)) throw invalidInput('volumeMounts must be an array of {name, path}');
  const problems: string[] = [];
  const used = new Set<string>();
  const mounts: SandboxVolumeMount[] = [];
  requested.forEach((item: unknown, index) => {
    const { name, path } = (item ?? {}) as { name?: unknown; path?: unknown };
    const volume = typeof name === 'string' ? volumes.byName(name) : undefined;
    const pathProblem = mountPathProblem(path);
    if (!volume) problems.push(`volume mount #${index}: volume '${String(name)}' not found`);
    else if (pathProblem) problems.push(`volume mount #${index}: ${pathProblem}`);
    else if (used.has(path as string)) problems.push(`volume mount #${index}: path '${String(path)}' is already used`);
    else {
      used.add(path as string);
      mounts.push({ name: volume.name, path: path as string, volumeID: volume.volumeID });
    }
  });
  if (problems.length > 0) throw invalidInput(`invalid mounts:\n${problems.map((p) => `\t- ${p}`).join('\n')}`);
  return mounts;
}

function mountPathProblem(path: unknown): string | undefined {
  if (typeof path !== 'string' || path === '') return 'path cannot be empty';
  if (!path.startsWith('/')) return 'path must be absolute';
  if (posix.normalize(path) !== path || (path.length > 1 && path.endsWith('/'))) return "path must not contain any '.' or '..' components";
  if (path === '/') return "path '/' would replace the sandbox's root";
  if (RESERVED.some((r) => path === r || path.startsWith(`${r}/`))) return `path '${path}' is reserved for the sandbox's system mounts`;
  return undefined;
}

/** The sandbox's bind mounts of its volumes: writable, never a source of setuid programs or devices. */
export function volumeOciMounts(volumes: VolumeStore | undefined, mounts: SandboxVolumeMount[] = []): object[] {
  return mounts.map((m) => {
    if (!volumes) throw new Error('this sandbox mounts volumes, but the runtime has none');
    const volume = volumes.require(m.volumeID);
    return { destination: m.path, type: 'bind', source: volumes.mountSource(volume), options: ['rbind', 'rw', 'nosuid', 'nodev'] };
  });
}
