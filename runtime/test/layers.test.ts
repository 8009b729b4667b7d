// The runtime's layers (the folders and top-level modules of src/) import one another in one
// direction only: a layer that imports another is never imported back by it, directly or round a
// loop. Read from the source's import lines, so it runs anywhere in milliseconds.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(__dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** A file's layer: its top folder below src/, or the top-level module's name. */
function layerOf(path: string): string {
  const parts = relative(SRC, path).split('/');
  return parts.length === 1 ? parts[0].replace(/\.ts$/, '') : parts[0];
}

/** layer → the layers it imports, each with one file-level import that shows it. */
function layerImports(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(SRC)) {
    for (const match of readFileSync(file, 'utf8').matchAll(/(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gs)) {
      const target = resolve(dirname(file), match[1]);
      const [from, to] = [layerOf(file), layerOf(target)];
      if (from === to) continue;
      const edges = graph.get(from) ?? new Map<string, string>();
      if (!edges.has(to)) edges.set(to, `${relative(SRC, file)} imports ${match[1]}`);
      graph.set(from, edges);
    }
  }
  return graph;
}

/** A loop in the graph as the imports that make it, or undefined when there is none. */
function findCycle(graph: Map<string, Map<string, string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (layer: string): string[] | undefined => {
    if (state.get(layer) === 'done') return undefined;
    if (state.get(layer) === 'open') return path.slice(path.indexOf(layer));
    state.set(layer, 'open');
    path.push(layer);
    for (const next of graph.get(layer)?.keys() ?? []) {
      const loop = visit(next);
      if (loop) return loop;
    }
    path.pop();
    state.set(layer, 'done');
    return undefined;
  };
  for (const layer of graph.keys()) {
    const loop = visit(layer);
    if (loop) return loop.map((l, i) => graph.get(l)!.get(loop[(i + 1) % loop.length])!);
  }
  return undefined;
}

describe('runtime layers', () => {
  it('import one another without a loop', () => {
    const cycle = findCycle(layerImports());
    assert.equal(cycle, undefined, `layers import each other round a loop:\n  ${cycle?.join('\n  ')}`);
  });
});
