// Reading proto3 JSON as the clients send it: field names in lowerCamelCase or snake_case, int64
// as strings or numbers, enums as names or numbers, bytes as base64. Anything malformed is an
// `invalid_argument` naming the field.
import { ConnectError } from './errors';

export type JsonObject = { [key: string]: unknown };

function invalid(field: string, expected: string): ConnectError {
  return new ConnectError('invalid_argument', `field "${field}" must be ${expected}`);
}

function snakeCase(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The value of a field by its lowerCamelCase name, also found under its snake_case name. null counts as absent. */
export function field(obj: JsonObject, camelName: string): unknown {
  let value = obj[camelName];
  if (value === undefined) {
    const snake = snakeCase(camelName);
    if (snake !== camelName) value = obj[snake];
  }
  return value === null ? undefined : value;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function optionalObject(obj: JsonObject, name: string): JsonObject | undefined {
  const value = field(obj, name);
  if (value === undefined) return undefined;
  if (!isObject(value)) throw invalid(name, 'an object');
  return value;
}

export function optionalString(obj: JsonObject, name: string): string | undefined {
  const value = field(obj, name);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(name, 'a string');
  return value;
}

export function optionalBool(obj: JsonObject, name: string): boolean | undefined {
  const value = field(obj, name);
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalid(name, 'a boolean');
  return value;
}

/** uint32 / int64 fields: JSON numbers or decimal strings. */
export function optionalInteger(obj: JsonObject, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const value = field(obj, name);
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw invalid(name, `an integer between ${min} and ${max}`);
  }
  return n;
}

export function optionalStringArray(obj: JsonObject, name: string): string[] | undefined {
  const value = field(obj, name);
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw invalid(name, 'an array of strings');
  return value as string[];
}

export function optionalStringMap(obj: JsonObject, name: string): Record<string, string> | undefined {
  const value = field(obj, name);
  if (value === undefined) return undefined;
  if (!isObject(value)) throw invalid(name, 'an object of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw invalid(`${name}.${k}`, 'a string');
    out[k] = v;
  }
  return out;
}

const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

/** bytes fields: standard base64 (URL-safe and unpadded accepted too, as protobuf-es does). */
export function optionalBytes(obj: JsonObject, name: string): Buffer | undefined {
  const value = field(obj, name);
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !BASE64.test(value)) throw invalid(name, 'base64');
  return Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
}

/** Enum fields: accepts the value name (e.g. "SIGNAL_SIGKILL") or its number. */
export function optionalEnum(obj: JsonObject, name: string, values: Record<string, number>): number | undefined {
  const value = field(obj, name);
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && Object.prototype.hasOwnProperty.call(values, value)) return values[value];
  throw invalid(name, `one of ${Object.keys(values).join(', ')}`);
}
