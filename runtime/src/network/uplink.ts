// The runtime's choice of where sandbox traffic leaves the host: the host's own routing ('host',
// the default for users), nowhere ('none': sandboxes keep loopback only, as on machines that must
// never send a packet out), or a network namespace a test made ('netns:<name>').
export type Uplink = { kind: 'host' } | { kind: 'none' } | { kind: 'netns'; name: string };

/** The environment variable that gives the default when `--uplink` is not passed. */
export const UPLINK_ENV = 'E2B_RUNTIME_UPLINK';

export function parseUplink(value: string): Uplink {
  if (value === 'host' || value === 'none') return { kind: value };
  const netns = /^netns:([A-Za-z0-9_.-]{1,64})$/.exec(value);
  if (netns) return { kind: 'netns', name: netns[1] };
  throw new Error(`--uplink: "${value}" is not one of host, none, netns:<name>`);
}

/** `--uplink` if given, else $E2B_RUNTIME_UPLINK, else the host's routing. */
export function uplinkFrom(option: string | undefined, env: NodeJS.ProcessEnv = process.env): Uplink {
  return parseUplink(option ?? (env[UPLINK_ENV] || 'host'));
}

export function describeUplink(uplink: Uplink): string {
  return uplink.kind === 'netns' ? `netns:${uplink.name}` : uplink.kind;
}
