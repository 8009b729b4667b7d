// Runs the host's network tools (ip, nft, sysctl files) as the runtime, and says why when they fail.
import { existsSync, writeFileSync } from 'node:fs';
import { runHostCommand, whyFailed } from '../host-command';

export async function run(command: string, args: string[], input?: string): Promise<string> {
  try {
    return await runHostCommand(command, args, { input, timeoutMs: 15_000 });
  } catch (err) {
    throw new Error(`${command} ${args.join(' ')}: ${whyFailed(err)}`, { cause: err });
  }
}

export function ifaceExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** Sets a per-interface IPv4/IPv6 sysctl of a host interface. */
export function setIfaceSysctl(family: 'ipv4' | 'ipv6', iface: string, key: string, value: string): void {
  writeFileSync(`/proc/sys/net/${family}/conf/${iface}/${key}`, value);
}
