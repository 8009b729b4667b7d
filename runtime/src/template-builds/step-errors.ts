// Why a build step failed, in the words of E2B's template builder, so a BuildError reads the same
// here as in the cloud. A command that ran and exited non-zero is reported with its end status
// (Go's "exit status 3", "signal: killed"); a command whose stream broke gets "command failed:".

export interface StepFailure {
  /** The end status of a command that ran to its end. */
  status?: string;
  /** Why the command's stream (or its container) failed before an end status came. */
  streamError?: string;
}

export function failedStepMessage(type: string, args: string[], failure: StepFailure): string {
  const reason = failure.status ?? `command failed: ${failure.streamError ?? 'unknown error'}`;
  switch (type) {
    case 'RUN':
      return `failed to run command '${args[0] ?? ''}': ${reason}`;
    case 'COPY':
      return `failed to move files in sandbox: ${reason}`;
    case 'WORKDIR':
      return `failed to create workdir: ${reason}`;
    case 'USER':
      return `failed to create user: ${reason}`;
    default:
      return `${type} failed: ${reason}`;
  }
}
