// The sandbox API's request bodies, checked the way E2B's API checks them (same order, same
// messages) and turned into the typed input the sandbox layer takes. Nothing here touches a
// sandbox: a request that fails here has changed nothing.
import { invalidInput } from '../errors';
import { lifetimeSeconds } from '../sandbox/lifetime';
import { SandboxSettings } from '../sandbox/settings';
import { resolveVolumeMounts } from '../volumes/mounts';
import { VolumeStore } from '../volumes/store';
import { parseCreateNetwork } from './network-input';

const DEFAULT_TIMEOUT_S = 300;
const MAX_FORK_COUNT = 100;
/** E2B's default lifetime of a fork when the request names none. */
const DEFAULT_FORK_TIMEOUT_S = 15;

/** A create request's template: an id, a name or `name:tag`; E2B's default is `base`. */
export function templateNameOf(body: Record<string, unknown>): string {
  if (body.templateID !== undefined && typeof body.templateID !== 'string')
    throw invalidInput('templateID must be a string: a template id or name');
  return (body.templateID as string | undefined) || 'base';
}

/** What a create request asks for; `volumes`: the runtime's, which the request's mounts must name. */
export function parseCreateSettings(body: Record<string, unknown>, volumes: VolumeStore | undefined): SandboxSettings {
  const network = body.network as { allowPublicTraffic?: unknown } | undefined;
  const autoResume = body.autoResume as { enabled?: unknown } | undefined;
  return {
    timeoutSeconds: parseTimeout(body.timeout ?? DEFAULT_TIMEOUT_S),
    metadata: stringMap(body.metadata, 'metadata'),
    envVars: stringMap(body.envVars, 'envVars'),
    secure: body.secure !== false,
    trafficToken: network?.allowPublicTraffic === false,
    autoPause: !!body.autoPause,
    autoPauseMemory: parseAutoPauseMemory(body.autoPauseMemory, !!autoResume?.enabled),
    autoResume: !!autoResume?.enabled,
    allowInternetAccess: body.allow_internet_access !== false,
    network: parseCreateNetwork(body.network),
    volumeMounts: resolveVolumeMounts(volumes, body.volumeMounts),
  };
}

/** A timeout in seconds: a number (null, "", false would all be 0 to Number(): a kill nobody asked for). */
export function parseTimeout(value: unknown): number {
  if (typeof value !== 'number')
    throw invalidInput(
      `timeout must be a number of seconds, not ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
    );
  if (!Number.isFinite(value) || value < 0) throw invalidInput('timeout must be a non-negative number of seconds');
  return lifetimeSeconds(value);
}

export function parseOptionalTimeout(value: unknown): number | undefined {
  return value === undefined ? undefined : parseTimeout(value);
}

/** `memory` of pause and connect: whether the sandbox's memory is (or was) kept. */
export function parseMemory(value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') throw invalidInput('memory must be a boolean');
  return value as boolean | undefined;
}

/** POST /sandboxes/{id}/fork: how many forks, and their timeout (not yet capped: each fork is). */
export function parseForkRequest(body: Record<string, unknown>): { count: number; timeoutSeconds: number } {
  return { count: forkCount(body.count), timeoutSeconds: forkTimeout(body.timeout) };
}

/** POST /sandboxes/{id}/snapshots: the snapshot's name, when it has one. */
export function parseSnapshotNameField(body: Record<string, unknown>): string | undefined {
  if (body.name === undefined || body.name === null) return undefined;
  if (typeof body.name !== 'string') throw invalidInput('name must be a string');
  return body.name;
}

/** E2B's rule: a filesystem-only pause cannot be resumed by traffic, so not with autoResume. */
function parseAutoPauseMemory(value: unknown, autoResume: boolean): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidInput('autoPauseMemory must be a boolean');
  if (value === false && autoResume)
    throw invalidInput(
      'autoResume cannot be combined with autoPauseMemory: false: a filesystem-only pause must be resumed explicitly (connect)',
    );
  return value;
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidInput(`${field} must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') throw invalidInput(`${field}.${k} must be a string`);
    out[k] = v;
  }
  return out;
}

function forkCount(value: unknown): number {
  if (value === undefined || value === null) return 1;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidInput('Count must be an integer number of sandboxes');
  if (value < 1) throw invalidInput('Count must be at least 1');
  if (value > MAX_FORK_COUNT) throw invalidInput(`Count cannot be greater than ${MAX_FORK_COUNT}`);
  return value;
}

function forkTimeout(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_FORK_TIMEOUT_S;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidInput('Timeout must be a number of seconds');
  if (value <= 0) throw invalidInput('Timeout must be greater than 0');
  return value;
}
