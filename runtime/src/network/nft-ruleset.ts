// The nftables table that enforces every sandbox's egress, in the host's network namespace where
// sandbox root cannot touch it. It is written whole and swapped in atomically on every change.
import { ALWAYS_DENIED, EgressPolicy } from './egress-policy';

export const PROXY_PORTS = { http: 15080, tls: 15443 } as const;
export const DNS_PORT = 53;

export interface SandboxLink {
  iface: string;
  hostIp: string;
  peerIp: string;
  policy: EgressPolicy;
}
export interface RulesetInput {
  table: string;
  sandboxes: SandboxLink[];
  /** netns uplinks: sandbox traffic may leave through this interface only. */
  uplinkIface?: string;
  /** netns uplinks: the runtime's own DNS and proxy traffic, which must also leave through it only. */
  uplinkHostIp?: string;
}

const set = (cidrs: string[]) => `{ ${cidrs.join(', ')} }`;

export function nftRuleset(input: RulesetInput): string {
  const { table, sandboxes } = input;
  const pre: string[] = [];
  const inp: string[] = [];
  const fwd: string[] = [];
  const post: string[] = [];
  const chains: string[] = [];
  sandboxes.forEach((s, i) => {
    const name = `"${s.iface}"`;
    const { allowCidrs, denyCidrs, domains } = s.policy;
    if (domains.length && denyCidrs.length) {
      // Ports 80 and 443 of denied addresses go to the runtime's proxy, which lets allowed names through.
      const match = `ip daddr != ${set(ALWAYS_DENIED)}${allowCidrs.length ? ` ip daddr != ${set(allowCidrs)}` : ''} ip daddr ${set(denyCidrs)}`;
      pre.push(`iifname ${name} tcp dport 80 ${match} dnat ip to ${s.hostIp}:${PROXY_PORTS.http}`);
      pre.push(`iifname ${name} tcp dport 443 ${match} dnat ip to ${s.hostIp}:${PROXY_PORTS.tls}`);
    }
    inp.push(`iifname ${name} ip saddr ${s.peerIp} ip daddr ${s.hostIp} udp dport ${DNS_PORT} accept`);
    inp.push(
      `iifname ${name} ip saddr ${s.peerIp} ip daddr ${s.hostIp} tcp dport { ${PROXY_PORTS.http}, ${PROXY_PORTS.tls} } ct status dnat accept`,
    );
    inp.push(`iifname ${name} drop`);
    fwd.push(`iifname ${name} jump out_${i}`);
    fwd.push(`oifname ${name} ct state established,related accept`);
    fwd.push(`oifname ${name} drop`);
    post.push(`ip saddr ${s.peerIp} oifname != "e2bv*" masquerade`);
    chains.push(
      [
        `chain out_${i} {`,
        // The sandbox owns its side of the link and may set any address on it: only its own passes.
        `  ip saddr != ${s.peerIp} drop`,
        `  meta nfproto != ipv4 drop`,
        ...(input.uplinkIface ? [`  oifname != "${input.uplinkIface}" drop`] : []),
        `  ip daddr ${set(ALWAYS_DENIED)} drop`,
        ...(allowCidrs.length ? [`  ip daddr ${set(allowCidrs)} accept`] : []),
        ...(denyCidrs.length ? [`  ip daddr ${set(denyCidrs)} drop`] : []),
        `  accept`,
        `}`,
      ].join('\n'),
    );
  });
  const out = input.uplinkHostIp && input.uplinkIface ? [`ip saddr ${input.uplinkHostIp} oifname != "${input.uplinkIface}" drop`] : [];
  // The uplink's namespace answers connections; it never starts one through the host.
  if (input.uplinkIface)
    fwd.push(`iifname "${input.uplinkIface}" ct state established,related accept`, `iifname "${input.uplinkIface}" drop`);
  const chain = (name: string, hook: string, rules: string[]) => `chain ${name} {\n  ${hook}\n${rules.map((r) => `  ${r}`).join('\n')}\n}`;
  return [
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    chain('prerouting', 'type nat hook prerouting priority dstnat; policy accept;', pre),
    chain('input', 'type filter hook input priority filter; policy accept;', inp),
    chain('forward', 'type filter hook forward priority filter; policy accept;', fwd),
    chain('postrouting', 'type nat hook postrouting priority srcnat; policy accept;', post),
    chain('output', 'type filter hook output priority filter; policy accept;', out),
    ...chains,
    `}`,
    '',
  ].join('\n');
}
