// Runs last (files load in name order): no promise the extension's code made was left to reject
// unhandled during the whole suite. The listener is installed when this file loads, which mocha
// does for every file before the first test runs.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXTENSION_ID } from './helpers';

interface Seen {
  reason: string;
  stack: string;
}
const seen: Seen[] = [];
const all: Seen[] = [];

process.on('unhandledRejection', (reason: unknown) => {
  const stack = reason instanceof Error ? `${reason.name}: ${reason.message}\n${reason.stack ?? ''}` : String(reason);
  const entry = { reason: String(reason), stack };
  all.push(entry);
  const extensionPath = vscode.extensions.getExtension(EXTENSION_ID)?.extensionPath;
  // The extension runs from its installed bundle (dist/extension.js under its extension path).
  if ((extensionPath && stack.includes(extensionPath)) || /e2b-sandboxes[^/\\]*[/\\]dist[/\\]extension\.js/.test(stack)) seen.push(entry);
});

describe('Unhandled promise rejections', () => {
  it('none came from the extension during the suite', () => {
    if (all.length > seen.length)
      console.log(
        `(${all.length - seen.length} unhandled rejections from elsewhere: ${all
          .filter((a) => !seen.includes(a))
          .map((a) => a.reason)
          .join('; ')})`,
      );
    // The reason and the extension's own frames (function names) say where to look.
    const where = (s: Seen) =>
      `${s.reason} @ ${s.stack
        .split('\n')
        .filter((l) => /^\s+at /.test(l) && /e2b-sandboxes/.test(l))
        .map((l) =>
          l
            .trim()
            .replace(/^at (async )?/, '')
            .replace(/ \(.*$/, ''),
        )
        .join(' < ')}`;
    assert.deepEqual(seen.map(where), []);
  });
});
