// Interrupting a code context's running cell, as Jupyter does: SIGINT to its kernel, found by
// the kernel id in its connection file name (kernel-<id>.json), as root.
import type { Sandbox as InterpreterSandbox } from '@e2b/code-interpreter';

export async function interruptContext(sandbox: InterpreterSandbox, contextId: string): Promise<void> {
  if (!/^[A-Za-z0-9-]+$/.test(contextId)) throw new Error(`unexpected context id ${contextId}`);
  await sandbox.commands.run(`pkill -INT -f 'kernel-${contextId}' || true`, { user: 'root' });
}
