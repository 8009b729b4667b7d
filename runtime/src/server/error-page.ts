// The gateway's error answer for a browser: a small readable page (what happened, what to do)
// instead of E2B's JSON body, which API clients keep getting. Everything interpolated is
// HTML-escaped, and the page may load nothing (no scripts, no images, inline styles only).
import { ServerResponse } from 'node:http';

export const ERROR_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'";

/** HTML that is already safe to write as is (built by `html`). */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A template tag: the literal parts are trusted, every interpolated value is escaped unless it is SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let text = strings[0];
  values.forEach((value, i) => {
    text += (value instanceof SafeHtml ? value.text : escapeHtml(String(value))) + strings[i + 1];
  });
  return new SafeHtml(text);
}

/** Whether the request is a browser's (page loads send Accept: text/html; the SDKs never do). */
export function wantsHtml(accept: string | string[] | undefined): boolean {
  return /\btext\/html\b/i.test(Array.isArray(accept) ? accept.join(',') : (accept ?? ''));
}

export interface ErrorPage {
  title: string;
  /** What happened, in a sentence. */
  explanation: SafeHtml | string;
  /** What to do about it. */
  advice: SafeHtml | string;
  sandboxId: string;
  port: number;
  status: number;
}

export function errorPageHtml(page: ErrorPage): string {
  return html`<!DOCTYPE html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${page.title}</title>
        <style>
          body {
            font:
              16px/1.5 system-ui,
              sans-serif;
            max-width: 42rem;
            margin: 4rem auto;
            padding: 0 1rem;
            color: #1f1f1f;
            background: #fff;
          }
          h1 {
            font-size: 1.5rem;
          }
          code {
            background: #f0f0f0;
            padding: 0.1em 0.35em;
            border-radius: 4px;
          }
          .meta {
            color: #666;
            font-size: 0.9rem;
          }
          @media (prefers-color-scheme: dark) {
            body {
              color: #ddd;
              background: #1e1e1e;
            }
            code {
              background: #333;
            }
            .meta {
              color: #999;
            }
          }
        </style>
      </head>
      <body>
        <h1>${page.title}</h1>
        <p>${page.explanation}</p>
        <p><strong>What to do:</strong> ${page.advice}</p>
        <p class="meta">
          Sandbox <code>${page.sandboxId}</code> · port <code>${page.port}</code> · HTTP ${page.status} from the local E2B runtime's gateway
        </p>
      </body>
    </html> `.text;
}

export function sendErrorPage(res: ServerResponse, page: ErrorPage): void {
  const payload = Buffer.from(errorPageHtml(page));
  res.writeHead(page.status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': payload.length,
    'content-security-policy': ERROR_PAGE_CSP,
    'x-content-type-options': 'nosniff',
    // Reloading once the server is up must ask again, not show this page from a cache.
    'cache-control': 'no-store',
  });
  res.end(payload);
}
