// Runs the host's network tools (ip, nft, sysctl files) as the runtime, and says why when they fail.
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';

export function run(command: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

export function ifaceExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** Sets a per-interface IPv4/IPv6 sysctl of a host interface. */
export function setIfaceSysctl(family: 'ipv4' | 'ipv6', iface: string, key: string, value: string): void {
  writeFileSync(`/proc/sys/net/${family}/conf/${iface}/${key}`, value);
}
