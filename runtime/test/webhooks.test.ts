// Lifecycle webhooks as E2B documents them: registration under /events/webhooks, and signed
// deliveries of sandbox.lifecycle.* events, driven by the official SDK, to a receiver on loopback.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Sandbox } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';
import { sleep, waitUntil } from './helpers/wait';

interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  event: { id: string; type: string; sandboxId: string; sandboxTeamId: string; eventData: Record<string, unknown> | null };
}
interface WebhookView {
  id: string;
  teamId: string;
  name: string;
  url: string;
  enabled: boolean;
  events: string[];
  createdAt: string;
}

const ALL_EVENTS = [
  'sandbox.lifecycle.created',
  'sandbox.lifecycle.updated',
  'sandbox.lifecycle.paused',
  'sandbox.lifecycle.resumed',
  'sandbox.lifecycle.killed',
];
// E2B's retries come 10 s apart; a retried delivery arrives within this.
const RETRY_WAIT_MS = 40_000;

/** The check E2B's docs give receivers: base64url of SHA-256 over secret + raw body, unpadded. */
function verifySignature(secret: string, raw: string, signature: string | string[] | undefined): boolean {
  const expected = createHash('sha256')
    .update(secret + raw)
    .digest('base64')
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
  return expected === signature;
}

describe('lifecycle webhooks', () => {
  let runtime: RuntimeProcess;
  let receiver: Server;
  let receiverUrl: string;
  const deliveries: Delivery[] = [];
  /** Paths whose next N attempts the receiver answers with 500. */
  const failNext = new Map<string, number>();

  before(async () => {
    receiver = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => {
        raw += c.toString();
      });
      req.on('end', () => {
        const path = req.url ?? '/';
        deliveries.push({ path, headers: req.headers, raw, event: JSON.parse(raw) });
        const failures = failNext.get(path) ?? 0;
        if (failures > 0) failNext.set(path, failures - 1);
        res.writeHead(failures > 0 ? 500 : 204);
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    runtime = await RuntimeProcess.start();
  });
  after(async () => {
    await runtime?.dispose();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${runtime.url}${path}`, {
      method,
      headers: { 'X-API-KEY': runtime.apiKey, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  }

  async function register(path: string, secret: string, extra: Record<string, unknown> = {}): Promise<WebhookView> {
    const res = await api('POST', '/events/webhooks', {
      name: `hook ${path}`,
      url: `${receiverUrl}${path}`,
      enabled: true,
      events: ALL_EVENTS,
      signatureSecret: secret,
      ...extra,
    });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    return res.json as WebhookView;
  }

  const deliveredTo = (path: string, sandboxId?: string) =>
    deliveries.filter((d) => d.path === path && (!sandboxId || d.event.sandboxId === sandboxId));

  it('registers, lists, gets, updates and deletes webhooks, never showing the secret', async () => {
    const created = await register('/crud', 'crud-secret', { events: ['sandbox.lifecycle.created'] });
    assert.match(created.id, /^[0-9a-f-]{36}$/);
    assert.equal(created.name, 'hook /crud');
    assert.equal(created.enabled, true);
    assert.deepEqual(created.events, ['sandbox.lifecycle.created']);
    assert.ok(!Number.isNaN(Date.parse(created.createdAt)));
    assert.ok(!JSON.stringify(created).includes('crud-secret'));

    const listed = await api('GET', '/events/webhooks');
    assert.equal(listed.status, 200);
    assert.ok((listed.json as WebhookView[]).some((w) => w.id === created.id));
    assert.ok(!JSON.stringify(listed.json).includes('crud-secret'));
    assert.deepEqual((await api('GET', `/events/webhooks/${created.id}`)).json, created);

    const patched = await api('PATCH', `/events/webhooks/${created.id}`, {
      url: `${receiverUrl}/crud-moved`,
      enabled: false,
      events: ['sandbox.lifecycle.killed'],
    });
    assert.equal(patched.status, 200);
    assert.deepEqual(
      patched.json,
      { ...created, url: `${receiverUrl}/crud-moved`, enabled: false, events: ['sandbox.lifecycle.killed'] },
      'only the given fields change',
    );

    for (const bad of [
      { name: 'x', signatureSecret: 's', events: ALL_EVENTS },
      { name: 'x', url: 'ftp://127.0.0.1/hook', signatureSecret: 's' },
      { name: 'x', url: 'not a url', signatureSecret: 's' },
      { name: 'x', url: `${receiverUrl}/x`, signatureSecret: 's', events: ['sandbox.lifecycle.exploded'] },
      { name: 'x', url: `${receiverUrl}/x`, signatureSecret: 's', events: [] },
      { name: 'x', url: `${receiverUrl}/x` },
      { name: 'x', url: `${receiverUrl}/x`, signatureSecret: 's', enabled: 'yes' },
    ]) {
      const res = await api('POST', '/events/webhooks', bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.ok((res.json as { message: string }).message, 'the answer says what is wrong');
    }
    assert.equal((await api('PATCH', `/events/webhooks/${created.id}`, { events: ['nope'] })).status, 400);
    assert.equal((await api('GET', '/events/webhooks/00000000-0000-0000-0000-000000000001')).status, 404);
    assert.equal((await fetch(`${runtime.url}/events/webhooks`)).status, 401, 'the API key is required');

    assert.equal((await api('DELETE', `/events/webhooks/${created.id}`)).status, 200);
    assert.equal((await api('GET', `/events/webhooks/${created.id}`)).status, 404);
    assert.equal((await api('DELETE', `/events/webhooks/${created.id}`)).status, 404);
  });

  it('delivers every lifecycle event of a sandbox, signed, as the events API records it', async () => {
    const secret = 'all-events-secret';
    const webhook = await register('/all', secret);
    const sandbox = await Sandbox.create({ ...runtime.sdk, metadata: { owner: 'webhook-test' } });
    await sandbox.setTimeout(120_000);
    assert.equal(await sandbox.pause(), true);
    await sandbox.connect();
    await sandbox.kill();

    const recorded = (await api('GET', `/events/sandboxes/${sandbox.sandboxId}?orderAsc=true&limit=100`)).json as { id: string }[];
    const arrived = await waitUntil('all five events', () => {
      const got = deliveredTo('/all', sandbox.sandboxId);
      return got.length >= 5 ? got : undefined;
    });
    // Each event is its own POST: they may arrive in any order.
    const received = [...arrived].sort(
      (a, b) => recorded.findIndex((e) => e.id === a.event.id) - recorded.findIndex((e) => e.id === b.event.id),
    );
    assert.deepEqual(
      received.map((d) => d.event.type),
      ALL_EVENTS,
    );
    assert.deepEqual(
      received.map((d) => d.event),
      recorded,
      'the payload is the event as the events API has it',
    );

    const deliveryIds = new Set<string>();
    for (const d of received) {
      assert.ok(verifySignature(secret, d.raw, d.headers['e2b-signature']), `signature of ${d.event.type}`);
      assert.ok(!verifySignature('another-secret', d.raw, d.headers['e2b-signature']));
      assert.equal(d.headers['e2b-webhook-id'], webhook.id);
      assert.equal(d.headers['e2b-signature-version'], 'v1');
      assert.equal(d.headers['content-type'], 'application/json');
      deliveryIds.add(String(d.headers['e2b-delivery-id']));
      assert.deepEqual(d.event.eventData?.sandbox_metadata, { owner: 'webhook-test' });
      assert.equal(d.event.sandboxTeamId, webhook.teamId);
    }
    assert.equal(deliveryIds.size, received.length, 'each delivery has its own id');
    const killed = received[4].event.eventData?.execution as { vcpu_count: number; memory_mb: number; execution_time: number };
    assert.ok(killed.vcpu_count > 0 && killed.memory_mb > 0 && killed.execution_time >= 0, JSON.stringify(killed));
    await api('DELETE', `/events/webhooks/${webhook.id}`);
  });

  it('delivers only the event types a webhook subscribed to', async () => {
    const onlyKilled = await register('/only-killed', 'k', { events: ['sandbox.lifecycle.killed'] });
    const sync = await register('/sync', 's');
    const sandbox = await Sandbox.create(runtime.sdk);
    await sandbox.kill();
    await waitUntil(
      'the killed event at both',
      () =>
        deliveredTo('/only-killed', sandbox.sandboxId).length === 1 &&
        deliveredTo('/sync', sandbox.sandboxId).some((d) => d.event.type === 'sandbox.lifecycle.killed'),
    );
    assert.deepEqual(
      deliveredTo('/only-killed', sandbox.sandboxId).map((d) => d.event.type),
      ['sandbox.lifecycle.killed'],
    );
    await api('DELETE', `/events/webhooks/${onlyKilled.id}`);
    await api('DELETE', `/events/webhooks/${sync.id}`);
  });

  it('retries a delivery the receiver failed, with a new delivery id and the same signed event', { timeout: 120_000 }, async () => {
    const secret = 'flaky-secret';
    const webhook = await register('/flaky', secret, { events: ['sandbox.lifecycle.created'] });
    failNext.set('/flaky', 1);
    const sandbox = await Sandbox.create(runtime.sdk);
    try {
      const attempts = await waitUntil(
        'the retried delivery',
        () => {
          const got = deliveredTo('/flaky', sandbox.sandboxId);
          return got.length >= 2 ? got : undefined;
        },
        RETRY_WAIT_MS,
      );
      assert.equal(attempts.length, 2, 'the first success ends the retries');
      assert.equal(attempts[0].raw, attempts[1].raw);
      assert.notEqual(attempts[0].headers['e2b-delivery-id'], attempts[1].headers['e2b-delivery-id']);
      for (const a of attempts) assert.ok(verifySignature(secret, a.raw, a.headers['e2b-signature']));
    } finally {
      await sandbox.kill();
      await api('DELETE', `/events/webhooks/${webhook.id}`);
    }
  });

  it('stops deliveries, waiting retries too, once a webhook is disabled, moved or deleted', { timeout: 120_000 }, async () => {
    const sync = await register('/sync2', 's');
    const webhook = await register('/stopping', 'stop-secret');
    await api('PATCH', `/events/webhooks/${webhook.id}`, { enabled: false });
    const quiet = await Sandbox.create(runtime.sdk);
    await quiet.kill();
    await waitUntil('the sync webhook to hear the kill', () =>
      deliveredTo('/sync2', quiet.sandboxId).some((d) => d.event.type === 'sandbox.lifecycle.killed'),
    );
    assert.equal(deliveredTo('/stopping', quiet.sandboxId).length, 0, 'a disabled webhook gets nothing');

    await api('PATCH', `/events/webhooks/${webhook.id}`, {
      enabled: true,
      url: `${receiverUrl}/moved`,
      events: ['sandbox.lifecycle.created'],
    });
    const moved = await Sandbox.create(runtime.sdk);
    await moved.kill();
    await waitUntil('the sync webhook to hear the second kill', () =>
      deliveredTo('/sync2', moved.sandboxId).some((d) => d.event.type === 'sandbox.lifecycle.killed'),
    );
    await waitUntil('the moved webhook to hear the create', () => deliveredTo('/moved', moved.sandboxId).length === 1);
    assert.equal(deliveredTo('/stopping', moved.sandboxId).length, 0, 'the old URL gets nothing');
    assert.deepEqual(
      deliveredTo('/moved', moved.sandboxId).map((d) => d.event.type),
      ['sandbox.lifecycle.created'],
    );

    // A delivery that failed and waits for its retry: deleting the webhook ends it.
    failNext.set('/moved', 100);
    const retried = await Sandbox.create(runtime.sdk);
    await waitUntil('the first, failed attempt', () => deliveredTo('/moved', retried.sandboxId).length === 1);
    assert.equal((await api('DELETE', `/events/webhooks/${webhook.id}`)).status, 200);
    // Past the 10 s at which the retry was due.
    await sleep(13_000);
    assert.equal(deliveredTo('/moved', retried.sandboxId).length, 1, 'no retry after the delete');
    failNext.delete('/moved');
    await retried.kill();
    await api('DELETE', `/events/webhooks/${sync.id}`);
  });

  it('keeps webhooks across runtime restarts and delivers with them', async () => {
    const webhook = await register('/after-restart', 'restart-secret', { events: ['sandbox.lifecycle.created'] });
    await runtime.restart();
    assert.deepEqual((await api('GET', `/events/webhooks/${webhook.id}`)).json, webhook);
    assert.equal(statSync(join(runtime.dataDir, 'webhooks.json')).mode & 0o777, 0o600, "the file with the secrets is the owner's alone");
    const sandbox = await Sandbox.create(runtime.sdk);
    try {
      const [delivery] = await waitUntil('a delivery after the restart', () => {
        const got = deliveredTo('/after-restart', sandbox.sandboxId);
        return got.length === 1 ? got : undefined;
      });
      assert.ok(verifySignature('restart-secret', delivery.raw, delivery.headers['e2b-signature']));
    } finally {
      await sandbox.kill();
      await api('DELETE', `/events/webhooks/${webhook.id}`);
    }
  });
});
