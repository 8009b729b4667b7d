// Unit tests for the pure parts of the extension (no VS Code API involved).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  describeNewSandbox,
  formatTimeLeft,
  minutesLeft,
  SANDBOX_NAME_KEYS,
  sandboxContextValue,
  sandboxDescription,
  sandboxDetailsMarkdown,
  sandboxIcon,
  sandboxLabel,
  staleMessage,
} from '../../src/views/sandbox-presentation';
import { invalidEnvVarNames, parseKeyValueList } from '../../src/commands/input-parsers';
import { describeFilter, isFiltered } from '../../src/views/sandbox-filter';
import { parseEnvFile } from '../../runtime/src/contract/local-runtime-contract';
import { sandboxPortUrl } from '../../src/connection/profile';
import { toUserFacingError, UserFacingError } from '../../src/connection/user-errors';

const now = new Date('2026-01-01T12:00:00Z');
const sandbox = {
  sandboxId: 'abcdefghij0123456789',
  templateId: 'base',
  state: 'running',
  startedAt: new Date('2026-01-01T11:50:00Z'),
  endAt: new Date('2026-01-01T12:12:30Z'),
  metadata: { user: 'alice', purpose: 'a|b' },
  cpuCount: 2,
  memoryMB: 1024,
};

describe('sandbox presentation', () => {
  it('formats the time left', () => {
    assert.equal(formatTimeLeft(new Date(now.getTime() + 45_000), now), '45s left');
    assert.equal(formatTimeLeft(new Date(now.getTime() + 12.5 * 60_000), now), '12m left');
    assert.equal(formatTimeLeft(new Date(now.getTime() + (3 * 60 + 5) * 60_000), now), '3h 5m left');
    assert.equal(formatTimeLeft(new Date(now.getTime() - 1), now), 'expired');
  });

  it('labels a row with what tells sandboxes apart: a name from metadata, else the template', () => {
    assert.equal(sandboxLabel(sandbox), 'base', 'no name: the template');
    assert.equal(sandboxLabel({ ...sandbox, name: 'my-python' }), 'my-python', "E2B's name is the template's alias");
    assert.equal(
      sandboxLabel({ ...sandbox, metadata: { name: ' demo api ', owner: 'file:///w/a.ipynb' } }),
      'demo api',
      'name comes first',
    );
    assert.equal(
      sandboxLabel({ ...sandbox, metadata: { owner: 'file:///home/u/My%20Notes.ipynb' } }),
      'My Notes.ipynb',
      'a document reads as its file name',
    );
    assert.equal(sandboxLabel({ ...sandbox, metadata: { document: 'untitled:Untitled-1.ipynb' } }), 'Untitled-1.ipynb');
    assert.equal(
      sandboxLabel({ ...sandbox, metadata: { name: '  ', ownerDocument: '/work/run.py' } }),
      'run.py',
      'a blank name is no name',
    );
    assert.deepEqual([...SANDBOX_NAME_KEYS], ['name', 'owner', 'ownerDocument', 'document']);
    assert.ok(!sandboxLabel(sandbox).includes(sandbox.sandboxId), 'the id is not the label');
  });

  it('describes a sandbox: time left or paused first, then the template (when named) and the other metadata', () => {
    assert.equal(sandboxDescription(sandbox, now), '12m left · user=alice, purpose=a|b');
    assert.equal(sandboxDescription({ ...sandbox, state: 'paused', metadata: {} }, now), 'paused');
    assert.equal(sandboxDescription({ ...sandbox, metadata: { name: 'demo', user: 'alice' } }, now), '12m left · base · user=alice');
  });

  it('marks a row of a list that could not be refreshed', () => {
    const since = new Date(2026, 0, 1, 9, 5);
    const offline = { since, offline: true };
    assert.equal(sandboxDescription(sandbox, now, offline), 'offline, as of 09:05 · 12m left · user=alice, purpose=a|b');
    assert.equal(
      sandboxDescription(sandbox, now, { since, offline: false }),
      'as of 09:05 · 12m left · user=alice, purpose=a|b',
      'an answer with an error is not "offline"',
    );
    assert.equal(sandboxIcon('running', true), 'debug-disconnect');
    assert.match(sandboxDetailsMarkdown(sandbox, now, offline), /\| Offline \| details as of 09:05 \|/);
    assert.equal(
      staleMessage(offline, 'Cannot reach the local runtime.'),
      'Offline: showing the list from 09:05. Cannot reach the local runtime.',
    );
    assert.equal(
      staleMessage({ since, offline: false }, 'The key was refused.'),
      'Not refreshed: showing the list from 09:05. The key was refused.',
    );
  });

  it('offers the minutes left as the timeout, and summarises a sandbox to create', () => {
    assert.equal(minutesLeft(sandbox.endAt, now), 13, '12.5 minutes round to 13');
    assert.equal(minutesLeft(new Date(now.getTime() + 10_000), now), 1, 'never less than a minute');
    assert.equal(describeNewSandbox({ template: 'base', timeoutMs: 15 * 60_000 }), 'base · 15 min · killed on timeout');
    assert.equal(
      describeNewSandbox({
        template: 'code-interpreter-v1',
        timeoutMs: 90_000,
        autoPause: true,
        metadata: { name: 'x' },
        envs: { A: '1', B: '2' },
      }),
      'code-interpreter-v1 · 1.5 min · paused on timeout · name=x · env A, B',
    );
    assert.equal(
      describeNewSandbox({ template: 'base', timeoutMs: 60_000, volumeMounts: { '/mnt/data': 'data', '/srv': 'web' } }),
      'base · 1 min · killed on timeout · volumes data at /mnt/data, web at /srv',
    );
  });

  it('renders details as a markdown table with escaped cells', () => {
    const md = sandboxDetailsMarkdown(sandbox, now);
    assert.match(md, /\| ID \| `abcdefghij0123456789` \|/);
    assert.match(md, /\| Resources \| 2 vCPU, 1024 MB \|/);
    assert.match(md, /\| metadata.purpose \| a\\\|b \|/);
    assert.doesNotMatch(md, /Volume/);
    assert.match(
      sandboxDetailsMarkdown({ ...sandbox, volumeMounts: [{ name: 'data', path: '/mnt/data' }] }, now),
      /\| Volume \| data at \/mnt\/data \|/,
    );
  });

  it('gives menus a context value and the tree an icon by state', () => {
    assert.equal(sandboxContextValue('running'), 'sandbox.running');
    assert.equal(sandboxContextValue('paused'), 'sandbox.paused');
    assert.equal(sandboxIcon('paused'), 'debug-pause');
    assert.equal(sandboxIcon('running'), 'vm-running');
  });

  it('parses key=value lists and says what is wrong', () => {
    assert.deepEqual(parseKeyValueList(' a=1, b = two words ,c=x=y\nd=', 'metadata'), { a: '1', b: 'two words', c: 'x=y', d: '' });
    assert.deepEqual(parseKeyValueList('', 'metadata'), {});
    assert.throws(() => parseKeyValueList('novalue', 'metadata'), /"novalue" is not KEY=VALUE/);
    assert.throws(() => parseKeyValueList('=x', 'metadata'), /not KEY=VALUE/);
    assert.deepEqual(invalidEnvVarNames({ GOOD_1: '', '1BAD': '', 'has-dash': '' }), ['1BAD', 'has-dash']);
  });

  it('describes filters', () => {
    assert.equal(isFiltered({ states: [], metadata: {} }), false);
    assert.equal(isFiltered({ states: ['paused'], metadata: {} }), true);
    assert.equal(describeFilter({ states: ['running', 'paused'], metadata: { user: '42' } }), 'running or paused; user=42');
  });
});

