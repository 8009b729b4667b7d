// Identifiers in E2B's formats.
import { randomBytes, randomInt } from 'node:crypto';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** 20 lowercase alphanumerics, like upstream (no '-': host names split on it). */
export function newSandboxId(): string {
  let id = '';
  for (let i = 0; i < 20; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

export function newAccessToken(): string {
  return randomBytes(24).toString('hex');
}
