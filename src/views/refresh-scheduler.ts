// Polls only while the view is visible: a setTimeout chain with one request in flight, requests
// made meanwhile merged into one follow-up, and exponential back-off on errors (capped, so a
// server that comes back, or a rate limit that lifts, is noticed without the user doing
// anything). A server that stops answering is retried soon at first (1 s, 2 s, 4 s…): most
// outages are a restart, noticed within seconds. `maxConsecutiveErrors`, when given, stops
// polling until the user refreshes by hand.
export interface RefreshSchedulerOptions {
  intervalMs: () => number;
  maxBackoffMs?: number;
  maxConsecutiveErrors?: number;
  debounceMs?: number;
  /** True when the last failure was the server not answering (worth retrying soon). */
  retrySoon?: () => boolean;
  /** The first quick retry after such a failure; doubles from there (default 1000 ms). */
  firstRetryMs?: number;
}

const DEFAULT_MAX_BACKOFF_MS = 30_000;
const DEFAULT_FIRST_RETRY_MS = 1000;

/**
 * The wait before the next refresh after `consecutiveErrors` failures in a row: the interval
 * when all is well; after errors, doubling from the first quick retry (an unreachable server) or
 * from the interval (anything else: a rate limit must not be hammered); capped either way.
 */
export function nextRefreshDelay(
  consecutiveErrors: number,
  intervalMs: number,
  options: { retrySoon?: boolean; firstRetryMs?: number; maxBackoffMs?: number } = {},
): number {
  if (consecutiveErrors === 0) return intervalMs;
  const cap = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
  if (options.retrySoon) return Math.min((options.firstRetryMs ?? DEFAULT_FIRST_RETRY_MS) * 2 ** (consecutiveErrors - 1), cap);
  return Math.min(intervalMs * 2 ** consecutiveErrors, cap);
}

export class RefreshScheduler {
  private visible = false;
  private running = false;
  private again = false;
  private timer?: ReturnType<typeof setTimeout>;
  private debounceTimer?: ReturnType<typeof setTimeout>;
  private consecutiveErrors = 0;
  private disposed = false;

  /** `task` resolves true when the refresh worked. */
  constructor(
    private readonly task: () => Promise<boolean>,
    private readonly options: RefreshSchedulerOptions,
  ) {}

  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible) this.refreshNow();
    else this.clearTimer();
  }

  /** A user asked: run at once, and forget earlier errors. */
  refreshNow(): void {
    this.consecutiveErrors = 0;
    void this.run();
  }

  /** Something changed in the background: refresh soon, coalescing bursts. */
  refreshSoon(): void {
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      void this.run();
    }, this.options.debounceMs ?? 500);
  }

  get errorCount(): number {
    return this.consecutiveErrors;
  }

  private async run(): Promise<void> {
    if (this.disposed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.clearTimer();
    this.running = true;
    try {
      const ok = await this.task().catch(() => false);
      this.consecutiveErrors = ok ? 0 : this.consecutiveErrors + 1;
    } finally {
      this.running = false;
    }
    if (this.again) {
      this.again = false;
      void this.run();
      return;
    }
    this.schedule();
  }

  private schedule(): void {
    if (!this.visible || this.disposed) return;
    const interval = this.options.intervalMs();
    if (interval <= 0) return;
    if (this.consecutiveErrors >= (this.options.maxConsecutiveErrors ?? Infinity)) return;
    const delay = nextRefreshDelay(this.consecutiveErrors, interval, {
      retrySoon: this.consecutiveErrors > 0 && (this.options.retrySoon?.() ?? false),
      firstRetryMs: this.options.firstRetryMs,
      maxBackoffMs: this.options.maxBackoffMs,
    });
    this.timer = setTimeout(() => void this.run(), delay);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.clearTimer();
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
  }
}
