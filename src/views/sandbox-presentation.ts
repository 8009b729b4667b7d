// How a sandbox reads in the explorer and the status bar. Pure functions: no VS Code API here,
// so they are unit-tested directly.
import type { CreateSandboxOptions } from '../connection/sandbox-service';
import { describeNetwork } from './network-rules';
export interface SandboxSummary {
  sandboxId: string;
  templateId: string;
  /** The template's alias (E2B's `name`). */
  name?: string;
  state: 'running' | 'paused' | string;
  startedAt: Date;
  endAt: Date;
  metadata: Record<string, string>;
  cpuCount?: number;
  memoryMB?: number;
  /** The volumes it mounts (E2B's volumeMounts). */
  volumeMounts?: { name: string; path: string }[];
  /** Its egress rules: only in a sandbox's details (getInfo), not in list entries. */
  allowInternetAccess?: boolean;
  network?: { allowOut?: string[]; denyOut?: string[] };
}

/** "45s left", "12m left", "3h 5m left", "expired". */
export function formatTimeLeft(endAt: Date, now: Date = new Date()): string {
  const seconds = Math.floor((endAt.getTime() - now.getTime()) / 1000);
  if (seconds <= 0) return 'expired';
  if (seconds < 60) return `${seconds}s left`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m left`;
  const hours = Math.floor(minutes / 60);
  return `${hours}h ${minutes % 60}m left`;
}

/** Whole minutes until `endAt` (at least 1): what a timeout box offers to keep the time as it is. */
export function minutesLeft(endAt: Date, now: Date = new Date()): number {
  return Math.max(1, Math.round((endAt.getTime() - now.getTime()) / 60_000));
}

export function formatMetadata(metadata: Record<string, string>): string {
  return Object.entries(metadata)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

/**
 * Metadata keys that name a sandbox, in order of preference: a name the user gave, then the
 * document (notebook, file) that made it. The first one present labels the row.
 */
export const SANDBOX_NAME_KEYS = ['name', 'owner', 'ownerDocument', 'document'] as const;

/** The template as people know it: E2B's `name` is the template's alias; the id otherwise. */
export function templateName(s: SandboxSummary): string {
  return s.name || s.templateId;
}

/** The metadata key that names the sandbox, if any. */
function nameKey(s: SandboxSummary): string | undefined {
  return SANDBOX_NAME_KEYS.find((key) => s.metadata[key]?.trim());
}

/** A document's path or URI (file:///…/a.ipynb, untitled:Untitled-1) reads as its file name. */
function documentName(value: string): string {
  const trimmed = value.trim();
  const path = trimmed.replace(/[?#].*$/, '').replace(/\/+$/, '');
  const last = path.includes('/') ? path.slice(path.lastIndexOf('/') + 1) : path.replace(/^[a-z][\w+.-]*:/i, '');
  try {
    return decodeURIComponent(last) || trimmed;
  } catch {
    return last || trimmed;
  }
}

/**
 * What tells sandboxes apart at a narrow width: a name from metadata where there is one, else
 * the template. The id (20 characters that all look alike) is in the tooltip and Copy ID.
 */
export function sandboxLabel(s: SandboxSummary): string {
  const key = nameKey(s);
  if (!key) return templateName(s);
  return key === 'name' ? s.metadata[key].trim() : documentName(s.metadata[key]);
}

/**
 * A list that could not be refreshed: when it was last fetched, and whether the server stopped
 * answering (offline) or answered with an error (a refused key, a rate limit).
 */
export interface StaleState {
  since: Date;
  offline: boolean;
}

/** The view's message line for a stale list: which list is shown, then the error. */
export function staleMessage(stale: StaleState, error: string): string {
  return `${stale.offline ? 'Offline' : 'Not refreshed'}: showing the list from ${formatClock(stale.since)}. ${error}`;
}

/** "14:05": when a stale list was fetched. */
export function formatClock(date: Date): string {
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}

/**
 * State and time left first (they change and matter), then the template when the label is a
 * name, then the rest of the metadata, which may be cut off. A stale row says so first.
 */
export function sandboxDescription(s: SandboxSummary, now: Date = new Date(), stale?: StaleState): string {
  const key = nameKey(s);
  const parts: string[] = [];
  if (stale) parts.push(`${stale.offline ? 'offline, ' : ''}as of ${formatClock(stale.since)}`);
  parts.push(s.state === 'running' ? formatTimeLeft(s.endAt, now) : s.state);
  if (key) parts.push(templateName(s));
  const rest = Object.fromEntries(Object.entries(s.metadata).filter(([k]) => k !== key));
  const meta = formatMetadata(rest);
  if (meta) parts.push(meta);
  return parts.join(' · ');
}

/** Markdown for the tooltip and the info view. */
export function sandboxDetailsMarkdown(s: SandboxSummary, now: Date = new Date(), stale?: StaleState): string {
  const rows: [string, string][] = [
    ...(stale ? [[stale.offline ? 'Offline' : 'Not refreshed', `details as of ${formatClock(stale.since)}`] as [string, string]] : []),
    ['ID', `\`${s.sandboxId}\``],
    ['Template', s.name && s.name !== s.templateId ? `${s.name} (${s.templateId})` : s.templateId],
    ['State', s.state],
    ['Started', s.startedAt.toLocaleString()],
    ['Ends', `${s.endAt.toLocaleString()} (${formatTimeLeft(s.endAt, now)})`],
  ];
  if (s.cpuCount !== undefined) rows.push(['Resources', `${s.cpuCount} vCPU, ${s.memoryMB} MB`]);
  for (const { name, path } of s.volumeMounts ?? []) rows.push(['Volume', `${name} at ${path}`]);
  if (s.allowInternetAccess !== undefined || s.network) rows.push(['Network', describeNetwork(s)]);
  for (const [k, v] of Object.entries(s.metadata)) rows.push([`metadata.${k}`, v]);
  return ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${escapeMarkdownCell(v)} |`)].join('\n');
}

function escapeMarkdownCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** Codicon by state; a row of a stale list shows it could not be checked. */
export function sandboxIcon(state: string, stale = false): string {
  if (stale) return 'debug-disconnect';
  return state === 'paused' ? 'debug-pause' : state === 'running' ? 'vm-running' : 'vm-outline';
}

/** `contextValue`, matched by regex in package.json menus (sandbox.running, sandbox.paused). */
export function sandboxContextValue(state: string): string {
  return `sandbox.${state}`;
}

/** What a sandbox about to be created will be, in one line (the wizard's first choice and summary). */
export function describeNewSandbox(o: CreateSandboxOptions): string {
  const minutes = Math.round((o.timeoutMs / 60_000) * 10) / 10;
  const parts = [o.template, `${minutes} min`, o.autoPause ? 'paused on timeout' : 'killed on timeout'];
  const meta = formatMetadata(o.metadata ?? {});
  if (meta) parts.push(meta);
  const envNames = Object.keys(o.envs ?? {});
  if (envNames.length) parts.push(`env ${envNames.join(', ')}`);
  const mounts = Object.entries(o.volumeMounts ?? {});
  if (mounts.length) parts.push(`volumes ${mounts.map(([path, name]) => `${name} at ${path}`).join(', ')}`);
  if (o.network) parts.push(`network: ${describeNetwork({ allowInternetAccess: o.network.allowInternetAccess, network: o.network })}`);
  return parts.join(' · ');
}

/** How a running command reads: the SDK runs commands as `bash -l -c <command>`, so show the command. */
export function commandLine(process: { cmd: string; args: string[] }): string {
  const { cmd, args } = process;
  if (cmd === '/bin/bash' && args[0] === '-l' && args[1] === '-c') return args.slice(2).join(' ');
  return [cmd, ...args].join(' ');
}

/**
 * Metadata the extension sets on a sandbox it creates for a document (a notebook, Run Selection):
 * the document's name as the user knows it, and its URI (to find the sandbox again on reopening).
 */
export const OWNER_METADATA = { name: 'owner', uri: 'ownerUri' } as const;

/** The document a sandbox was made for ("analysis.ipynb"), from its metadata; undefined when none. */
export function sandboxOwner(metadata: Record<string, string> | undefined): string | undefined {
  return metadata?.[OWNER_METADATA.name] || undefined;
}
