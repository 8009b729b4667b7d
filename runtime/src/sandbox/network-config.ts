// A sandbox's network settings as E2B's API takes them (`network` on create, PUT
// /sandboxes/{id}/network; server/network-input.ts checks them) and as SandboxDetail reports
// them. allowOut/denyOut are enforced on the host by src/network/ (with an uplink); `rules` and
// `egressProxy` are stored and reported only. `maskRequestHost` and `allowPublicTraffic` are
// enforced by the gateway.
import { isIP } from 'node:net';

export interface NetworkRule {
  transform?: { headers?: Record<string, string> };
}
export interface EgressProxy {
  address: string;
  username?: string;
  password?: string;
}

export interface SandboxNetwork {
  allowOut?: string[];
  denyOut?: string[];
  rules?: Record<string, NetworkRule[]>;
  egressProxy?: EgressProxy;
  allowPublicTraffic?: boolean;
  maskRequestHost?: string;
}

export interface NetworkUpdate {
  egress: Pick<SandboxNetwork, 'allowOut' | 'denyOut' | 'rules' | 'egressProxy'>;
  allowInternetAccess?: boolean;
}

/** The current settings after an update: new egress settings, the rest (public traffic, host mask) kept. */
export function applyNetworkUpdate(current: SandboxNetwork | undefined, update: NetworkUpdate): SandboxNetwork {
  const kept: SandboxNetwork = {};
  if (current?.allowPublicTraffic !== undefined) kept.allowPublicTraffic = current.allowPublicTraffic;
  if (current?.maskRequestHost !== undefined) kept.maskRequestHost = current.maskRequestHost;
  return { ...kept, ...update.egress };
}

/** A copy of checked settings (a fork's of its source's), in the order a create request's are kept. */
export function copyOfNetwork(network: SandboxNetwork): SandboxNetwork {
  const copy: SandboxNetwork = {};
  if (network.allowOut !== undefined) copy.allowOut = [...network.allowOut];
  if (network.denyOut !== undefined) copy.denyOut = [...network.denyOut];
  if (network.rules !== undefined) copy.rules = structuredClone(network.rules);
  if (network.egressProxy !== undefined) copy.egressProxy = { ...network.egressProxy };
  if (network.allowPublicTraffic !== undefined) copy.allowPublicTraffic = network.allowPublicTraffic;
  if (network.maskRequestHost !== undefined) copy.maskRequestHost = network.maskRequestHost;
  return copy;
}

/** What SandboxDetail shows: everything but the proxy's password. */
export function networkView(network: SandboxNetwork | undefined): object | undefined {
  if (!network) return undefined;
  const { egressProxy, ...rest } = network;
  return egressProxy
    ? { ...rest, egressProxy: { address: egressProxy.address, ...(egressProxy.username ? { username: egressProxy.username } : {}) } }
    : rest;
}

/** The Host the sandbox sees for a request to `port`, when the sandbox masks it. */
export function maskedHost(network: SandboxNetwork | undefined, port: number): string | undefined {
  return network?.maskRequestHost?.split('${PORT}').join(String(port));
}

/** The update's eventData, as upstream records it. */
export function networkEgressEventData(update: NetworkUpdate): Record<string, unknown> {
  const allow = update.egress.allowOut ?? [];
  return {
    network_egress: {
      allowed_cidrs: allow.filter(isIpOrCidr),
      denied_cidrs: update.egress.denyOut ?? [],
      allowed_domains: allow.filter((e) => !isIpOrCidr(e)),
    },
  };
}

/** An IP address or a CIDR block (anything else in allowOut is a domain pattern). */
export function isIpOrCidr(entry: string): boolean {
  if (isIP(entry)) return true;
  const slash = entry.indexOf('/');
  if (slash < 0) return false;
  const addr = entry.slice(0, slash);
  const prefix = entry.slice(slash + 1);
  const family = isIP(addr);
  return family !== 0 && /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}
