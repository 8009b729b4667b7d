// A sandbox's egress rules as people read and type them (the create wizard, Edit Network Rules…,
// the tooltip and Show Info), checked the way E2B's API checks them so bad input is caught with a
// message saying what to write. Pure functions: no VS Code API here, so they are unit-tested directly.
export const ALL_TRAFFIC = '0.0.0.0/0';

export interface NetworkRules {
  allowInternetAccess: boolean;
  allowOut?: string[];
  denyOut?: string[];
}
export interface NetworkInfo {
  allowInternetAccess?: boolean;
  network?: { allowOut?: string[]; denyOut?: string[] };
}

const DOMAIN_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/** "internet on", "internet off", or the lists: "allow example.com, 1.1.1.1 · deny 0.0.0.0/0". */
export function describeNetwork(info: NetworkInfo): string {
  const allow = info.network?.allowOut ?? [];
  const deny = info.network?.denyOut ?? [];
  const lists = [allow.length ? `allow ${allow.join(', ')}` : '', deny.length ? `deny ${deny.join(', ')}` : ''].filter(Boolean);
  if (info.allowInternetAccess === false) return ['internet off', ...lists].join(' · ');
  return lists.length ? lists.join(' · ') : 'internet on';
}

/** Entries separated by commas or spaces; throws saying what to write when one is not valid. */
export function parseNetworkList(text: string, list: 'allow' | 'deny'): string[] {
  const entries = text
    .split(/[,\s]+/)
    .map((e) => e.trim())
    .filter(Boolean);
  for (const entry of entries) {
    if (isIpOrCidr(entry)) continue;
    if (list === 'deny') {
      throw new Error(
        isDomain(entry)
          ? `"${entry}": domains can only be allowed. To reach only some domains, put them in the allow list and ${ALL_TRAFFIC} here.`
          : `"${entry}" is not an IP address or CIDR block: write e.g. 8.8.8.8 or 10.0.0.0/8 (${ALL_TRAFFIC} is all traffic).`,
      );
    }
    if (!isDomain(entry))
      throw new Error(
        `"${entry}" is not an IP address, CIDR block or domain: write e.g. 1.1.1.1, 8.8.8.0/24, example.com or *.example.com.`,
      );
  }
  return entries;
}

/** E2B's rule across both lists: allowing domains needs everything else denied. */
export function networkListsProblem(allowOut: string[], denyOut: string[]): string | undefined {
  const domains = allowOut.filter((e) => !isIpOrCidr(e));
  if (domains.length && !denyOut.includes(ALL_TRAFFIC))
    return `Allowing domains (${domains.join(', ')}) only makes sense when everything else is denied: add ${ALL_TRAFFIC} to the deny list.`;
  return undefined;
}

function isIpOrCidr(entry: string): boolean {
  const [addr, prefix, extra] = entry.split('/');
  if (extra !== undefined) return false;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  if (v4) return v4.slice(1).every((o) => Number(o) <= 255) && (prefix === undefined || (/^\d{1,2}$/.test(prefix) && Number(prefix) <= 32));
  const v6 = addr.includes(':') && /^[0-9A-Fa-f:.]+$/.test(addr);
  return v6 && (prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= 128));
}

function isDomain(entry: string): boolean {
  if (entry === '*') return true;
  const name = (entry.startsWith('*.') ? entry.slice(2) : entry).replace(/\.$/, '');
  return name.length > 0 && name.length <= 253 && name.split('.').every((l) => DOMAIN_LABEL.test(l));
}
