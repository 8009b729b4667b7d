// The explorer's filter: which states, which metadata. Kept per workspace.
import type { SandboxState } from 'e2b';

export interface SandboxFilter {
  states: SandboxState[];
  metadata: Record<string, string>;
}

export const NO_FILTER: SandboxFilter = { states: [], metadata: {} };

export function isFiltered(filter: SandboxFilter): boolean {
  return filter.states.length > 0 || Object.keys(filter.metadata).length > 0;
}

export function describeFilter(filter: SandboxFilter): string {
  const parts: string[] = [];
  if (filter.states.length) parts.push(filter.states.join(' or '));
  const meta = Object.entries(filter.metadata).map(([k, v]) => `${k}=${v}`);
  if (meta.length) parts.push(meta.join(', '));
  return parts.join('; ');
}
