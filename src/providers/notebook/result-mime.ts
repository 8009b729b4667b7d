// Code-interpreter results → MIME-typed output items, richest first (the Jupyter extension's
// order): html > markdown > png > svg > jpeg > json > text. Pure: no VS Code API here.
export interface ResultLike {
  text?: string;
  html?: string;
  markdown?: string;
  svg?: string;
  png?: string;
  jpeg?: string;
  pdf?: string;
  latex?: string;
  json?: unknown;
  javascript?: string;
  data?: Record<string, unknown>;
  chart?: unknown;
  extra?: Record<string, unknown>;
}

export interface MimeItem {
  mime: string;
  data: Uint8Array;
}

const encoder = new TextEncoder();
const text = (mime: string, value: string): MimeItem => ({ mime, data: encoder.encode(value) });
const base64 = (mime: string, value: string): MimeItem => ({ mime, data: Buffer.from(value, 'base64') });

/** E2B's structured chart and DataFrame data, so renderers and tools can use them. */
export const E2B_CHART_MIME = 'application/vnd.e2b.chart+json';
export const E2B_DATA_MIME = 'application/vnd.e2b.data+json';

export function resultMimeItems(result: ResultLike): MimeItem[] {
  const items: MimeItem[] = [];
  if (result.html) items.push(text('text/html', result.html));
  if (result.markdown) items.push(text('text/markdown', result.markdown));
  if (result.png) items.push(base64('image/png', result.png));
  if (result.svg) items.push(text('image/svg+xml', result.svg));
  if (result.jpeg) items.push(base64('image/jpeg', result.jpeg));
  if (result.pdf) items.push(base64('application/pdf', result.pdf));
  if (result.latex) items.push(text('text/latex', result.latex));
  if (result.json !== undefined && result.json !== null) {
    items.push(text('application/json', typeof result.json === 'string' ? result.json : JSON.stringify(result.json, null, 2)));
  }
  if (result.javascript) items.push(text('application/javascript', result.javascript));
  if (result.chart) items.push(text(E2B_CHART_MIME, JSON.stringify(result.chart)));
  if (result.data) items.push(text(E2B_DATA_MIME, JSON.stringify(result.data)));
  for (const [mime, value] of Object.entries(result.extra ?? {})) {
    if (typeof value === 'string') items.push(text(mime, value));
  }
  if (result.text !== undefined) items.push(text('text/plain', result.text));
  return items;
}

/** Editor language ids → code-interpreter languages. */
export function interpreterLanguage(languageId: string): string | undefined {
  switch (languageId) {
    case 'python':
      return 'python';
    case 'javascript':
    case 'javascriptreact':
      return 'javascript';
    case 'typescript':
    case 'typescriptreact':
      return 'typescript';
    case 'shellscript':
    case 'bash':
    case 'sh':
      return 'bash';
    case 'r':
      return 'r';
    case 'java':
      return 'java';
    default:
      return undefined;
  }
}

export const NOTEBOOK_LANGUAGES = ['python', 'javascript', 'typescript', 'shellscript', 'r', 'java'];
