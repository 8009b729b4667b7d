// The tests' one way to wait a fixed time (a workbench drawing, a pause between polls). It looks
// setTimeout up when called, so under node:test's mocked timers it runs on the fake clock too.
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
