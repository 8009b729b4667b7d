// Reading a whole HTTP request body, with a size cap, for every plain node:http server of the
// runtime: the control plane on the host, and the agent, interpreter and MCP gateway that run in
// sandboxes (each bundles this module). Each server answers an oversized body its own way.
import { IncomingMessage } from 'node:http';

/** The body's bytes; `tooLarge()` is thrown (and the request left unread) once they pass `maxBytes`. */
export async function readBody(req: IncomingMessage, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
