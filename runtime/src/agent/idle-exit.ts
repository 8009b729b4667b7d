// Exits the agent when it has nothing to do, so an idle sandbox costs no agent memory: e2b-init
// (native/init.c) holds the listeners, sees the exit status IDLE_EXIT_STATUS as "sleeping", and
// starts the agent again when a connection waits on one of them. Idle means: no open connection
// (so no request in flight, no stream, no tunnel), nothing in `busy` (processes, PTYs, watchers)
// for the whole idle time. The exit is synchronous from a timer, with zero accepted connections:
// a connection the kernel queued meanwhile stays queued on init's copy of the listener.
import { Server } from 'node:http';
import { Socket } from 'node:net';

/** The status init reads as "idle: start me on the next connection". */
export const IDLE_EXIT_STATUS = 75;

// How often the agent looks at its state; a sandbox sleeps at most this much later than asked.
const MAX_CHECK_INTERVAL_MS = 1000;

export class IdleExit {
  private openConnections = 0;
  private lastBusyAt = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    servers: Server[],
    /** True while some work outlives its connection (a process, a watcher). */
    private readonly busy: () => boolean,
    /** The idle time after which to exit; undefined or 0: never. */
    private readonly idleExitMs: () => number | undefined,
    private readonly exit: () => void,
  ) {
    for (const server of servers) server.on('connection', (socket: Socket) => this.track(socket));
  }

  /** Starts or stops the checks after the setting changed (an /init). */
  update(): void {
    const idleMs = this.idleExitMs();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.lastBusyAt = Date.now();
    if (!idleMs) return;
    this.timer = setInterval(() => this.check(idleMs), Math.max(10, Math.min(MAX_CHECK_INTERVAL_MS, idleMs / 4)));
  }

  private track(socket: Socket): void {
    this.openConnections++;
    this.lastBusyAt = Date.now();
    socket.once('close', () => {
      this.openConnections--;
      this.lastBusyAt = Date.now();
    });
  }

  private check(idleMs: number): void {
    const now = Date.now();
    if (this.openConnections > 0 || this.busy()) this.lastBusyAt = now;
    else if (now - this.lastBusyAt >= idleMs) this.exit();
  }
}
