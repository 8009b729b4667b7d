// GET and POST /files on the agent's router. They authorize themselves: the access token or a
// URL signature (see signature.ts), so links can be handed out without the token.
import { PlainRoute } from '../http-handler';
import { handleDownload } from './download';
import { FilesContext } from './request';
import { handleUpload } from './upload';

export function filesRoutes(ctx: FilesContext): PlainRoute[] {
  return [
    { method: 'GET', path: '/files', auth: 'custom', handle: (req, res) => handleDownload(req, res, ctx) },
    { method: 'POST', path: '/files', auth: 'custom', handle: (req, res) => handleUpload(req, res, ctx) },
  ];
}
