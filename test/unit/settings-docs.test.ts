// Every setting the extension contributes is documented (a description and a default), and the
// README's "Settings" table is the one scripts/settings-table.mjs generates from package.json.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error: a plain ES module script without type declarations
import { readmeTable, settingsOf, settingsTable } from '../../scripts/settings-table.mjs';

const REPO = join(__dirname, '../..');
const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));

describe('settings documentation', () => {
  const settings = settingsOf(manifest) as { key: string; schema: Record<string, unknown> }[];

  it('finds the contributed settings', () => {
    assert.ok(settings.length >= 10, `${settings.length} settings`);
    assert.ok(settings.some((s) => s.key === 'e2b.local.autoStart'));
  });

  it('gives every setting a description and a default', () => {
    for (const { key, schema } of settings) {
      const text = (schema.markdownDescription ?? schema.description) as string | undefined;
      assert.ok(text && text.trim().length >= 20, `${key} has a clear description`);
      assert.ok('default' in schema, `${key} has a default`);
      if (Array.isArray(schema.enum))
        assert.equal((schema.enumDescriptions as unknown[] | undefined)?.length, schema.enum.length, `${key} describes each value`);
    }
  });

  it('README.md lists the settings as package.json declares them (node scripts/settings-table.mjs --write)', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const table = readmeTable(readme);
    assert.ok(table, 'README.md has the generated settings table between its markers');
    assert.equal(table, settingsTable(manifest));
  });
});
