// Delivers lifecycle events to the registered webhooks as E2B does: a POST of the event's JSON,
// signed in `e2b-signature` (unpadded base64url of SHA-256 over secret + body), with the webhook's
// id and a fresh delivery id per attempt; a failed attempt (no 2xx within the timeout) is retried up
// to 3 times, 10 s apart. The webhook is read again before every attempt, so an update or delete
// stops deliveries that were still waiting. Waiting retries do not survive a runtime restart.
import { createHash, randomUUID } from 'node:crypto';
import { SandboxEvent, SandboxEvents } from '../sandbox/events';
import { Webhook, WebhookStore } from './store';

const RETRIES = 3;
const RETRY_DELAY_MS = 10_000;
const ATTEMPT_TIMEOUT_MS = 10_000;
/** The answer's body is not needed: read at most this much, then drop the connection. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export function webhookSignature(secret: string, body: string): string {
  return createHash('sha256')
    .update(secret + body)
    .digest('base64url');
}

export class WebhookDeliveries {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly store: WebhookStore,
    events: SandboxEvents,
    private readonly log: (line: string) => void,
  ) {
    events.onRecorded((event) => this.dispatch(event));
  }

  /** Ends waiting retries (the runtime is stopping). */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private dispatch(event: SandboxEvent): void {
    if (this.stopped) return;
    const body = JSON.stringify(event);
    for (const webhook of this.store.list()) {
      if (wants(webhook, event)) void this.attempt(webhook.id, event, body, 0);
    }
  }

  private async attempt(webhookId: string, event: SandboxEvent, body: string, attempt: number): Promise<void> {
    const webhook = this.store.list().find((w) => w.id === webhookId);
    // Deleted, disabled or no longer subscribed since the event: nothing more to send.
    if (this.stopped || !webhook || !wants(webhook, event)) return;
    const failure = await post(webhook, body);
    if (!failure) return;
    if (attempt >= RETRIES) {
      this.log(`webhook ${webhookId}: gave up on event ${event.id} (${event.type}) after ${attempt + 1} attempts: ${failure}`);
      return;
    }
    this.log(`webhook ${webhookId}: delivery of event ${event.id} failed (${failure}); retrying in ${RETRY_DELAY_MS / 1000} s`);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(webhookId, event, body, attempt + 1);
    }, RETRY_DELAY_MS);
    timer.unref();
    this.timers.add(timer);
  }
}

function wants(webhook: Webhook, event: SandboxEvent): boolean {
  return webhook.enabled && webhook.events.includes(event.type);
}

/** One attempt; undefined when it was delivered, otherwise why not. */
async function post(webhook: Webhook, body: string): Promise<string | undefined> {
  try {
    const res = await fetch(webhook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'e2b-webhook-id': webhook.id,
        'e2b-delivery-id': randomUUID(),
        'e2b-signature-version': 'v1',
        'e2b-signature': webhookSignature(webhook.signatureSecret, body),
      },
      body,
      // A redirect could send the signed event somewhere the user never registered.
      redirect: 'manual',
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
    });
    await drain(res);
    return res.status >= 200 && res.status < 300 ? undefined : `HTTP ${res.status}`;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return cause ?? (err as Error).message;
  }
}

async function drain(res: Response): Promise<void> {
  if (!res.body) return;
  let read = 0;
  const reader = res.body.getReader();
  try {
    while (read < MAX_RESPONSE_BYTES) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
