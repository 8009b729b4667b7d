// The network rules' wording and checks the wizard and Edit Network Rules… rely on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeNetwork, networkListsProblem, parseNetworkList } from '../../src/views/network-rules';

describe('network rules', () => {
  it('describes internet on, off and lists', () => {
    assert.equal(describeNetwork({}), 'internet on');
    assert.equal(describeNetwork({ allowInternetAccess: true, network: {} }), 'internet on');
    assert.equal(describeNetwork({ allowInternetAccess: false }), 'internet off');
    assert.equal(
      describeNetwork({ network: { allowOut: ['example.com', '1.1.1.1'], denyOut: ['0.0.0.0/0'] } }),
      'allow example.com, 1.1.1.1 · deny 0.0.0.0/0',
    );
  });

  it('parses lists and says what to write for bad entries', () => {
    assert.deepEqual(parseNetworkList(' 1.1.1.1, 8.8.8.0/24  example.com,*.example.org ', 'allow'), [
      '1.1.1.1',
      '8.8.8.0/24',
      'example.com',
      '*.example.org',
    ]);
    assert.deepEqual(parseNetworkList('', 'deny'), []);
    assert.throws(() => parseNetworkList('example.com', 'deny'), /domains can only be allowed/);
    assert.throws(() => parseNetworkList('10.0.0.0/40', 'deny'), /not an IP address or CIDR block: write e\.g\./);
    assert.throws(() => parseNetworkList('exa mple!', 'allow'), /"mple!" is not an IP address, CIDR block or domain/);
  });

  it('asks for 0.0.0.0/0 in the deny list when domains are allowed', () => {
    assert.match(networkListsProblem(['example.com'], []) ?? '', /add 0\.0\.0\.0\/0 to the deny list/);
    assert.equal(networkListsProblem(['example.com'], ['0.0.0.0/0']), undefined);
    assert.equal(networkListsProblem(['1.1.1.1'], []), undefined);
  });
});
