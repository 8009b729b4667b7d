// GET /v2/sandboxes query handling (src/server/list-query.ts): filters as the SDK encodes them,
// E2B's 400s for values it refuses, and cursor pages that neither repeat nor skip a sandbox.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseListQuery, parseMetadataFilter, selectPage } from '../../src/server/list-query';
import { SandboxRecord, SandboxState } from '../../src/sandbox/record';
import { RuntimeError } from '../../src/errors';
import { statusOf } from '../../src/server/http-errors';

const query = (text: string) => parseListQuery(new URLSearchParams(text));

function record(id: string, startedAt: string, extra: Partial<SandboxRecord> = {}): SandboxRecord {
  return {
    sandboxID: id,
    templateID: 'base',
    envdVersion: '0.2.0',
    startedAt,
    endAt: startedAt,
    cpuCount: 2,
    memoryMB: 512,
    diskSizeMB: 1024,
    metadata: {},
    envVars: {},
    state: 'running' as SandboxState,
    lifecycle: { onTimeout: 'kill', autoResume: false },
    allowInternetAccess: true,
    ...extra,
  };
}

const badRequest = (message: string) => (err: unknown) => err instanceof RuntimeError && statusOf(err) === 400 && err.message === message;

describe('sandbox list query', () => {
  it('defaults to running and paused sandboxes, newest first, 100 a page', () => {
    assert.deepEqual(query(''), {
      states: ['running', 'paused'],
      metadata: [],
      template: undefined,
      startedAfter: undefined,
      order: 'desc',
      limit: 100,
      nextToken: undefined,
    });
  });

  it('reads every filter', () => {
    const q = query(
      'state=paused,%20running&metadata=user%3D42%26team%3Da%2520b&template=code-interpreter-v1&startedAfter=2026-01-02T03:04:05Z&order=asc&limit=5&nextToken=abc',
    );
    assert.deepEqual(q, {
      states: ['paused', 'running'],
      metadata: [
        ['user', '42'],
        ['team', 'a b'],
      ],
      template: 'code-interpreter-v1',
      startedAfter: Date.parse('2026-01-02T03:04:05Z'),
      order: 'asc',
      limit: 5,
      nextToken: 'abc',
    });
    assert.deepEqual(query('state=&template=&nextToken=').states, [], 'an empty state list matches nothing');
    assert.equal(query('template=').template, undefined);
  });

  it('refuses values E2B refuses, with its messages', () => {
    assert.throws(() => query('state=running,creating'), badRequest('invalid state "creating"'));
    assert.throws(() => query('order=newest'), badRequest('order must be asc or desc'));
    for (const limit of ['0', '101', '1.5', 'ten', ''])
      assert.throws(() => query(`limit=${limit}`), badRequest('limit must be an integer from 1 to 100'), limit);
    assert.throws(() => query('startedAfter=yesterday'), badRequest('startedAfter must be an RFC 3339 date-time'));
    assert.throws(() => query('metadata=%25E0'), badRequest('metadata filter is not valid URL encoding'));
    assert.throws(
      () => query(`metadata=${encodeURIComponent('k=%E0')}`),
      badRequest('metadata filter is not valid URL encoding'),
      'a key or value escaped wrongly',
    );
  });

  it('decodes the metadata filter the way the SDK encodes it', () => {
    // The SDK: new URLSearchParams(metadata).toString(), then encodeURIComponent of the whole.
    const metadata = { 'user id': 'a=b&c', ünï: '+ plus' };
    const encoded = encodeURIComponent(new URLSearchParams(metadata).toString());
    assert.deepEqual(parseMetadataFilter(encoded), Object.entries(metadata));
    assert.deepEqual(parseMetadataFilter(null), []);
    assert.deepEqual(parseMetadataFilter(''), []);
    assert.deepEqual(parseMetadataFilter('k'), [['k', '']]);
    assert.deepEqual(parseMetadataFilter('k%3D%26%26j%3D1'), [
      ['k', ''],
      ['j', '1'],
    ]);
  });
});

describe('sandbox list pages', () => {
  const all = [
    record('c', '2026-01-01T00:00:03Z', { metadata: { user: '1' } }),
    record('a', '2026-01-01T00:00:01Z', { metadata: { user: '1', team: 'x' }, alias: 'mine' }),
    record('b', '2026-01-01T00:00:01Z', { state: 'paused', templateID: 'tpl-2' }),
    record('d', '2026-01-01T00:00:04Z', { state: 'creating' }),
    record('e', '2026-01-01T00:00:02Z', { metadata: { user: '2' } }),
  ];
  const ids = (text: string) => selectPage(all, query(text)).page.map((s) => s.sandboxID);

  it('orders by start time, then id', () => {
    assert.deepEqual(ids(''), ['c', 'e', 'b', 'a']);
    assert.deepEqual(ids('order=asc'), ['a', 'b', 'e', 'c']);
  });

  it('filters by state, metadata, template or alias, and start time', () => {
    assert.deepEqual(ids('state=paused'), ['b']);
    assert.deepEqual(ids(`metadata=${encodeURIComponent('user=1')}`), ['c', 'a']);
    assert.deepEqual(ids(`metadata=${encodeURIComponent('user=1&team=x')}`), ['a']);
    assert.deepEqual(ids(`metadata=${encodeURIComponent('user=3')}`), []);
    assert.deepEqual(ids('template=tpl-2'), ['b']);
    assert.deepEqual(ids('template=mine'), ['a']);
    assert.deepEqual(ids('startedAfter=2026-01-01T00:00:02Z'), ['c', 'e'], 'from the instant on');
    assert.deepEqual(ids('state=running,paused&startedAfter=2026-01-01T00:00:05Z'), []);
  });

  it('pages through every sandbox once, in both orders and for every page size', () => {
    for (const order of ['asc', 'desc']) {
      for (let limit = 1; limit <= 5; limit++) {
        const seen: string[] = [];
        let token: string | undefined;
        let pages = 0;
        do {
          const { page, nextToken } = selectPage(all, query(`order=${order}&limit=${limit}${token ? `&nextToken=${token}` : ''}`));
          assert.ok(page.length <= limit);
          seen.push(...page.map((s) => s.sandboxID));
          token = nextToken;
          assert.ok(++pages <= 5, 'the pages end');
        } while (token);
        assert.deepEqual(seen, order === 'asc' ? ['a', 'b', 'e', 'c'] : ['c', 'e', 'b', 'a'], `${order}, ${limit} a page`);
      }
    }
    assert.equal(selectPage(all, query('limit=4')).nextToken, undefined, 'no token when nothing is left');
  });

  it('refuses a token it did not make', () => {
    for (const token of [
      'not-a-token',
      Buffer.from('no-separator').toString('base64url'),
      Buffer.from('yesterday__a').toString('base64url'),
    ]) {
      assert.throws(() => selectPage(all, query(`nextToken=${token}`)), badRequest('invalid nextToken'), token);
    }
  });
});
