// Ready-started sandboxes per template, so that a create only has to hand one out: the container,
// its agent and the template's start command are already up; the caller's env vars, metadata and
// access token are applied at hand-out. A pooled sandbox is handed out once and never reused; the
// pool refills in the background, one boot at a time, and only once no create has run for a
// moment, so it never competes with real creates (a burst's hand-outs go on long after its takes).

export interface PooledSandbox {
  id: string;
  /** The image it was booted from: a template rebuilt since then makes the entry stale. */
  rootfs: string;
}

export interface PoolBackend {
  /** Boots a blank sandbox of the template (no caller settings yet); resolves with it. */
  boot(templateID: string): Promise<PooledSandbox | undefined>;
  /** Removes a pooled sandbox that will not be handed out. */
  discard(id: string): Promise<void>;
  /** False when the sandbox died while it waited in the pool. */
  isAlive(id: string): boolean;
  log(line: string): void;
}

/** `base=2,code-interpreter-v1=1` (or repeated flags) → sizes per template; `0` or `none` → empty. */
export function parsePoolSizes(values: string[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const value of values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean)) {
    if (value === '0' || value === 'none') {
      sizes.clear();
      continue;
    }
    const match = /^([^=]+)=(\d+)$/.exec(value);
    if (!match) throw new Error(`--warm-pool: expected TEMPLATE=COUNT, got "${value}"`);
    sizes.set(match[1], Number(match[2]));
  }
  return sizes;
}

const RETRY_AFTER_FAILURE_MS = 30_000;
/** Refills wait this long after the last create ended, so a burst of creates has the cores to itself. */
const REFILL_DELAY_MS = 500;
/**
 * A create still running after this long waits on its own work (a template's ready command), not
 * on the cores: refills stop waiting for it, so one slow create does not leave the pools empty.
 */
const CREATE_HOLDS_REFILLS_MS = 5000;

export class WarmPool {
  private readonly ready = new Map<string, PooledSandbox[]>();
  private readonly filling = new Set<string>();
  private readonly failedAt = new Map<string, number>();
  private readonly refillTimers = new Map<string, NodeJS.Timeout>();
  /** Templates whose pool is short, waiting for the creates in flight to end. */
  private readonly wanted = new Set<string>();
  private creating = 0;
  private stopped = false;
  private current: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly sizes: Map<string, number>,
    private readonly backend: PoolBackend,
  ) {}

  /** Starts filling every configured template's pool. */
  start(): void {
    for (const templateID of this.sizes.keys()) this.refill(templateID);
  }

  /** How many are ready per template (for logs and tests). */
  readyCount(templateID: string): number {
    return this.ready.get(templateID)?.length ?? 0;
  }

  /** A ready sandbox of the template booted from `rootfs`, or undefined (then create cold); called within whileCreating. */
  take(templateID: string, rootfs: string): PooledSandbox | undefined {
    const entries = this.ready.get(templateID) ?? [];
    let taken: PooledSandbox | undefined;
    while (!taken && entries.length > 0) {
      const entry = entries.shift()!;
      if (entry.rootfs === rootfs && this.backend.isAlive(entry.id)) taken = entry;
      else void this.backend.discard(entry.id).catch((err) => this.backend.log(`warm pool: discarding ${entry.id}: ${String(err)}`));
    }
    // Refilled once the create taking it (whileCreating) and any others are over.
    this.wanted.add(templateID);
    return taken;
  }

  /** Runs a create, warm or cold: the pool boots nothing while any runs (up to CREATE_HOLDS_REFILLS_MS). */
  async whileCreating<T>(create: () => Promise<T>): Promise<T> {
    this.creating++;
    for (const timer of this.refillTimers.values()) clearTimeout(timer);
    this.refillTimers.clear();
    let holding = true;
    const release = () => {
      if (!holding) return;
      holding = false;
      this.creating--;
      if (this.creating === 0) for (const templateID of this.wanted) this.refillSoon(templateID);
    };
    const cap = setTimeout(release, CREATE_HOLDS_REFILLS_MS);
    cap.unref();
    try {
      return await create();
    } finally {
      clearTimeout(cap);
      release();
    }
  }

  private refillSoon(templateID: string): void {
    clearTimeout(this.refillTimers.get(templateID));
    const timer = setTimeout(() => {
      this.refillTimers.delete(templateID);
      this.wanted.delete(templateID);
      this.refill(templateID);
    }, REFILL_DELAY_MS);
    timer.unref();
    this.refillTimers.set(templateID, timer);
  }

  /** Stops refilling and removes every pooled sandbox (they belong to no one). */
  async drain(): Promise<void> {
    this.stopped = true;
    for (const timer of this.refillTimers.values()) clearTimeout(timer);
    await this.current.catch(() => undefined);
    const all = [...this.ready.values()].flat();
    this.ready.clear();
    for (const entry of all) await this.backend.discard(entry.id).catch(() => undefined);
  }

  private refill(templateID: string): void {
    const target = this.sizes.get(templateID) ?? 0;
    if (this.stopped || target === 0 || this.filling.has(templateID)) return;
    if (Date.now() - (this.failedAt.get(templateID) ?? 0) < RETRY_AFTER_FAILURE_MS) return;
    this.filling.add(templateID);
    // Boots are chained across templates: one at a time keeps the host's cores for real creates.
    const run = this.current
      .then(async () => {
        while (!this.stopped && this.readyCount(templateID) < target) {
          // A create came meanwhile: the rest waits until it is over.
          if (this.creating > 0) {
            this.wanted.add(templateID);
            return;
          }
          const entry = await this.backend.boot(templateID);
          if (!entry) return;
          if (this.stopped) {
            await this.backend.discard(entry.id);
            return;
          }
          const list = this.ready.get(templateID) ?? [];
          list.push(entry);
          this.ready.set(templateID, list);
        }
        if (!this.stopped) this.backend.log(`warm pool: ${this.readyCount(templateID)} ${templateID} sandbox(es) ready`);
      })
      .catch((err) => {
        this.failedAt.set(templateID, Date.now());
        this.backend.log(`warm pool: cannot boot a ${templateID} sandbox: ${(err as Error).message}`);
      })
      .finally(() => this.filling.delete(templateID));
    this.current = run;
  }
}
