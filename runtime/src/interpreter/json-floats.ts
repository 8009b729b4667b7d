// JSON that keeps whole floats floats. Python kernels write the float 1.0 as `1.0`; JSON.parse
// makes it 1 and JSON.stringify writes `1`, which E2B's Python SDK then reads as an int (chart
// ticks and points, DataFrame values). Results are parsed with this instead, which keeps such
// numbers as JsonFloat, and the /execute lines are written with it, which writes them back as the
// kernel did.
import { randomUUID } from 'node:crypto';

/** A float whose value is whole, with the literal the kernel wrote (`1.0`, `1e+20`). */
export class JsonFloat {
  constructor(readonly literal: string) {}
  valueOf(): number {
    return Number(this.literal);
  }
}

// Strings first, so that digits inside them are never taken for numbers.
const TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
/** Marks a JsonFloat while it passes through JSON.parse / JSON.stringify (unguessable, per process). */
const MARK = `\u0000e2b-float-${randomUUID()}:`;
const MARK_KEY = JSON.stringify(MARK);
const MARKED = new RegExp(`"${escapeRegExp(MARK_KEY.slice(1, -1))}([^"]*)"`, 'g');

/** Would JSON.stringify write this float literal without a fraction or exponent? */
function losesFloatness(literal: string): boolean {
  if (!/[.eE]/.test(literal)) return false;
  const value = Number(literal);
  return Number.isFinite(value) && !/[.eE]/.test(String(value));
}

export function parseKeepingFloats(text: string): unknown {
  let marked = false;
  const rewritten = text.replace(TOKEN, (token) => {
    if (token.startsWith('"') || !losesFloatness(token)) return token;
    marked = true;
    return `{${MARK_KEY}:"${token}"}`;
  });
  if (!marked) return JSON.parse(text);
  return JSON.parse(rewritten, (_key, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === MARK) return new JsonFloat((value as Record<string, string>)[MARK]);
    }
    return value;
  });
}

export function stringifyKeepingFloats(value: unknown): string {
  let marked = false;
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (item instanceof JsonFloat) {
      marked = true;
      return MARK + item.literal;
    }
    return item;
  });
  return marked ? text.replace(MARKED, '$1') : text;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
