// Waits until a runtime says its warm pool for a template is full again (its "warm pool: N
// <template> sandbox(es) ready" log line), so a benchmark knows that its next create is served warm.
import { RuntimeProcess } from '../test/helpers/runtime-process';

export class PoolWatch {
  /** Output offset after which the pool must (again) report itself full. */
  private from = 0;

  constructor(
    private readonly runtime: RuntimeProcess,
    private readonly template: string,
    private readonly size: number,
  ) {}

  /** Waits for a full pool, then marks the moment: the create that follows takes from it. */
  async waitFull(): Promise<void> {
    await this.runtime.waitForOutput(`warm pool: ${this.size} ${this.template} sandbox(es) ready`, this.from, 600_000);
    this.from = this.runtime.output.length;
  }
}
