import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { interpreterLanguage, resultMimeItems } from '../../src/providers/notebook/result-mime';

describe('code-interpreter results as MIME items', () => {
  it('orders the richest representation first and decodes images to bytes', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47]).toString('base64');
    const items = resultMimeItems({ text: '<Figure>', png, chart: { type: 'bar', elements: [] }, html: '<b>x</b>' });
    assert.deepEqual(
      items.map((i) => i.mime),
      ['text/html', 'image/png', 'application/vnd.e2b.chart+json', 'text/plain'],
    );
    assert.deepEqual([...items[1].data], [0x89, 0x50, 0x4e, 0x47]);
    assert.equal(new TextDecoder().decode(items[3].data), '<Figure>');
  });

  it('serialises JSON and keeps extra MIME types', () => {
    const items = resultMimeItems({ json: { a: 1 }, extra: { 'application/geo+json': '{}' }, data: { n: [1] } });
    assert.deepEqual(
      items.map((i) => i.mime),
      ['application/json', 'application/vnd.e2b.data+json', 'application/geo+json'],
    );
    assert.deepEqual(JSON.parse(new TextDecoder().decode(items[0].data)), { a: 1 });
  });

  it('maps editor languages to interpreter languages', () => {
    assert.equal(interpreterLanguage('python'), 'python');
    assert.equal(interpreterLanguage('typescriptreact'), 'typescript');
    assert.equal(interpreterLanguage('shellscript'), 'bash');
    assert.equal(interpreterLanguage('r'), 'r');
    assert.equal(interpreterLanguage('java'), 'java');
    assert.equal(interpreterLanguage('markdown'), undefined);
  });
});
