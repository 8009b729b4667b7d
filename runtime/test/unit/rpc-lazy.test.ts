// RpcRouter.registerLazy (src/agent/connect/rpc.ts): a lazily registered service loads on the
// first call under its name, once, and never for another service's paths.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RpcRouter } from '../../src/agent/connect/rpc';

describe('RpcRouter.registerLazy', () => {
  it('loads the service on the first call to it, once', () => {
    const router = new RpcRouter();
    let loads = 0;
    router.register('process.Process', { List: { kind: 'unary', handle: () => ({}) } });
    router.registerLazy('filesystem.Filesystem', () => {
      loads++;
      router.register('filesystem.Filesystem', { Stat: { kind: 'unary', handle: () => ({}) } });
    });
    assert.equal(router.has('/process.Process/List'), true);
    assert.equal(router.has('/process.Process/Stat'), false);
    assert.equal(router.has('/filesystem.FilesystemX/Stat'), false);
    assert.equal(loads, 0);
    assert.equal(router.has('/filesystem.Filesystem/Stat'), true);
    assert.equal(router.has('/filesystem.Filesystem/Nope'), false);
    assert.equal(router.has('/filesystem.Filesystem/Stat'), true);
    assert.equal(loads, 1);
  });

  it('answers an unknown method of a lazy service as unknown, after loading it', () => {
    const router = new RpcRouter();
    let loads = 0;
    router.registerLazy('filesystem.Filesystem', () => {
      loads++;
      router.register('filesystem.Filesystem', { Stat: { kind: 'unary', handle: () => ({}) } });
    });
    assert.equal(router.has('/filesystem.Filesystem/Nope'), false);
    assert.equal(loads, 1);
    assert.equal(router.has('/filesystem.Filesystem/Stat'), true);
  });
});
