// Sandbox lifecycle events as E2B's events API reports them (GET /events/sandboxes[/{id}]),
// appended to <dataDir>/events.jsonl and kept for 7 days.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { LOCAL_TEAM_ID } from './team';

export type LifecycleEventType = 'created' | 'updated' | 'paused' | 'resumed' | 'killed';

export interface SandboxEvent {
  version: 'v2';
  id: string;
  type: `sandbox.lifecycle.${LifecycleEventType}`;
  eventData: Record<string, unknown> | null;
  sandboxId: string;
  sandboxTemplateId: string;
  sandboxBuildId: string;
  sandboxExecutionId: string;
  sandboxTeamId: string;
  timestamp: string;
}

export interface EventQuery {
  sandboxId?: string;
  types?: string[];
  offset: number;
  limit: number;
  orderAsc: boolean;
}

/** What an event says about its sandbox (a SandboxRecord has all of it). */
export interface EventSandbox {
  sandboxID: string;
  templateID: string;
  buildID?: string;
  executionID?: string;
  metadata?: Record<string, string>;
  startedAt?: string;
  cpuCount?: number;
  memoryMB?: number;
}

const RETENTION_MS = 7 * 24 * 3600 * 1000;

export class SandboxEvents {
  private events: SandboxEvent[] = [];
  private readonly listeners: ((event: SandboxEvent) => void)[] = [];

  constructor(private readonly file: string) {
    if (!existsSync(file)) return;
    const cutoff = Date.now() - RETENTION_MS;
    this.events = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .flatMap((line) => {
        try {
          const event = JSON.parse(line) as SandboxEvent;
          return Date.parse(event.timestamp) >= cutoff ? [event] : [];
        } catch {
          return [];
        }
      });
    writeFileSync(file, this.events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  }

  /** Called with every event as it is recorded (webhook deliveries start here). */
  onRecorded(listener: (event: SandboxEvent) => void): void {
    this.listeners.push(listener);
  }

  record(type: LifecycleEventType, sandbox: EventSandbox, eventData: Record<string, unknown> | null = null): SandboxEvent {
    // As upstream: the sandbox's metadata travels with each of its events, and the end of an
    // execution (killed, paused) says how long it ran on what.
    const data: Record<string, unknown> = { ...eventData };
    if (sandbox.metadata && Object.keys(sandbox.metadata).length > 0) data.sandbox_metadata = { ...sandbox.metadata };
    if ((type === 'killed' || type === 'paused') && sandbox.startedAt) data.execution = executionData(sandbox);
    const event: SandboxEvent = {
      version: 'v2',
      id: randomUUID(),
      type: `sandbox.lifecycle.${type}`,
      eventData: Object.keys(data).length > 0 ? data : null,
      sandboxId: sandbox.sandboxID,
      sandboxTemplateId: sandbox.templateID,
      sandboxBuildId: sandbox.buildID ?? sandbox.templateID,
      sandboxExecutionId: sandbox.executionID ?? sandbox.sandboxID,
      sandboxTeamId: LOCAL_TEAM_ID,
      timestamp: new Date().toISOString(),
    };
    this.events.push(event);
    appendFileSync(this.file, `${JSON.stringify(event)}\n`);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  query(q: EventQuery): SandboxEvent[] {
    const matching = this.events.filter(
      (e) => (!q.sandboxId || e.sandboxId === q.sandboxId) && (!q.types?.length || q.types.includes(e.type)),
    );
    const ordered = q.orderAsc ? matching : [...matching].reverse();
    return ordered.slice(q.offset, q.offset + q.limit);
  }
}

function executionData(sandbox: EventSandbox): Record<string, unknown> {
  const started = Date.parse(sandbox.startedAt!);
  return {
    // RFC 3339 without fractions, as upstream formats it.
    started_at: new Date(started).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    vcpu_count: sandbox.cpuCount,
    memory_mb: sandbox.memoryMB,
    execution_time: Math.max(0, Date.now() - started),
  };
}
