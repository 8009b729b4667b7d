// How a sandbox reads in the explorer and the status bar. Pure functions: no VS Code API here,
// so they are unit-tested directly.
export interface SandboxSummary {
  sandboxId: string;
  templateId: string;
  state: 'running' | 'paused' | string;
  startedAt: Date;
  endAt: Date;
  metadata: Record<string, string>;
  cpuCount?: number;
  memoryMB?: number;
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

export function formatMetadata(metadata: Record<string, string>): string {
  return Object.entries(metadata).map(([k, v]) => `${k}=${v}`).join(', ');
}

/** The id: E2B's `name` is the template's alias, not a name of the sandbox. */
export function sandboxLabel(s: SandboxSummary): string {
  return s.sandboxId;
}

export function sandboxDescription(s: SandboxSummary, now: Date = new Date()): string {
  const parts = [s.templateId];
  parts.push(s.state === 'paused' ? 'paused' : formatTimeLeft(s.endAt, now));
  const meta = formatMetadata(s.metadata);
  if (meta) parts.push(meta);
  return parts.join(' · ');
}

/** Markdown for the tooltip and the info view. */
export function sandboxDetailsMarkdown(s: SandboxSummary, now: Date = new Date()): string {
  const rows: [string, string][] = [
    ['ID', `\`${s.sandboxId}\``],
    ['Template', s.templateId],
    ['State', s.state],
    ['Started', s.startedAt.toLocaleString()],
    ['Ends', `${s.endAt.toLocaleString()} (${formatTimeLeft(s.endAt, now)})`],
  ];
  if (s.cpuCount !== undefined) rows.push(['Resources', `${s.cpuCount} vCPU, ${s.memoryMB} MB`]);
  for (const [k, v] of Object.entries(s.metadata)) rows.push([`metadata.${k}`, v]);
  return ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${escapeMarkdownCell(v)} |`)].join('\n');
}

function escapeMarkdownCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** Codicon by state. */
export function sandboxIcon(state: string): string {
  return state === 'paused' ? 'debug-pause' : state === 'running' ? 'vm-running' : 'vm-outline';
}

/** `contextValue`, matched by regex in package.json menus (sandbox.running, sandbox.paused). */
export function sandboxContextValue(state: string): string {
  return `sandbox.${state}`;
}

/** Parses "k=v, k2=v2" (or one per line) into a map; throws with a message on bad input. */
export function parseKeyValueList(text: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(/[,\n]/).map((p) => p.trim()).filter(Boolean)) {
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
