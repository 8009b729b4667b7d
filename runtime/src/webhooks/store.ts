// Lifecycle webhook registrations (E2B's /events/webhooks), checked as they come in and kept in
// <dataDir>/webhooks.json (mode 0600: it holds the signature secrets) so they outlive restarts.
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { invalidInput, notFound } from '../errors';
import { LOCAL_TEAM_ID } from '../sandbox/team';

export const WEBHOOK_EVENT_TYPES = [
  'sandbox.lifecycle.created',
  'sandbox.lifecycle.updated',
  'sandbox.lifecycle.paused',
  'sandbox.lifecycle.resumed',
  'sandbox.lifecycle.killed',
];

export interface Webhook {
  id: string;
  name: string;
  url: string;
  enabled: boolean;
  events: string[];
  signatureSecret: string;
  createdAt: string;
}

const MAX_WEBHOOKS = 100;
const MAX_NAME = 256;
const MAX_URL = 2048;

export class WebhookStore {
  private webhooks: Webhook[] = [];

  constructor(private readonly file: string) {
    if (!existsSync(file)) return;
    try {
      this.webhooks = JSON.parse(readFileSync(file, 'utf8')) as Webhook[];
    } catch (err) {
      // Written atomically, so only a hand edit breaks it: say so rather than drop the secrets.
      throw new Error(`${file} is not valid JSON (${(err as Error).message}): fix it, or remove it to start with no webhooks`, {
        cause: err,
      });
    }
  }

  list(): Webhook[] {
    return [...this.webhooks];
  }

  get(id: string): Webhook {
    const webhook = this.webhooks.find((w) => w.id === id);
    if (!webhook) throw notFound(`webhook "${id}" not found`);
    return webhook;
  }

  create(body: Record<string, unknown>): Webhook {
    if (this.webhooks.length >= MAX_WEBHOOKS) throw invalidInput(`a team can have at most ${MAX_WEBHOOKS} webhooks: delete one first`);
    for (const field of ['name', 'url', 'signatureSecret'] as const) {
      if (body[field] === undefined) throw invalidInput(`${field} is required`);
    }
    const webhook: Webhook = {
      id: randomUUID(),
      name: nameOf(body.name),
      url: urlOf(body.url),
      enabled: body.enabled === undefined ? true : enabledOf(body.enabled),
      events: body.events === undefined ? [...WEBHOOK_EVENT_TYPES] : eventsOf(body.events),
      signatureSecret: secretOf(body.signatureSecret),
      createdAt: new Date().toISOString(),
    };
    this.webhooks.push(webhook);
    this.save();
    return webhook;
  }

  /** Replaces the fields the body gives; the others stay as they were. */
  update(id: string, body: Record<string, unknown>): Webhook {
    const current = this.get(id);
    const next: Webhook = { ...current };
    if (body.name !== undefined) next.name = nameOf(body.name);
    if (body.url !== undefined) next.url = urlOf(body.url);
    if (body.enabled !== undefined) next.enabled = enabledOf(body.enabled);
    if (body.events !== undefined) next.events = eventsOf(body.events);
    if (body.signatureSecret !== undefined) next.signatureSecret = secretOf(body.signatureSecret);
    this.webhooks = this.webhooks.map((w) => (w.id === id ? next : w));
    this.save();
    return next;
  }

  delete(id: string): void {
    this.get(id);
    this.webhooks = this.webhooks.filter((w) => w.id !== id);
    this.save();
  }

  private save(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.webhooks, null, 2), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
  }
}

/** A webhook as the API shows it: never its secret. */
export function webhookView(webhook: Webhook): object {
  return {
    id: webhook.id,
    teamId: LOCAL_TEAM_ID,
    name: webhook.name,
    createdAt: webhook.createdAt,
    enabled: webhook.enabled,
    url: webhook.url,
    events: webhook.events,
  };
}

function nameOf(value: unknown): string {
  if (typeof value !== 'string' || !value.trim() || value.length > MAX_NAME)
    throw invalidInput(`name must be a non-empty string of at most ${MAX_NAME} characters`);
  return value;
}

function urlOf(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_URL) throw invalidInput('url must be an http:// or https:// URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidInput(`url is not a valid URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalidInput(`url must be an http:// or https:// URL, not ${url.protocol}`);
  if (url.username || url.password) throw invalidInput('url must not carry credentials: check the signature instead');
  return value;
}

function enabledOf(value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidInput('enabled must be true or false');
  return value;
}

function eventsOf(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((e) => typeof e !== 'string')) {
    throw invalidInput(`events must be a non-empty array of event types (${WEBHOOK_EVENT_TYPES.join(', ')})`);
  }
  const unknown = value.filter((e) => !WEBHOOK_EVENT_TYPES.includes(e));
  if (unknown.length > 0) throw invalidInput(`unknown event type ${unknown.join(', ')}: use ${WEBHOOK_EVENT_TYPES.join(', ')}`);
  return [...new Set(value as string[])];
}

function secretOf(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024)
    throw invalidInput('signatureSecret must be a non-empty string of at most 1024 characters');
  return value;
}
