// Host-wide claims on sandbox subnets: every interface this runtime (or another runtime on the same
// machine) gives a sandbox or an uplink gets its own /30 out of SANDBOX_RANGE, claimed with an
// exclusive file under /run so two runtimes never hand out the same addresses.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** 10.229.0.0/16: private, so the egress rules deny it to every sandbox whatever its lists say. */
export const SANDBOX_RANGE = '10.229.0.0/16';
const RANGE_BASE = (10 << 24) | (229 << 16);
const SLOT_COUNT = 1 << 14;
const CLAIMS_DIR = '/run/e2b-local/net-slots';
/** A claim whose owner never brought its interface up (a crash mid-create) is reclaimable after this. */
const STALE_CLAIM_MS = 60_000;

export interface SlotAddresses {
  slot: number;
  subnet: string;
  hostIp: string;
  peerIp: string;
  hostIface: string;
}

export function slotAddresses(slot: number, hostIface: string): SlotAddresses {
  const base = RANGE_BASE + slot * 4;
  return { slot, subnet: `${ipv4(base)}/30`, hostIp: ipv4(base + 1), peerIp: ipv4(base + 2), hostIface };
}

export interface SlotOwner {
  runtime: string;
  name: string;
  iface: string;
}

/** Claims a free slot for its owner (given the slot); `ifaceExists` tells a live claim from a stale one. */
export function claimSlot(ownerOf: (slot: number) => SlotOwner, ifaceExists: (iface: string) => boolean): number {
  mkdirSync(CLAIMS_DIR, { recursive: true, mode: 0o700 });
  const taken = new Set(readdirSync(CLAIMS_DIR).map(Number));
  for (let slot = 1; slot < SLOT_COUNT - 1; slot++) {
    if (taken.has(slot) && !reclaimIfStale(slot, ifaceExists)) continue;
    try {
      const fd = openSync(join(CLAIMS_DIR, String(slot)), 'wx', 0o600);
      writeSync(fd, JSON.stringify(ownerOf(slot)));
      closeSync(fd);
      return slot;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`no free sandbox subnet left in ${SANDBOX_RANGE}`);
}

export function releaseSlot(slot: number): void {
  rmSync(join(CLAIMS_DIR, String(slot)), { force: true });
}

/** This runtime's claims: slot → owner. */
export function claimsOf(runtime: string): Map<number, SlotOwner> {
  const out = new Map<number, SlotOwner>();
  let names: string[];
  try {
    names = readdirSync(CLAIMS_DIR);
  } catch {
    return out;
  }
  for (const name of names) {
    const owner = readOwner(Number(name));
    if (owner?.runtime === runtime) out.set(Number(name), owner);
  }
  return out;
}

function readOwner(slot: number): SlotOwner | undefined {
  try {
    return JSON.parse(readFileSync(join(CLAIMS_DIR, String(slot)), 'utf8')) as SlotOwner;
  } catch {
    return undefined;
  }
}

function reclaimIfStale(slot: number, ifaceExists: (iface: string) => boolean): boolean {
  const owner = readOwner(slot);
  try {
    if (Date.now() - statSync(join(CLAIMS_DIR, String(slot))).mtimeMs < STALE_CLAIM_MS) return false;
  } catch {
    return true;
  }
  if (owner && ifaceExists(owner.iface)) return false;
  releaseSlot(slot);
  return true;
}

function ipv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
