// Template tags through the official SDK (protocol §1.3) against a real runtime: tags at build,
// Template.assignTags / removeTags / getTags, "name:tag" in Sandbox.create and fromTemplate, what
// a rebuild moves, and E2B's errors for bad or unknown tags.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BuildError, Sandbox, SandboxError, Template, TemplateError } from 'e2b';
import { RuntimeProcess } from './helpers/runtime-process';

describe('template tags', () => {
  let runtime: RuntimeProcess;
  /** Build IDs by what /tmp/version holds in them. */
  const builds: Record<string, string> = {};
  const sandboxes: Sandbox[] = [];

  before(async () => {
    runtime = await RuntimeProcess.start();
  });
  after(async () => {
    await Promise.all(sandboxes.map((s) => s.kill().catch(() => undefined)));
    await runtime?.dispose();
  });

  /** A template whose /tmp/version says which build it is. */
  const versioned = (version: string) => Template().fromTemplate('base').runCmd(`echo ${version} > /tmp/version`);
  const build = (template: Parameters<typeof Template.build>[0], name: string, tags?: string[]) =>
    Template.build(template, name, { ...runtime.sdk, cpuCount: 1, memoryMB: 512, tags });

  async function versionIn(ref: string): Promise<string> {
    const sandbox = await Sandbox.create(ref, runtime.sdk);
    sandboxes.push(sandbox);
    return (await sandbox.commands.run('cat /tmp/version')).stdout.trim();
  }

  /** The tag → build ID map the SDK's getTags gives. */
  async function tagsOf(name: string): Promise<Record<string, string>> {
    const tags = await Template.getTags(name, runtime.sdk);
    for (const t of tags) assert.ok(t.createdAt instanceof Date && !Number.isNaN(t.createdAt.getTime()), `createdAt of ${t.tag}`);
    return Object.fromEntries(tags.map((t) => [t.tag, t.buildId]));
  }

  /** Asserts an SDK call fails with exactly this error class, status and message. */
  async function rejectsWith(call: Promise<unknown>, errorClass: new (...args: never[]) => Error, message: RegExp): Promise<void> {
    await assert.rejects(call, (err: Error) => {
      assert.equal(err.constructor, errorClass, `${err.constructor.name}: ${err.message}`);
      assert.match(err.message, message);
      return true;
    });
  }

  it('builds name:tag with more tags; only those tags are set, and sandboxes start by each', async () => {
    const info = await build(versioned('one'), 'tagged:v1', ['stable', 'Stable']);
    builds.one = info.buildId;
    assert.deepEqual([...info.tags].sort(), ['stable', 'v1'], 'the build answers with its tags, normalized and deduplicated');
    assert.deepEqual(await tagsOf('tagged'), { stable: builds.one, v1: builds.one });
    assert.equal(await versionIn('tagged:v1'), 'one');
    assert.equal(await versionIn('tagged:stable'), 'one');
    // As on E2B, a build with tags gets only those: "tagged" alone means the default tag, which no build has yet.
    await rejectsWith(Sandbox.create('tagged', runtime.sdk), SandboxError, /^404: tag 'default' does not exist for template 'tagged'$/);
    assert.equal(await Template.exists('tagged', runtime.sdk), true);
  });

  it('moves default (and the given tags) to a rebuild, while other tags stay on their build', async () => {
    const two = await build(versioned('two'), 'tagged');
    builds.two = two.buildId;
    assert.deepEqual(two.tags, ['default']);
    assert.deepEqual(await tagsOf('tagged'), { default: builds.two, stable: builds.one, v1: builds.one });
    assert.equal(await versionIn('tagged'), 'two');
    assert.equal(await versionIn('tagged:default'), 'two', '":default" is the same as no tag');
    assert.equal(await versionIn('tagged:v1'), 'one', 'v1 still starts the first build');

    const three = await build(versioned('three'), 'tagged', ['default', 'stable']);
    builds.three = three.buildId;
    assert.deepEqual(await tagsOf('tagged'), { default: builds.three, stable: builds.three, v1: builds.one });
    assert.equal(await versionIn('tagged:stable'), 'three');
    assert.equal(await versionIn('tagged:v1'), 'one');
    assert.equal(await versionIn(`tagged:${builds.two}`), 'two', 'a build ID in place of a tag starts that build, as on E2B');
  });

  it('assigns tags to the build a name:tag points at, and removes them', async () => {
    const assigned = await Template.assignTags('tagged:v1', ['prod', 'PROD', 'canary'], runtime.sdk);
    assert.equal(assigned.buildId, builds.one);
    assert.deepEqual(assigned.tags, ['prod', 'canary']);
    assert.equal(await versionIn('tagged:prod'), 'one');
    // Rolling default back: assigning it to an older build moves it there.
    assert.equal((await Template.assignTags('tagged:v1', 'default', runtime.sdk)).buildId, builds.one);
    assert.equal(await versionIn('tagged'), 'one');
    assert.equal((await Template.assignTags(`tagged:${builds.three}`, 'default', runtime.sdk)).buildId, builds.three);

    const onProd = await Sandbox.create('tagged:prod', runtime.sdk);
    sandboxes.push(onProd);
    await Template.removeTags('tagged', ['prod', 'canary', 'never-assigned'], runtime.sdk);
    assert.deepEqual(await tagsOf('tagged'), { default: builds.three, stable: builds.three, v1: builds.one });
    await rejectsWith(Sandbox.create('tagged:prod', runtime.sdk), SandboxError, /^404: tag 'prod' does not exist for template 'tagged'$/);
    // A sandbox started from a tag keeps its files once the tag is gone.
    assert.equal((await onProd.commands.run('cat /tmp/version')).stdout.trim(), 'one');

    await rejectsWith(Template.removeTags('tagged', 'default', runtime.sdk), TemplateError, /^400: Cannot delete the 'default' tag$/);
    await rejectsWith(
      Template.removeTags('tagged:v1', 'stable', runtime.sdk),
      TemplateError,
      /^400: Template name should not contain a tag, use the 'tags' field instead$/,
    );
    await rejectsWith(Template.removeTags('tagged', [], runtime.sdk), TemplateError, /^400: At least one tag is required$/);
    await rejectsWith(Template.removeTags('missing', 'v1', runtime.sdk), TemplateError, /^404: template 'missing' not found$/);
    assert.equal(await versionIn('tagged:stable'), 'three', 'a failed removal changes nothing');
  });

  it('builds fromTemplate(name:tag) on the build the tag points at', async () => {
    await build(Template().fromTemplate('tagged:v1').runCmd('cp /tmp/version /tmp/parent'), 'child');
    const sandbox = await Sandbox.create('child', runtime.sdk);
    sandboxes.push(sandbox);
    assert.equal((await sandbox.commands.run('cat /tmp/parent')).stdout.trim(), 'one');
    await rejectsWith(
      build(Template().fromTemplate('tagged:nope'), 'orphan'),
      BuildError,
      /^tag 'nope' does not exist for template 'tagged'$/,
    );
    await rejectsWith(build(Template().fromTemplate('base:v2'), 'orphan'), BuildError, /^tag 'v2' does not exist for template 'base'$/);
    await rejectsWith(
      build(Template().fromTemplate('tagged:Not Valid'), 'orphan'),
      BuildError,
      /^invalid template reference: invalid tag: Not Valid$/,
    );
    assert.equal(await Template.exists('orphan', runtime.sdk), false, 'failed builds make no template');
  });

  it("gives E2B's errors for bad tag syntax and unknown tags or templates", async () => {
    await rejectsWith(build(versioned('x'), 'tagged:no spaces'), BuildError, /^400: Invalid name: invalid tag: no spaces$/);
    await rejectsWith(
      build(versioned('x'), 'tagged', ['ok', 'bad/tag']),
      BuildError,
      /^400: Invalid tag: invalid tag 'bad\/tag': invalid tag: bad\/tag$/,
    );
    await rejectsWith(
      build(versioned('x'), 'tagged', ['9b2f3a3e-1d2c-4b5a-8e7f-0a1b2c3d4e5f']),
      BuildError,
      /^400: Invalid tag: invalid tag '.*': tag cannot be a UUID$/,
    );
    await rejectsWith(
      Template.assignTags('tagged:nope', 'x', runtime.sdk),
      TemplateError,
      /^404: Template 'tagged:nope' with tag 'nope' not found$/,
    );
    await rejectsWith(Template.assignTags('missing:v1', 'x', runtime.sdk), TemplateError, /^404: template 'missing' not found$/);
    await rejectsWith(
      Template.assignTags('tagged:v1', 'has space', runtime.sdk),
      TemplateError,
      /^400: Invalid tag: invalid tag 'has space': invalid tag: has space$/,
    );
    await rejectsWith(
      Template.assignTags('tagged:v1:extra', 'x', runtime.sdk),
      TemplateError,
      /^400: Invalid target template format: invalid tag: v1:extra$/,
    );
    await rejectsWith(Template.assignTags('base', 'mine', runtime.sdk), TemplateError, /^403: 'base' is a built-in image/);
    await rejectsWith(Template.getTags('missing', runtime.sdk), TemplateError, /^404: template 'missing' not found$/);
    await rejectsWith(
      Sandbox.create('tagged:unknown', runtime.sdk),
      SandboxError,
      /^404: tag 'unknown' does not exist for template 'tagged'$/,
    );
    await rejectsWith(
      Sandbox.create('tagged:bad tag!', runtime.sdk),
      SandboxError,
      /^400: Invalid template reference: invalid tag: bad tag!$/,
    );
    await rejectsWith(Sandbox.create('base:v9', runtime.sdk), SandboxError, /^404: tag 'v9' does not exist for template 'base'$/);
    // Built-in images have one build, tagged default.
    assert.deepEqual(Object.keys(await tagsOf('base')), ['default']);
    assert.equal(await Template.exists('x', runtime.sdk), false);
    assert.deepEqual(Object.keys(await tagsOf('tagged')).sort(), ['default', 'stable', 'v1'], 'no rejected call changed the tags');
  });

  it('fails a RUN step as E2B words it, and a failed build moves no tag', async () => {
    await rejectsWith(
      build(Template().fromTemplate('base').runCmd('echo about to fail; exit 3'), 'tagged', ['stable']),
      BuildError,
      /^failed to run command 'echo about to fail; exit 3': exit status 3$/,
    );
    assert.deepEqual(await tagsOf('tagged'), { default: builds.three, stable: builds.three, v1: builds.one });
    // A command that takes the build sandbox's agent down with it ends without an exit status.
    await rejectsWith(
      build(Template().fromTemplate('base').runCmd('sleep 1; kill -9 -1', { user: 'root' }), 'tagged'),
      BuildError,
      /^failed to run command 'sleep 1; kill -9 -1': command failed: \S/,
    );
    assert.deepEqual(
      readdirSync(join(runtime.dataDir, 'sandboxes')).filter((d) => d.startsWith('build')),
      [],
      'no build container is left',
    );
    assert.deepEqual(await tagsOf('tagged'), { default: builds.three, stable: builds.three, v1: builds.one });
  });

  it('reads a template saved before tags as one build tagged default', async () => {
    // What the runtime wrote before tags: one build's fields at the top of <name>.json.
    const current = JSON.parse(readFileSync(join(runtime.dataDir, 'templates', 'tagged.json'), 'utf8'));
    const b = current.builds[builds.two];
    const legacy = {
      templateID: 'legacy',
      buildID: b.buildID,
      createdAt: b.createdAt,
      updatedAt: b.createdAt,
      buildCount: 1,
      cpuCount: 1,
      memoryMB: 512,
      layers: b.layers,
      baseRootfs: b.baseRootfs,
      envs: b.envs,
      user: b.user,
    };
    writeFileSync(join(runtime.dataDir, 'templates', 'legacy.json'), JSON.stringify(legacy));
    assert.deepEqual(await tagsOf('legacy'), { default: builds.two });
    assert.equal(await versionIn('legacy'), 'two');
  });
});
