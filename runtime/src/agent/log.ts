// The agent logs to stderr, which the container's init passes to the host.
export function log(message: string): void {
  process.stderr.write(`[e2b-agent] ${new Date().toISOString()} ${message}\n`);
}
