// The /execute response stream: NDJSON lines written in batches. Every write costs a syscall here
// and a wakeup plus a read and a write in each hop behind us (the agent's tunnel, the host's
// gateway, the client), so the headers and the lines of one short cell leave as one write, and a
// long cell's output still reaches the client at most BATCH_MS after it was produced.
import { ServerResponse } from 'node:http';

/** How long a written line (or the headers, from the start) may wait for more to go with it. */
export const BATCH_MS = 5;

export class NdjsonStream {
  private pending = '';
  private timer?: NodeJS.Timeout;
  private headersSent = false;

  /** The headers must have been set with `writeHead`; they go out with the first batch. */
  constructor(
    private readonly res: ServerResponse,
    private readonly batchMs = BATCH_MS,
  ) {
    this.timer = setTimeout(() => this.flush(), this.batchMs);
  }

  /** Queues one line (without its newline); it is sent within `batchMs`. */
  write(line: string): void {
    this.pending += `${line}\n`;
    this.timer ??= setTimeout(() => this.flush(), this.batchMs);
  }

  /** Sends what is queued, and `last` after it, and ends the response. */
  end(last: string): void {
    this.cancel();
    this.res.end(`${this.pending}${last}\n`);
    this.pending = '';
  }

  /** Drops what is queued (the client is gone). */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private flush(): void {
    this.timer = undefined;
    if (this.res.writableEnded || this.res.destroyed) return;
    if (this.pending) this.res.write(this.pending);
    else if (!this.headersSent) this.res.flushHeaders();
    this.headersSent = true;
    this.pending = '';
  }
}
