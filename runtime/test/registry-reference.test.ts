// How image references name registries, repositories and tags, as Docker reads them (pure
// parsing: the names here are never contacted).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopbackHost, parseImageReference } from '../src/image/registry/reference';

describe('image references', () => {
  it("reads bare names as Docker Hub's library images, served by registry-1.docker.io", () => {
    const ref = parseImageReference('python:3.11');
    assert.deepEqual(
      [ref.registry, ref.apiHost, ref.repository, ref.reference, ref.loopback],
      ['docker.io', 'registry-1.docker.io', 'library/python', '3.11', false],
    );
    assert.equal(parseImageReference('ubuntu').reference, 'latest');
    assert.equal(parseImageReference('oven/bun:1').repository, 'oven/bun');
    assert.equal(parseImageReference('docker.io/library/node:20').display, 'docker.io/library/node:20');
    assert.equal(parseImageReference('index.docker.io/nginx').repository, 'library/nginx');
  });

  it('takes a first component with a dot, a port or localhost as the registry host', () => {
    const local = parseImageReference('127.0.0.1:5000/test/app:1');
    assert.deepEqual([local.apiHost, local.repository, local.reference, local.loopback], ['127.0.0.1:5000', 'test/app', '1', true]);
    const ghcr = parseImageReference(`ghcr.io/org/app@sha256:${'a'.repeat(64)}`);
    assert.deepEqual(
      [ghcr.apiHost, ghcr.repository, ghcr.tag, ghcr.reference],
      ['ghcr.io', 'org/app', undefined, `sha256:${'a'.repeat(64)}`],
    );
    assert.equal(parseImageReference('localhost/app').apiHost, 'localhost');
    assert.equal(parseImageReference('localhost:5000/app:2').loopback, true);
  });

  it('refuses malformed references', () => {
    for (const bad of ['Python:3', 'app@sha256:xyz', 'a//b', 'app:bad tag', ''])
      assert.throws(() => parseImageReference(bad), /invalid image reference/, bad);
  });

  it('allows plain http only for loopback hosts', () => {
    for (const host of ['127.0.0.1:5000', '127.1.2.3', 'localhost:80', '[::1]:5000']) assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['10.0.0.1:5000', 'registry.local:5000', '[fe80::1]:5000', '128.0.0.1'])
      assert.equal(isLoopbackHost(host), false, host);
  });
});
