// What the runtime adds to a pulled image so a sandbox runs on it, as E2B's build adds its user and
// envd: the `user` account (first free uid from 1000) with /home/user, passwordless sudo when the
// image has sudo, the mount points and /tmp, the sandbox's host name, and the marker that makes
// e2b-init start the agent with the bundled loader (the image's own libc may not run the host's
// Node). The agent itself is bind-mounted at start, never copied in. An image without bash is
// refused: every SDK command runs as `bash -l -c` (E2B's images are Debian-based and have it).
import { PullError } from './client';
import { ensureDirInRoot, isExecutableInRoot, readInRoot, writeInRoot } from './root-paths';

export const SANDBOX_USER = 'user';
export const BUNDLED_LIBC_MARKER = '/opt/e2b/.use-bundled-libc';

export async function prepareSandboxRoot(root: string, display: string): Promise<void> {
  if (!(await isExecutableInRoot(root, '/bin/bash'))) {
    throw new PullError(
      `image '${display}' has no /bin/bash: sandbox commands run with bash (as on E2B), so use an image that has it (most Debian, Ubuntu and language images do)`,
    );
  }
  for (const dir of ['/etc', '/proc', '/sys', '/dev', '/run', '/opt/e2b', '/home']) await ensureDirInRoot(root, dir, 0o755);
  await ensureDirInRoot(root, '/tmp', 0o1777);
  await ensureDirInRoot(root, '/root', 0o700);

  const passwd = (await readInRoot(root, '/etc/passwd')) ?? '';
  const group = (await readInRoot(root, '/etc/group')) ?? '';
  const users = parseColonFile(passwd);
  const groups = parseColonFile(group);
  let passwdOut = passwd;
  let groupOut = group;
  if (!users.has('root')) passwdOut = appendLine(passwdOut, 'root:x:0:0:root:/root:/bin/bash');
  if (!groups.has('root')) groupOut = appendLine(groupOut, 'root:x:0:');
  const existing = users.get(SANDBOX_USER);
  let uid: number;
  if (existing) {
    uid = Number(existing[2]);
  } else {
    const takenUids = new Set([...users.values()].map((f) => Number(f[2])));
    const takenGids = new Set([...groups.values()].map((f) => Number(f[2])));
    uid = firstFree(takenUids, 1000);
    const gid = groups.has(SANDBOX_USER) ? Number(groups.get(SANDBOX_USER)![2]) : takenGids.has(uid) ? firstFree(takenGids, 1000) : uid;
    passwdOut = appendLine(passwdOut, `${SANDBOX_USER}:x:${uid}:${gid}::/home/${SANDBOX_USER}:/bin/bash`);
    if (!groups.has(SANDBOX_USER)) groupOut = appendLine(groupOut, `${SANDBOX_USER}:x:${gid}:`);
    const shadow = await readInRoot(root, '/etc/shadow');
    if (shadow !== undefined && !parseColonFile(shadow).has(SANDBOX_USER))
      await writeInRoot(root, '/etc/shadow', appendLine(shadow, `${SANDBOX_USER}:!:19000:0:99999:7:::`), 0o640);
  }
  if (passwdOut !== passwd) await writeInRoot(root, '/etc/passwd', passwdOut, 0o644);
  if (groupOut !== group) await writeInRoot(root, '/etc/group', groupOut, 0o644);
  await ensureDirInRoot(root, `/home/${SANDBOX_USER}`, 0o750, uid);

  if (await isExecutableInRoot(root, '/usr/bin/sudo')) {
    await writeInRoot(root, `/etc/sudoers.d/${SANDBOX_USER}`, `${SANDBOX_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n`, 0o440);
  }
  await writeInRoot(root, '/etc/hostname', 'e2b.local\n', 0o644);
  const hosts = (await readInRoot(root, '/etc/hosts')) ?? '';
  if (!/\be2b\.local\b/.test(hosts))
    await writeInRoot(root, '/etc/hosts', '127.0.0.1 localhost e2b.local\n::1 localhost ip6-localhost ip6-loopback\n', 0o644);
  await writeInRoot(root, BUNDLED_LIBC_MARKER, '', 0o644);
}

/** name → fields of a passwd/group/shadow file (first entry wins). */
function parseColonFile(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(':');
    if (fields[0] && !out.has(fields[0])) out.set(fields[0], fields);
  }
  return out;
}

function appendLine(text: string, line: string): string {
  return `${text}${text && !text.endsWith('\n') ? '\n' : ''}${line}\n`;
}

function firstFree(taken: Set<number>, from: number): number {
  let id = from;
  while (taken.has(id)) id++;
  return id;
}
