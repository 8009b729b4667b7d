// Parsers for what users type into the commands' input boxes (no VS Code API, so unit tests run
// them directly). Each throws an Error whose message says how to write it, which validateInput
// shows as it is typed (inputs.ts problemOf).

/** Parses "k=v, k2=v2" (or one per line) into a map; throws with a message on bad input. */
export function parseKeyValueList(text: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text
    .split(/[,\n]/)
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`"${part}" is not KEY=VALUE: write ${what} as key=value, separated by commas.`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** Validation for env var names (POSIX-ish, as shells accept them). */
export function invalidEnvVarNames(vars: Record<string, string>): string[] {
  return Object.keys(vars).filter((k) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
}
