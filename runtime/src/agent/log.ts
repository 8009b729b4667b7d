// The agent logs to stderr: init points it at /run/e2b-agent/agent.log, on the sandbox's own
// tmpfs, which the host reads through the agent (GET /logs). Bounded here, so a busy agent never
// fills the tmpfs; failures to log are never the agent's death.
import { fstatSync, ftruncateSync, writeSync } from 'node:fs';

const STDERR = 2;
const MAX_LOG_BYTES = 4 * 1024 * 1024;
const CHECK_EVERY_LINES = 200;
let lines = 0;

export function log(message: string): void {
  try {
    if (++lines % CHECK_EVERY_LINES === 0 && fstatSync(STDERR).size > MAX_LOG_BYTES) ftruncateSync(STDERR, 0);
    writeSync(STDERR, `[e2b-agent] ${new Date().toISOString()} ${message}\n`);
  } catch {
    // a full or closed log
  }
}
