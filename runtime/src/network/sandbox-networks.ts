// Gives each sandbox its own link to the host and enforces its egress there: a veth created into
// the netns crun made (the host end stays in the host's netns, where sandbox root cannot reach it),
// a /30 of its own, NAT out through the uplink, the nftables table of nft-ruleset.ts, and the DNS
// forwarder and domain proxy its rules need. With the uplink 'none' nothing is created: sandboxes
// keep loopback only.
import { createHash } from 'node:crypto';
import { existsSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DnsForwarder, nameserversOf, Upstream } from './dns-forwarder';
import { DomainProxy } from './domain-proxy';
import { domainAllowed, EgressPolicy, egressPolicyOf, NetworkSettings, resolvesFor } from './egress-policy';
import { ifaceExists, run, setIfaceSysctl } from './host-commands';
import { DNS_PORT, nftRuleset, PROXY_PORTS } from './nft-ruleset';
import { claimsOf, claimSlot, releaseSlot, slotAddresses, SlotAddresses } from './slots';
import { Uplink } from './uplink';

const UPLINK_OWNER = '.uplink';
const RULE_PRIORITY = '1000';
/** Where the sandbox's resolv.conf lives in its (host-owned) sandbox directory. */
const RESOLV_CONF = 'resolv.conf';

interface Attached {
  addresses: SlotAddresses;
  policy: EgressPolicy;
  dns?: DnsForwarder;
  proxy?: DomainProxy;
}

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export class SandboxNetworks {
  private readonly runtimeId: string;
  private readonly table: string;
  private readonly routeTable: string;
  private readonly sandboxes = new Map<string, Attached>();
  private uplinkLink?: SlotAddresses;
  private writing: Promise<unknown> = Promise.resolve();

  constructor(
    readonly uplink: Uplink,
    dataDir: string,
    private readonly log: (line: string) => void,
  ) {
    const hash = createHash('sha256')
      .update(existsSync(dataDir) ? realpathSync(dataDir) : dataDir)
      .digest('hex');
    this.runtimeId = hash.slice(0, 12);
    this.table = `e2b_${hash.slice(0, 8)}`;
    this.routeTable = String(20000 + (parseInt(hash.slice(0, 6), 16) % 10000));
  }

  get enabled(): boolean {
    return this.uplink.kind !== 'none';
  }

  /** Brings up the uplink and an empty rule table; sandboxes are added by attach or adopt. */
  async start(): Promise<void> {
    if (!this.enabled) return;
    await this.writeRules().catch((err: Error) => {
      throw new Error(
        `sandbox egress needs nftables (${err.message}): install it (bash scripts/setup.sh does), or start with --uplink none for sandboxes with loopback only`,
      );
    });
    if (this.uplink.kind === 'host') {
      // Replies coming in on the host's own interfaces are forwarded too: the host-wide switch.
      writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
    } else if (this.uplink.kind === 'netns') {
      // A runtime that cannot bring its uplink up leaves no table behind it.
      await this.startNetnsUplink(this.uplink.name).catch(async (err) => {
        if (this.sandboxes.size === 0) await this.close();
        throw err;
      });
    }
  }

  /** Claims the sandbox's addresses and writes its resolv.conf; the mount it needs is returned. */
  prepare(id: string, sandboxDir: string): OciMount[] {
    if (!this.enabled) return [];
    const existing = [...claimsOf(this.runtimeId)].find(([, owner]) => owner.name === id);
    const slot = existing?.[0] ?? claimSlot((n) => ({ runtime: this.runtimeId, name: id, iface: `e2bv${n}` }), ifaceExists);
    const addresses = slotAddresses(slot, `e2bv${slot}`);
    const file = join(sandboxDir, RESOLV_CONF);
    writeFileSync(file, `nameserver ${addresses.hostIp}\n`);
    this.sandboxes.set(id, { addresses, policy: egressPolicyOf({ network: { denyOut: ['0.0.0.0/0'] } }) });
    return [{ destination: '/etc/resolv.conf', type: 'bind', source: file, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] }];
  }

  /** Links the sandbox whose init is `pid` to the host, under the rules `settings` ask for. */
  async attach(id: string, pid: number, settings: NetworkSettings): Promise<void> {
    const entry = this.sandboxes.get(id);
    if (!this.enabled || !entry) return;
    const { hostIface, hostIp, peerIp } = entry.addresses;
    entry.policy = egressPolicyOf(settings);
    if (ifaceExists(hostIface)) await run('ip', ['link', 'del', hostIface]);
    // One `ip` per side: each exec costs milliseconds on a busy host.
    const viaUplink = this.uplink.kind === 'netns' ? `rule add from ${peerIp} lookup ${this.routeTable} priority ${RULE_PRIORITY}\n` : '';
    await run(
      'ip',
      ['-batch', '-'],
      `link add ${hostIface} type veth peer name eth0 netns ${pid}\naddr add ${hostIp}/30 dev ${hostIface}\n${viaUplink}`,
    );
    setIfaceSysctl('ipv6', hostIface, 'disable_ipv6', '1');
    setIfaceSysctl('ipv4', hostIface, 'rp_filter', '1');
    await run(
      'nsenter',
      [`--net=/proc/${pid}/ns/net`, 'ip', '-batch', '-'],
      `addr add ${peerIp}/30 dev eth0\nlink set eth0 up\nroute add default via ${hostIp}\n`,
    );
    // The rules are in place before a single packet can be forwarded.
    await this.writeRules();
    await run('ip', ['link', 'set', hostIface, 'up']);
    setIfaceSysctl('ipv4', hostIface, 'forwarding', '1');
    await this.listen(id, entry);
  }

  /** New egress settings for an attached sandbox (updateNetwork, hand-out of a pooled sandbox). */
  async apply(id: string, settings: NetworkSettings): Promise<void> {
    const entry = this.sandboxes.get(id);
    if (!entry) return;
    const policy = egressPolicyOf(settings);
    if (JSON.stringify(policy) === JSON.stringify(entry.policy)) return;
    entry.policy = policy;
    await this.writeRules();
  }

  /** Removes the sandbox's link, rules and listeners; its netns (and the veth's peer) went with its container. */
  async detach(id: string): Promise<void> {
    const entry = this.sandboxes.get(id);
    const claim = [...claimsOf(this.runtimeId)].find(([, owner]) => owner.name === id);
    if (!entry && !claim) return;
    const addresses = entry?.addresses ?? slotAddresses(claim![0], `e2bv${claim![0]}`);
    entry?.dns?.close();
    entry?.proxy?.close();
    this.sandboxes.delete(id);
    if (ifaceExists(addresses.hostIface)) await run('ip', ['link', 'del', addresses.hostIface]).catch(() => undefined);
    if (this.uplink.kind === 'netns') await this.deleteRule(addresses.peerIp);
    await this.writeRules();
    releaseSlot(addresses.slot);
  }

  /** After a restart: takes back the links of sandboxes still running, removes the rest. */
  async adopt(running: Map<string, NetworkSettings>): Promise<void> {
    const claims = claimsOf(this.runtimeId);
    // Started without an uplink after a run with one: its links and table go (sandboxes keep loopback).
    if (!this.enabled && claims.size > 0)
      this.log(`network: no uplink now: removing the links of ${claims.size} sandbox(es) from an earlier run`);
    for (const [slot, owner] of claims) {
      if (owner.name === UPLINK_OWNER) continue;
      const addresses = slotAddresses(slot, `e2bv${slot}`);
      const settings = running.get(owner.name);
      if (this.enabled && settings && ifaceExists(addresses.hostIface)) {
        const entry: Attached = { addresses, policy: egressPolicyOf(settings) };
        this.sandboxes.set(owner.name, entry);
        await this.listen(owner.name, entry);
      } else {
        this.sandboxes.set(owner.name, { addresses, policy: egressPolicyOf({}) });
        await this.detach(owner.name);
      }
    }
    if (!this.enabled && claims.size > 0) await run('nft', ['delete', 'table', 'inet', this.table]).catch(() => undefined);
    await this.writeRules();
    if (this.uplink.kind === 'netns') for (const { addresses } of this.sandboxes.values()) await this.routeThroughUplink(addresses.peerIp);
  }

  /** On shutdown: listeners close; links and rules stay for running sandboxes, or all go if none is left. */
  async close(): Promise<void> {
    for (const entry of this.sandboxes.values()) {
      entry.dns?.close();
      entry.proxy?.close();
    }
    if (this.sandboxes.size > 0 || !this.enabled) return;
    await this.writing;
    await run('nft', ['delete', 'table', 'inet', this.table]).catch(() => undefined);
    if (this.uplinkLink) {
      await this.deleteRule(this.uplinkLink.hostIp);
      await run('ip', ['route', 'flush', 'table', this.routeTable]).catch(() => undefined);
      if (ifaceExists(this.uplinkLink.hostIface)) await run('ip', ['link', 'del', this.uplinkLink.hostIface]).catch(() => undefined);
      releaseSlot(this.uplinkLink.slot);
    }
  }

  /** What DNS and the proxy use to ask and connect upstream: through the uplink, never around it. */
  private upstream(): Upstream {
    if (this.uplink.kind === 'netns') {
      // Without the uplink's address a query would take the host's own routes: ask nobody then.
      if (!this.uplinkLink) return { servers: [] };
      return { servers: nameserversOf(`/etc/netns/${this.uplink.name}/resolv.conf`), localAddress: this.uplinkLink.hostIp };
    }
    return { servers: nameserversOf('/etc/resolv.conf') };
  }

  private async listen(id: string, entry: Attached): Promise<void> {
    const policy = () => this.sandboxes.get(id)?.policy ?? entry.policy;
    const dns = new DnsForwarder(
      entry.addresses.hostIp,
      () => this.upstream(),
      (name) => resolvesFor(policy(), name),
    );
    const proxy = new DomainProxy(entry.addresses.hostIp, {
      upstream: () => this.upstream(),
      mayConnect: (name) => domainAllowed(policy(), name),
    });
    try {
      await dns.start(DNS_PORT);
      await proxy.start(PROXY_PORTS);
    } catch (err) {
      dns.close();
      proxy.close();
      throw new Error(`sandbox ${id}: cannot serve its DNS and proxy on ${entry.addresses.hostIp}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    entry.dns = dns;
    entry.proxy = proxy;
  }

  private writeRules(): Promise<void> {
    // No uplink: no table at all (nftables need not even be installed).
    if (!this.enabled) return Promise.resolve();
    const write = this.writing
      .catch(() => undefined)
      .then(() =>
        run(
          'nft',
          ['-f', '-'],
          nftRuleset({
            table: this.table,
            sandboxes: [...this.sandboxes.values()].map((s) => ({
              iface: s.addresses.hostIface,
              hostIp: s.addresses.hostIp,
              peerIp: s.addresses.peerIp,
              policy: s.policy,
            })),
            uplinkIface: this.uplink.kind === 'netns' ? `e2bu${this.runtimeId.slice(0, 8)}` : undefined,
            uplinkHostIp: this.uplinkLink?.hostIp,
          }),
        ),
      );
    this.writing = write;
    return write.then(() => undefined);
  }

  private async startNetnsUplink(netns: string): Promise<void> {
    if (!existsSync(`/run/netns/${netns}`))
      throw new Error(`--uplink netns:${netns}: there is no network namespace ${netns} (ip netns add ${netns})`);
    const iface = `e2bu${this.runtimeId.slice(0, 8)}`;
    const claimed = [...claimsOf(this.runtimeId)].find(([, owner]) => owner.name === UPLINK_OWNER)?.[0];
    const slot = claimed ?? claimSlot(() => ({ runtime: this.runtimeId, name: UPLINK_OWNER, iface }), ifaceExists);
    const link = slotAddresses(slot, iface);
    this.uplinkLink = link;
    if (ifaceExists(iface)) await run('ip', ['link', 'del', iface]);
    await run('ip', ['-n', netns, 'link', 'del', iface]).catch(() => undefined);
    await run('ip', ['link', 'add', iface, 'type', 'veth', 'peer', 'name', iface, 'netns', netns]);
    await run('ip', ['addr', 'add', `${link.hostIp}/30`, 'dev', iface]);
    setIfaceSysctl('ipv6', iface, 'disable_ipv6', '1');
    await run('ip', ['-n', netns, '-batch', '-'], `addr add ${link.peerIp}/30 dev ${iface}\nlink set ${iface} up\n`);
    await this.writeRules();
    await run('ip', ['link', 'set', iface, 'up']);
    setIfaceSysctl('ipv4', iface, 'forwarding', '1');
    // Sandbox traffic and the runtime's own upstream traffic use this table: out through the
    // namespace or nowhere (the unreachable route stays if the link goes, so nothing falls back
    // to the host's routing).
    await run('ip', ['route', 'flush', 'table', this.routeTable]).catch(() => undefined);
    await run('ip', ['route', 'add', 'unreachable', 'default', 'metric', '4000', 'table', this.routeTable]);
    await run('ip', ['route', 'add', 'default', 'via', link.peerIp, 'dev', iface, 'table', this.routeTable]);
    await this.routeThroughUplink(link.hostIp);
    this.log(`network: sandboxes reach the outside through network namespace ${netns} only`);
  }

  private async routeThroughUplink(source: string): Promise<void> {
    await this.deleteRule(source);
    await run('ip', ['rule', 'add', 'from', source, 'lookup', this.routeTable, 'priority', RULE_PRIORITY]);
  }

  private async deleteRule(source: string): Promise<void> {
    // Only rules a crashed runtime left are there to delete: look before running `ip rule del`.
    if (!(await run('ip', ['rule', 'show', 'from', source])).includes(`lookup ${this.routeTable}`)) return;
    for (let i = 0; i < 4; i++) {
      if (
        !(await run('ip', ['rule', 'del', 'from', source, 'lookup', this.routeTable, 'priority', RULE_PRIORITY]).then(
          () => true,
          () => false,
        ))
      )
        return;
    }
  }
}
