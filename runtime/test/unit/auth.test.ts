// The agent's access-token comparison (src/agent/auth.ts): equal bytes match; any difference in
// content or length, including a prefix, an extension or an empty token, does not.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { constantTimeEqual, hasValidAccessToken } from '../../src/agent/auth';

const bytes = (text: string) => Buffer.from(text);

function requestWith(token: string | undefined): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  if (token !== undefined) req.headers['x-access-token'] = token;
  return req;
}

describe('constantTimeEqual', () => {
  it('matches equal bytes', () => {
    assert.equal(constantTimeEqual(bytes('s3cr3t-token'), bytes('s3cr3t-token')), true);
    assert.equal(constantTimeEqual(bytes(''), bytes('')), true);
  });

  it('refuses a different byte anywhere', () => {
    for (const given of ['x3cr3t-token', 's3cr3t-tokex', 's3cR3t-token'])
      assert.equal(constantTimeEqual(bytes(given), bytes('s3cr3t-token')), false);
  });

  it('refuses a prefix, an extension and an empty value', () => {
    for (const given of ['s3cr3t', 's3cr3t-token!', 's3cr3t-token\0', ''])
      assert.equal(constantTimeEqual(bytes(given), bytes('s3cr3t-token')), false);
    assert.equal(constantTimeEqual(bytes('s3cr3t-token'), bytes('')), false);
  });
});

describe('hasValidAccessToken', () => {
  it('lets everything through while no token is set', () => {
    assert.equal(hasValidAccessToken(requestWith(undefined), undefined), true);
  });

  it('needs the exact token once one is set', () => {
    assert.equal(hasValidAccessToken(requestWith('tok-1'), 'tok-1'), true);
    assert.equal(hasValidAccessToken(requestWith('tok-2'), 'tok-1'), false);
    assert.equal(hasValidAccessToken(requestWith('tok-1 '), 'tok-1'), false);
    assert.equal(hasValidAccessToken(requestWith(undefined), 'tok-1'), false);
  });
});
