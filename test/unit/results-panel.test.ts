import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, renderReport } from '../../src/views/results-html';

describe('results panel HTML', () => {
  it('has a strict CSP: no scripts, images from data: only', () => {
    const html = renderReport({ title: 'run', items: [] }, 'vscode-resource:');
    assert.match(html, /default-src 'none'; img-src data: vscode-resource:; style-src 'unsafe-inline' vscode-resource:;/);
    assert.doesNotMatch(html, /<script/);
  });

  it('renders SVG as an image, so scripts inside it never run, and escapes text', () => {
    const svg = new TextEncoder().encode('<svg onload="alert(1)"></svg>');
    const html = renderReport(
      { title: '<t>', items: [[{ mime: 'image/svg+xml', data: svg }], [{ mime: 'text/plain', data: new TextEncoder().encode('<b>') }]] },
      '',
    );
    assert.match(html, /<img alt="result" src="data:image\/svg\+xml;base64,/);
    assert.doesNotMatch(html, /onload=/);
    assert.match(html, /&lt;t&gt;/);
    assert.match(html, /<pre>&lt;b&gt;<\/pre>/);
    assert.equal(escapeHtml('"&'), '&quot;&amp;');
  });

  it('shows the error with its traceback, without terminal colours', () => {
    const html = renderReport(
      { title: 'x', items: [], error: { name: 'ValueError', value: 'bad', traceback: '\x1b[31mTraceback\x1b[0m' } },
      '',
    );
    assert.match(html, /ValueError: bad/);
    assert.match(html, /<pre>Traceback<\/pre>/);
  });
});
