// Which TCP ports a server listens on inside a sandbox, read from the kernel's socket tables
// (/proc/net/tcp, /proc/net/tcp6) by one shell command run through the SDK, so it works the same
// against the local runtime and E2B cloud. The parsing is pure (unit-tested); the one SDK call is
// `listListeningPorts`.
import type { Sandbox } from 'e2b';

export interface ListeningPort {
  port: number;
  /** The listening process's name (its /proc/<pid>/comm), when it could be seen. */
  process?: string;
}

/** envd, the sandbox's own agent: not a server of the user's. */
const ENVD_PORT = 49983;
const LISTEN_STATE = '0A';
const SOCKETS_MARK = '--sockets--';

/**
 * Prints both socket tables, then "<pid> socket:[<inode>] <comm>" for every socket a process
 * holds open (so listeners get a name). Runs as the sandbox's default user, who can see the
 * descriptors of their own processes only (root in a local sandbox cannot see other users'
 * either): a server of another user is listed without a name. `find -lname` keeps it to one
 * process however many descriptors there are; without GNU find there are just no names.
 */
export const LISTING_SCRIPT = [
  'cat /proc/net/tcp /proc/net/tcp6 2>/dev/null',
  `echo ${SOCKETS_MARK}`,
  "find /proc/[0-9]*/fd -lname 'socket:*' -printf '%h %l\\n' 2>/dev/null | while read -r dir link; do",
  '  pid=${dir#/proc/}; pid=${pid%/fd}; comm=; read -r comm < /proc/$pid/comm 2>/dev/null; echo "$pid $link $comm"',
  'done',
  'true',
].join('\n');

export interface ListeningSocket {
  address: string;
  port: number;
  inode: string;
}

/** The LISTEN sockets of /proc/net/tcp or tcp6 text (header lines and other states skipped). */
export function parseListeningSockets(table: string): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  for (const line of table.split('\n')) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
    if (fields.length < 10 || !/^\d+:$/.test(fields[0]) || fields[3] !== LISTEN_STATE) continue;
    const [addressHex, portHex] = fields[1].split(':');
    const address = decodeAddress(addressHex);
    if (address === undefined || !/^[0-9A-Fa-f]{4}$/.test(portHex ?? '')) continue;
    sockets.push({ address, port: parseInt(portHex, 16), inode: fields[9] });
  }
  return sockets;
}

/**
 * The kernel prints addresses as 32-bit words in host byte order (little-endian here): IPv4
 * 0100007F is 127.0.0.1; IPv6 is four such words. IPv6 comes back in full, lower-case form
 * except for the few addresses that matter here ("::", "::1", "::ffff:a.b.c.d").
 */
export function decodeAddress(hex: string): string | undefined {
  if (!/^([0-9A-Fa-f]{8}){1,4}$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) return undefined;
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    for (let b = 6; b >= 0; b -= 2) bytes.push(parseInt(hex.slice(w + b, w + b + 2), 16));
  }
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.every((x) => x === 0)) return '::';
  if (bytes.slice(0, 15).every((x) => x === 0) && bytes[15] === 1) return '::1';
  if (bytes.slice(0, 10).every((x) => x === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return groups.join(':');
}

/**
 * Whether the port URL reaches a listener bound to `address`. The local runtime's gateway tunnels
 * to 127.0.0.1:<port> inside the sandbox's network namespace (runtime/src/envd/agent-link.ts),
 * which reaches 127.0.0.1 and the wildcard addresses. E2B cloud delivers to the sandbox's own
 * interface, which reaches the wildcards directly, and envd forwards listeners on 127.0.0.1 (and
 * ::1) there with socat, so 127.0.0.1 works on both. Anything else (::1 alone, which the local
 * tunnel misses; another interface's address; envd's socat copies on the cloud) is not offered.
 */
export function isReachableAddress(address: string): boolean {
  return ['0.0.0.0', '::', '127.0.0.1', '::ffff:0.0.0.0', '::ffff:127.0.0.1'].includes(address);
}

/** "<pid> socket:[<inode>] <comm>" lines: the process name holding each socket inode. */
export function parseSocketOwners(text: string): Map<string, string> {
  const owners = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\d+ socket:\[(\d+)\] (.+)$/.exec(line.trim());
    if (match && !owners.has(match[1])) owners.set(match[1], match[2].trim());
  }
  return owners;
}

/** What LISTING_SCRIPT printed, as the ports a user can open: reachable, not envd's, one per port, ascending. */
export function listeningPortsFrom(output: string): ListeningPort[] {
  const mark = output.indexOf(SOCKETS_MARK);
  const tables = mark < 0 ? output : output.slice(0, mark);
  const owners = parseSocketOwners(mark < 0 ? '' : output.slice(mark + SOCKETS_MARK.length));
  const ports = new Map<number, ListeningPort>();
  for (const socket of parseListeningSockets(tables)) {
    if (socket.port === ENVD_PORT || !isReachableAddress(socket.address)) continue;
    const known = ports.get(socket.port);
    const process = owners.get(socket.inode);
    if (!known) ports.set(socket.port, process ? { port: socket.port, process } : { port: socket.port });
    else if (!known.process && process) known.process = process;
  }
  return [...ports.values()].sort((a, b) => a.port - b.port);
}

/** The ports a server listens on inside `sandbox` that its port URLs reach. */
export async function listListeningPorts(sandbox: Sandbox): Promise<ListeningPort[]> {
  const result = await sandbox.commands.run(LISTING_SCRIPT, { timeoutMs: 15_000 });
  return listeningPortsFrom(result.stdout);
}
