// A value as one single-quoted word for sh/bash. The runtime and the extension (its file
// operations over commands) both quote with this one function.
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
