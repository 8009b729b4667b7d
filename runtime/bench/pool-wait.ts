// Waits until a runtime says its warm pool for a template is full (the "warm pool: N <template>
// sandbox(es) ready" log line), so a benchmark knows whether a create is served warm.
import { RuntimeProcess } from '../test/helpers/runtime-process';

export async function waitForFullPool(runtime: RuntimeProcess, template: string, size: number, timeoutMs = 600_000): Promise<void> {
  const line = `warm pool: ${size} ${template} sandbox(es) ready`;
  const from = runtime.output.length;
  const deadline = Date.now() + timeoutMs;
  // The pool may already be full (then nothing new is logged): look at the whole log once.
  if (runtime.output.lastIndexOf(line) >= 0 && runtime.output.lastIndexOf(line) >= runtime.output.lastIndexOf(`warm pool:`)) return;
  while (!runtime.output.includes(line, from)) {
    if (Date.now() > deadline) throw new Error(`the ${template} warm pool did not fill to ${size} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
