// The `network` of a create request and the body of PUT /sandboxes/{id}/network, checked the way
// E2B's API checks them (same order, same messages) and turned into the sandbox layer's network
// settings (sandbox/network-config.ts).
import { isIP } from 'node:net';
import { invalidInput } from '../errors';
import { EgressProxy, isIpOrCidr, NetworkRule, NetworkUpdate, SandboxNetwork } from '../sandbox/network-config';

const ALL_TRAFFIC = '0.0.0.0/0';
const DOMAINS_NEED_BLOCK_ALL =
  "When specifying allowed domains in allow out, you must include 'ALL_TRAFFIC' in deny out to block all other traffic.";
const MAX_CREDENTIAL_BYTES = 255;
const DOMAIN_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/** The `network` of a create request; undefined when none was given. */
export function parseCreateNetwork(value: unknown): SandboxNetwork | undefined {
  if (value === undefined || value === null) return undefined;
  const body = objectOf(value, 'network');
  const network: SandboxNetwork = parseEgress(body);
  if (body.allowPublicTraffic !== undefined) network.allowPublicTraffic = booleanOf(body.allowPublicTraffic, 'network.allowPublicTraffic');
  if (body.maskRequestHost !== undefined) network.maskRequestHost = parseMaskRequestHost(body.maskRequestHost);
  return network;
}

/** A SandboxNetworkUpdateConfig body: it replaces every egress setting, and omitted ones are cleared. */
export function parseNetworkUpdate(body: Record<string, unknown>): NetworkUpdate {
  const update: NetworkUpdate = { egress: parseEgress(body) };
  if (body.allow_internet_access !== undefined) update.allowInternetAccess = booleanOf(body.allow_internet_access, 'allow_internet_access');
  return update;
}

function parseEgress(body: Record<string, unknown>): NetworkUpdate['egress'] {
  const egress: NetworkUpdate['egress'] = {};
  if (body.allowOut !== undefined && body.allowOut !== null) egress.allowOut = stringList(body.allowOut, 'allowOut');
  if (body.denyOut !== undefined && body.denyOut !== null) egress.denyOut = stringList(body.denyOut, 'denyOut');
  for (const entry of egress.denyOut ?? []) {
    if (!isSpecifiedIpOrCidr(entry)) throw invalidInput(`invalid denied CIDR ${entry}`);
  }
  const domains: string[] = [];
  for (const entry of egress.allowOut ?? []) {
    if (isIpOrCidr(entry)) {
      if (!isSpecifiedIpOrCidr(entry)) throw invalidInput(`invalid allowed address ${entry}`);
    } else if (isDomainPattern(entry)) {
      domains.push(entry);
    } else {
      throw invalidInput(`invalid allowed address ${entry}`);
    }
  }
  if (domains.length > 0 && !(egress.denyOut ?? []).includes(ALL_TRAFFIC)) throw invalidInput(DOMAINS_NEED_BLOCK_ALL);
  if (body.rules !== undefined && body.rules !== null) egress.rules = parseRules(body.rules);
  if (body.egressProxy !== undefined && body.egressProxy !== null) egress.egressProxy = parseEgressProxy(body.egressProxy);
  return egress;
}

function parseRules(value: unknown): Record<string, NetworkRule[]> {
  const rules: Record<string, NetworkRule[]> = {};
  for (const [domain, list] of Object.entries(objectOf(value, 'rules'))) {
    if (!Array.isArray(list)) throw invalidInput(`rules.${domain} must be an array of rules`);
    rules[domain] = list.map((rule, i): NetworkRule => {
      const where = `rules.${domain}[${i}]`;
      const { transform } = objectOf(rule, where);
      if (transform === undefined || transform === null) return {};
      const { headers } = objectOf(transform, `${where}.transform`);
      if (headers === undefined || headers === null) return { transform: {} };
      const out: Record<string, string> = {};
      for (const [name, v] of Object.entries(objectOf(headers, `${where}.transform.headers`))) {
        if (typeof v !== 'string') throw invalidInput(`${where}.transform.headers.${name} must be a string`);
        out[name] = v;
      }
      return { transform: { headers: out } };
    });
  }
  return rules;
}

function parseEgressProxy(value: unknown): EgressProxy {
  const body = objectOf(value, 'egressProxy');
  if (typeof body.address !== 'string' || !body.address.trim())
    throw invalidInput('Invalid egress proxy config: egress proxy address must not be empty');
  const address = body.address.trim();
  const split = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(address);
  if (!split) throw invalidInput('Invalid egress proxy config: egress proxy address must be in host:port form');
  const host = (split[1] ?? split[2]).toLowerCase();
  const port = Number(split[3]);
  if (port < 1 || port > 65535)
    throw invalidInput(`Invalid egress proxy config: egress proxy port "${split[3]}" is not a valid 1-65535 value`);
  const username = body.username === undefined || body.username === null ? '' : stringOf(body.username, 'egressProxy.username');
  const password = body.password === undefined || body.password === null ? '' : stringOf(body.password, 'egressProxy.password');
  if (!username && password) throw invalidInput('Invalid egress proxy config: egress proxy password must be empty when username is empty');
  if (Buffer.byteLength(username) > MAX_CREDENTIAL_BYTES)
    throw invalidInput(`Invalid egress proxy config: egress proxy username must not exceed ${MAX_CREDENTIAL_BYTES} bytes`);
  if (Buffer.byteLength(password) > MAX_CREDENTIAL_BYTES)
    throw invalidInput(`Invalid egress proxy config: egress proxy password must not exceed ${MAX_CREDENTIAL_BYTES} bytes`);
  return {
    address: isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
  };
}

function parseMaskRequestHost(value: unknown): string {
  const mask = stringOf(value, 'network.maskRequestHost');
  // host, host:port or [v6]:port; ${PORT} stands for the port the request is for.
  const hostname = /^\[[^\]]*\](:.*)?$/.test(mask) ? mask.slice(1, mask.indexOf(']')) : mask.replace(/:[^:]*$/, '');
  if (/[^\x00-\x7f]/.test(hostname)) throw invalidInput(`mask request host '${hostname}' is not ASCII. Please use ASCII characters only.`);
  if (!mask || /[^\x21-\x7e]/.test(mask) || /[/?#@\\]/.test(mask)) throw invalidInput(`mask request host is not valid: ${mask}`);
  return mask;
}

/** An IP or CIDR whose address is not 0.0.0.0 / :: (nftables refuses those), 0.0.0.0/0 aside. */
function isSpecifiedIpOrCidr(entry: string): boolean {
  if (!isIpOrCidr(entry)) return false;
  if (entry === ALL_TRAFFIC) return true;
  const addr = entry.split('/')[0];
  return !(isIP(addr) === 4 ? addr.split('.').every((o) => Number(o) === 0) : /^[0:]+$/.test(addr));
}

/** example.com, *.example.com or * (every domain). */
function isDomainPattern(entry: string): boolean {
  if (entry === '*') return true;
  const name = entry.startsWith('*.') ? entry.slice(2) : entry;
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  return bare.length > 0 && bare.length <= 253 && bare.split('.').every((label) => DOMAIN_LABEL.test(label));
}

function objectOf(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidInput(`${field} must be an object`);
  return value as Record<string, unknown>;
}

function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw invalidInput(`${field} must be an array of strings`);
  return value as string[];
}

function stringOf(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalidInput(`${field} must be a string`);
  return value;
}

function booleanOf(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalidInput(`${field} must be true or false`);
  return value;
}
