// What a sandbox may reach, worked out from its record the way E2B defines it: allowInternetAccess
// false is denyOut ['0.0.0.0/0']; an address in allowOut is reachable even when denyOut covers it
// (allow wins); domains in allowOut open ports 80 (HTTP Host) and 443 (TLS SNI) of names that match,
// and only such names get DNS answers; some ranges are never reachable, whatever the lists say.
import { isIP } from 'node:net';

export interface EgressPolicy {
  allowCidrs: string[];
  denyCidrs: string[];
  /** example.com, *.example.com or * (lower case, no trailing dot). */
  domains: string[];
}

/** Never reachable from a sandbox: this host, private and shared ranges, link-local (cloud metadata), multicast. */
export const ALWAYS_DENIED = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '224.0.0.0/3',
];
/** E2B lets sandboxes that filter by domain reach its default nameserver. */
const E2B_DEFAULT_NAMESERVER = '8.8.8.8/32';

export interface NetworkSettings {
  allowInternetAccess?: boolean;
  network?: { allowOut?: unknown; denyOut?: unknown };
}

export function egressPolicyOf(settings: NetworkSettings): EgressPolicy {
  const allowOut = stringsOf(settings.network?.allowOut);
  const denyOut = stringsOf(settings.network?.denyOut);
  const allowCidrs = allowOut.filter(isCidrOrIp).map(asCidr);
  const domains = allowOut.filter((e) => !isCidrOrIp(e)).map((d) => d.toLowerCase().replace(/\.$/, ''));
  const denyCidrs = denyOut.map(asCidr);
  if (settings.allowInternetAccess === false && !denyCidrs.includes('0.0.0.0/0')) denyCidrs.push('0.0.0.0/0');
  if (domains.length && !allowCidrs.includes(E2B_DEFAULT_NAMESERVER)) allowCidrs.push(E2B_DEFAULT_NAMESERVER);
  return { allowCidrs: allowCidrs.filter(isV4), denyCidrs: denyCidrs.filter(isV4), domains };
}

/** Whether a name may be resolved and connected to by name: always, unless the sandbox filters by domain. */
export function domainAllowed(policy: EgressPolicy, name: string): boolean {
  const host = name.toLowerCase().replace(/\.$/, '');
  if (policy.domains.some((pattern) => domainMatches(pattern, host))) return true;
  // No domain filtering in effect: a name is as reachable as the addresses it resolves to.
  return !policy.denyCidrs.includes('0.0.0.0/0');
}

/** Whether DNS should answer this name at all for the sandbox. */
export function resolvesFor(policy: EgressPolicy, name: string): boolean {
  if (domainAllowed(policy, name)) return true;
  // Everything denied but some addresses allowed: names still resolve (the addresses decide).
  return policy.domains.length === 0 && policy.allowCidrs.length > 0;
}

/** Whether a TCP/UDP packet to `ip` passes the CIDR rules (what the firewall decides). */
export function addressAllowed(policy: EgressPolicy, ip: string): boolean {
  if (isIP(ip) !== 4 || ALWAYS_DENIED.some((c) => inCidr(ip, c))) return false;
  if (policy.allowCidrs.some((c) => inCidr(ip, c))) return true;
  return !policy.denyCidrs.some((c) => inCidr(ip, c));
}

function domainMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) || host === pattern.slice(2);
  return host === pattern;
}

export function inCidr(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  const prefix = Number(bits ?? 32);
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return (toInt(ip) & mask) >>> 0 === (toInt(net) & mask) >>> 0;
}

function toInt(ip: string): number {
  return ip.split('.').reduce((n, o) => ((n << 8) | Number(o)) >>> 0, 0);
}

function isCidrOrIp(entry: string): boolean {
  return isIP(entry.split('/')[0]) !== 0;
}

function asCidr(entry: string): string {
  return entry.includes('/') ? entry : isIP(entry) === 6 ? `${entry}/128` : `${entry}/32`;
}

function isV4(cidr: string): boolean {
  return isIP(cidr.split('/')[0]) === 4;
}

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
