// GET and POST /files on the agent's router. They authorize themselves: the access token or a
// URL signature (see signature.ts), so links can be handed out without the token. Their code
// (multipart, content types, node:fs/promises, node:crypto) loads on the first request: a cold
// sandbox's start-up and first command need none of it.
import type { PlainRoute } from '../http-handler';
import type { FilesContext } from './request';

/* eslint-disable @typescript-eslint/no-require-imports -- a static import would load it at start-up */
const download = () => require('./download') as typeof import('./download');
const upload = () => require('./upload') as typeof import('./upload');
/* eslint-enable @typescript-eslint/no-require-imports */

export function filesRoutes(ctx: FilesContext): PlainRoute[] {
  return [
    { method: 'GET', path: '/files', auth: 'custom', handle: (req, res) => download().handleDownload(req, res, ctx) },
    { method: 'POST', path: '/files', auth: 'custom', handle: (req, res) => upload().handleUpload(req, res, ctx) },
  ];
}
