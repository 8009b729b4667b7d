// The results panel's HTML: a page that needs no script, under a strict content security policy.
// Pure: no VS Code API here.
import { MimeItem } from '../providers/notebook/result-mime';

export interface RunReport {
  title: string;
  items: MimeItem[][];
  error?: { name: string; value: string; traceback: string };
}

export function renderReport(report: RunReport, cspSource: string): string {
  const body = report.items.map((items) => `<section class="result">${renderResult(items)}</section>`).join('\n');
  const error = report.error
    ? `<section class="error"><h2>${escapeHtml(report.error.name)}: ${escapeHtml(report.error.value)}</h2><pre>${escapeHtml(stripAnsi(report.error.traceback))}</pre></section>`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data: ${cspSource}; style-src 'unsafe-inline' ${cspSource};">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>E2B Results</title>
<style>
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 12px; }
  h1 { font-size: 1.1em; font-weight: 600; }
  section { border-top: 1px solid var(--vscode-panel-border); padding: 8px 0; overflow-x: auto; }
  pre { font-family: var(--vscode-editor-font-family); white-space: pre-wrap; }
  img { max-width: 100%; background: white; }
  table { border-collapse: collapse; } td, th { border: 1px solid var(--vscode-panel-border); padding: 2px 6px; }
  .error h2 { color: var(--vscode-errorForeground); font-size: 1em; }
</style>
</head>
<body>
<h1>${escapeHtml(report.title)}</h1>
${body}
${error}
</body>
</html>`;
}

/** The richest item of one result, as HTML that needs no script. */
function renderResult(items: MimeItem[]): string {
  const decode = (item: MimeItem) => new TextDecoder().decode(item.data);
  for (const item of items) {
    switch (item.mime) {
      case 'image/png':
      case 'image/jpeg':
        return `<img alt="result" src="data:${item.mime};base64,${Buffer.from(item.data).toString('base64')}">`;
      case 'image/svg+xml':
        // As an image, so scripts inside the SVG never run.
        return `<img alt="result" src="data:image/svg+xml;base64,${Buffer.from(item.data).toString('base64')}">`;
      case 'text/html':
        return decode(item);
      case 'application/json':
        return `<pre>${escapeHtml(decode(item))}</pre>`;
      case 'text/markdown':
      case 'text/plain':
        return `<pre>${escapeHtml(stripAnsi(decode(item)))}</pre>`;
      default:
        break;
    }
  }
  return '';
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}
