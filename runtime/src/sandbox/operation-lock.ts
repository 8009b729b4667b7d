// One lifecycle operation at a time per sandbox: create's hand-out, pause, resume, connect, kill,
// setTimeout, network updates, snapshots and forks, and the sweeper's expiry kills and auto-pauses
// all queue here, so none of them sees a sandbox half-way through another's change.

export class OperationLock {
  /** Per sandbox: the last queued operation, settled (never rejected) once it is done. */
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `operation` once every earlier operation on the sandbox has finished, with its result. */
  run<T>(sandboxId: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(sandboxId) ?? Promise.resolve();
    const result = previous.then(operation);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(sandboxId, tail);
    // Only the last operation clears the entry: an earlier one finishing must not free a later one's lock.
    void tail.then(() => {
      if (this.tails.get(sandboxId) === tail) this.tails.delete(sandboxId);
    });
    return result;
  }

  /** Whether an operation on the sandbox is running or queued. */
  busy(sandboxId: string): boolean {
    return this.tails.has(sandboxId);
  }
}