describe('connections', () => {
  it('reads the runtime env file', () => {
    const vars = parseEnvFile('export E2B_API_URL=http://127.0.0.1:49982\nexport E2B_API_KEY=\'e2b_ab\'\n# comment\nOTHER="x y"\n');
    assert.deepEqual(vars, { E2B_API_URL: 'http://127.0.0.1:49982', E2B_API_KEY: 'e2b_ab', OTHER: 'x y' });
  });

  it('builds port URLs for the local runtime, the cloud and a self-hosted domain', () => {
    const local = { kind: 'local' as const, label: 'local runtime', apiKey: 'k', apiUrl: 'http://127.0.0.1:49982' };
    assert.equal(sandboxPortUrl(local, 'abc', 8080), 'http://8080-abc.localhost:49982/');
    assert.equal(sandboxPortUrl({ kind: 'cloud', label: 'E2B cloud', apiKey: 'k' }, 'abc', 3000), 'https://3000-abc.e2b.app/');
    assert.equal(
      sandboxPortUrl(
        { kind: 'selfHosted', label: 'x', apiKey: 'k', apiUrl: 'https://api.example.com', domain: 'sb.example.com' },
        'abc',
        80,
      ),
      'https://80-abc.sb.example.com/',
    );
  });

  it('turns SDK and network errors into messages that say what to do', () => {
    const context = { connectionLabel: 'local runtime', apiUrl: 'http://127.0.0.1:49982', sandboxId: 'abc' };
    const auth = Object.assign(new Error('401: Invalid API key'), { name: 'AuthenticationError' });
    assert.deepEqual(toUserFacingError(auth, context).actions, ['Set API Key', 'Choose Connection']);
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    assert.match(toUserFacingError(refused, context).message, /Cannot reach the local runtime at http:\/\/127.0.0.1:49982/);
    const gone = Object.assign(new Error('Sandbox abc not found'), { name: 'SandboxNotFoundError' });
    assert.match(toUserFacingError(gone, context).message, /Sandbox abc no longer exists/);
    const limited = Object.assign(new Error('429: slow down'), { name: 'RateLimitError' });
    assert.deepEqual(toUserFacingError(limited, context).actions, ['Retry']);
    const already = new UserFacingError('as is', ['Retry']);
    assert.equal(toUserFacingError(already, context), already);
  });
});
