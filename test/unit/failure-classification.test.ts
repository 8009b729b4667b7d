// The one classification of failures (src/connection/user-errors.ts), fed the official SDKs' own
// error classes as they throw them: a sandbox is "gone" only when the SDK says so by class, or
// when a timeout turns out (by asking the API) to mean a dead sandbox.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthenticationError,
  FileNotFoundError,
  NotFoundError,
  RateLimitError,
  SandboxError,
  SandboxNotFoundError,
  TimeoutError,
} from 'e2b';
import { classifyFailure, judgeSandboxFailure, toUserFacingError, UserFacingError } from '../../src/connection/user-errors';

const context = { connectionLabel: 'local runtime', apiUrl: 'http://127.0.0.1:49982', sandboxId: 'abc' };
/** What the code-interpreter SDK throws for a killed sandbox's 502 (messaging.ts extractError). */
const gateway502 = new TimeoutError(
  '{"sandboxId":"abc","message":"The sandbox was not found","code":502}: This error is likely due to sandbox timeout.',
);
const slow = new TimeoutError("Request timed out — the 'requestTimeoutMs' option can be used to increase this timeout");

describe('failure classification', () => {
  it('reads the SDK error classes, not their messages', () => {
    assert.equal(classifyFailure(new SandboxNotFoundError('Sandbox abc not found')), 'sandboxGone');
    assert.equal(classifyFailure(new AuthenticationError('Unauthorized')), 'auth');
    assert.equal(classifyFailure(new RateLimitError('slow down')), 'rateLimited');
    assert.equal(classifyFailure(gateway502), 'timeout');
    assert.equal(classifyFailure(slow), 'timeout');
    // A missing file or code context is not a missing sandbox, whatever its message says.
    assert.equal(classifyFailure(new FileNotFoundError('sandbox path /x not found')), 'other');
    assert.equal(classifyFailure(new NotFoundError('context not found')), 'other');
    assert.equal(classifyFailure(new Error('sandbox not found: 502')), 'other');
  });

  it('reads HTTP status codes of API errors and network failures by their cause', () => {
    assert.equal(classifyFailure(Object.assign(new SandboxError('401: bad key'), { statusCode: 401 })), 'auth');
    assert.equal(classifyFailure(Object.assign(new Error('429: later'), { statusCode: 429 })), 'rateLimited');
    assert.equal(classifyFailure(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } })), 'unreachable');
    assert.equal(classifyFailure(new UserFacingError('as is', [], 'sandboxGone')), 'sandboxGone');
  });

  it('works on errors that crossed a bundle boundary (same name, another class)', () => {
    const foreign = Object.assign(new Error('Sandbox abc not found'), { name: 'SandboxNotFoundError' });
    assert.equal(classifyFailure(foreign), 'sandboxGone');
  });

  it('a timeout means "gone" only when the API says the sandbox no longer exists', async () => {
    assert.equal(await judgeSandboxFailure(gateway502, async () => 'gone'), 'gone');
    assert.equal(await judgeSandboxFailure(slow, async () => 'running'), 'connection', 'a slow network keeps the sandbox');
    assert.equal(await judgeSandboxFailure(slow, async () => 'unreachable'), 'connection');
    assert.equal(
      await judgeSandboxFailure(slow, async () => {
        throw new Error('down');
      }),
      'connection',
    );
    assert.equal(await judgeSandboxFailure(gateway502, async () => 'paused'), 'paused');
    assert.equal(await judgeSandboxFailure(new SandboxNotFoundError('gone'), async () => assert.fail('no need to ask')), 'gone');
    assert.equal(await judgeSandboxFailure(new NotFoundError('context'), async () => assert.fail('no need to ask')), 'other');
  });

  it('says what to do, by the same classification', () => {
    assert.match(toUserFacingError(new SandboxNotFoundError('x'), context).message, /Sandbox abc no longer exists/);
    assert.equal(toUserFacingError(new SandboxNotFoundError('x'), context).kind, 'sandboxGone');
    assert.equal(toUserFacingError(new NotFoundError('404: sandbox path'), context).kind, 'other');
    assert.equal(toUserFacingError(slow, context).kind, 'timeout');
    assert.deepEqual(toUserFacingError(new AuthenticationError('no'), context).actions, ['Set API Key', 'Choose Connection']);
  });
});

describe('notebook toolbar', () => {
  it('gives every toolbar command a short title, so they all fit next to each other', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const manifest = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8'));
    const commands = new Map<string, { title: string; shortTitle?: string }>(
      manifest.contributes.commands.map((c: { command: string }) => [c.command, c]),
    );
    const toolbar = manifest.contributes.menus['notebook/toolbar'] as { command: string }[];
    assert.ok(toolbar.length >= 2);
    for (const { command } of toolbar) {
      const shortTitle = commands.get(command)?.shortTitle;
      assert.ok(shortTitle && shortTitle.length <= 10, `${command} has a short toolbar title (${shortTitle})`);
      assert.ok(commands.get(command)!.title.length > shortTitle.length, 'the palette keeps the long title');
    }
  });
});
