// Snapshot names as the explorer reads and makes them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSnapshotName, snapshotLabel, snapshotNameProblem } from '../../src/views/snapshot-names';

describe('snapshot names', () => {
  it('reads a snapshot as its name, with the tag only when it is not the default', () => {
    assert.equal(snapshotLabel({ snapshotId: 'my-team/draft:default', names: ['my-team/draft'] }), 'draft');
    assert.equal(snapshotLabel({ snapshotId: 'draft:v2', names: ['draft'] }), 'draft:v2');
    assert.equal(snapshotLabel({ snapshotId: 'abcdefghij0123456789:default', names: [] }), 'abcdefghij0123456789');
  });

  it('makes a default name E2B accepts from the sandbox name and the time', () => {
    const at = new Date(2026, 11, 2, 6, 48, 12);
    assert.equal(defaultSnapshotName('analysis.ipynb', at), 'analysis-ipynb-20261202-064812');
    assert.equal(defaultSnapshotName('Run Selection (my project)', at), 'run-selection-my-project-20261202-064812');
    assert.equal(defaultSnapshotName('∅∅', at), 'snapshot-20261202-064812');
    assert.equal(snapshotNameProblem(defaultSnapshotName('x'.repeat(90), at)), undefined);
    assert.ok(defaultSnapshotName('x'.repeat(90), at).length <= 56);
  });

  it('says what is wrong with a name before the server does', () => {
    assert.equal(snapshotNameProblem('draft'), undefined);
    assert.equal(snapshotNameProblem('draft:v1.2'), undefined);
    assert.match(snapshotNameProblem('Draft 1')!, /lowercase/);
    assert.match(snapshotNameProblem('draft:V 1')!, /tag/);
    assert.match(snapshotNameProblem('a:b:c')!, /one ":"/);
  });
});
