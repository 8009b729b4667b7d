// A long stream (a cell's output, a terminal) may stay silent for minutes (time.sleep, an idle
// shell). A network that drops without a reset (Wi-Fi gone, VPN down) leaves that stream hanging
// forever, so nothing would ever say the connection is gone. This asks the sandbox's health
// endpoint now and then, on a fresh connection: a few failed answers in a row mean the connection
// is lost. A "not running" answer counts as a failure too (a busy gateway answers 502 as well),
// so one bad moment never ends anything; 'gone' only says what the last answer was.
export type LivenessLoss = 'unreachable' | 'gone';

export interface LivenessOptions {
  intervalMs?: number;
  probeTimeoutMs?: number;
  failuresAllowed?: number;
}

/** Calls `onLost` once, when the probe says so; returns a function that stops watching. */
export function watchLiveness(
  probe: (timeoutMs: number) => Promise<boolean>,
  onLost: (loss: LivenessLoss) => void,
  options: LivenessOptions = {},
): () => void {
  const intervalMs = options.intervalMs ?? 5000;
  const probeTimeoutMs = options.probeTimeoutMs ?? 4000;
  const failuresAllowed = options.failuresAllowed ?? 2;
  let stopped = false;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = async () => {
    let running: boolean | undefined;
    try {
      running = await probe(probeTimeoutMs);
    } catch {
      running = undefined;
    }
    if (stopped) return;
    failures = running ? 0 : failures + 1;
    if (failures > failuresAllowed) {
      stopped = true;
      onLost(running === false ? 'gone' : 'unreachable');
      return;
    }
    timer = setTimeout(() => void check(), intervalMs);
  };
  timer = setTimeout(() => void check(), intervalMs);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
