// Content-Type of a downloaded file, as Go's http.ServeContent picks it: by extension (Go's
// built-in table plus the sandbox's /etc/mime.types), else by sniffing the first 512 bytes
// (the WHATWG algorithm behind http.DetectContentType).
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';

export const SNIFF_LENGTH = 512;

const BUILTIN: Record<string, string> = {
  '.avif': 'image/avif',
  '.css': 'text/css; charset=utf-8',
  '.gif': 'image/gif',
  '.htm': 'text/html; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.jpeg': 'image/jpeg',
  '.jpg': 'image/jpeg',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.mjs': 'text/javascript; charset=utf-8',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.webp': 'image/webp',
  '.xml': 'text/xml; charset=utf-8',
};

const MIME_TYPE_FILES = ['/etc/mime.types', '/etc/apache2/mime.types', '/etc/apache/mime.types', '/etc/httpd/conf/mime.types'];

let table: Map<string, string> | undefined;

function extensionTable(): Map<string, string> {
  if (table) return table;
  table = new Map();
  // System files first, the built-in table on top (Go's order: built-ins win).
  for (const file of MIME_TYPE_FILES) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const fields = line.replace(/#.*/, '').trim().split(/\s+/);
      if (fields.length < 2) continue;
      let type = fields[0];
      if (type.startsWith('text/') && !type.includes('charset')) type += '; charset=utf-8';
      for (const ext of fields.slice(1)) if (!table.has(`.${ext}`)) table.set(`.${ext}`, type);
    }
  }
  for (const [ext, type] of Object.entries(BUILTIN)) table.set(ext, type);
  return table;
}

export function typeByExtension(name: string): string | undefined {
  const ext = extname(name);
  if (!ext) return undefined;
  const types = extensionTable();
  return types.get(ext) ?? types.get(ext.toLowerCase());
}

const WHITESPACE = new Set([0x09, 0x0a, 0x0c, 0x0d, 0x20]);
const HTML_TAGS = [
  '<!DOCTYPE HTML',
  '<HTML',
  '<HEAD',
  '<SCRIPT',
  '<IFRAME',
  '<H1',
  '<DIV',
  '<FONT',
  '<TABLE',
  '<A',
  '<STYLE',
  '<TITLE',
  '<B',
  '<BODY',
  '<BR',
  '<P',
  '<!--',
];

/** [signature with "?" as a wildcard byte, type]; matched at offset 0. */
const EXACT: [string, string][] = [
  ['%PDF-', 'application/pdf'],
  ['%!PS-Adobe-', 'application/postscript'],
  ['\xfe\xff', 'text/plain; charset=utf-16be'],
  ['\xff\xfe', 'text/plain; charset=utf-16le'],
  ['\xef\xbb\xbf', 'text/plain; charset=utf-8'],
  ['\x00\x00\x01\x00', 'image/x-icon'],
  ['\x00\x00\x02\x00', 'image/x-icon'],
  ['BM', 'image/bmp'],
  ['GIF87a', 'image/gif'],
  ['GIF89a', 'image/gif'],
  ['RIFF????WEBPVP', 'image/webp'],
  ['\x89PNG\r\n\x1a\n', 'image/png'],
  ['\xff\xd8\xff', 'image/jpeg'],
  ['FORM????AIFF', 'audio/aiff'],
  ['ID3', 'audio/mpeg'],
  ['OggS\x00', 'application/ogg'],
  ['MThd\x00\x00\x00\x06', 'audio/midi'],
  ['RIFF????AVI ', 'video/avi'],
  ['RIFF????WAVE', 'audio/wave'],
  ['\x1a\x45\xdf\xa3', 'video/webm'],
  ['wOFF', 'font/woff'],
  ['wOF2', 'font/woff2'],
  ['OTTO', 'font/otf'],
  ['ttcf', 'font/collection'],
  ['\x00\x01\x00\x00', 'font/ttf'],
  ['\x1f\x8b\x08', 'application/x-gzip'],
  ['PK\x03\x04', 'application/zip'],
  ['Rar!\x1a\x07\x00', 'application/x-rar-compressed'],
  ['Rar!\x1a\x07\x01\x00', 'application/x-rar-compressed'],
  ['\x00asm', 'application/wasm'],
];

function matchesAt(data: Buffer, offset: number, sig: string, caseInsensitive = false): boolean {
  if (data.length - offset < sig.length) return false;
  for (let i = 0; i < sig.length; i++) {
    if (sig[i] === '?' && !caseInsensitive) continue;
    let b = data[offset + i];
    if (caseInsensitive && b >= 0x61 && b <= 0x7a) b -= 0x20;
    if (b !== sig.charCodeAt(i)) return false;
  }
  return true;
}

function isMp4(data: Buffer): boolean {
  if (data.length < 12) return false;
  const boxSize = data.readUInt32BE(0);
  if (data.length < boxSize || boxSize % 4 !== 0 || boxSize < 12) return false;
  if (data.toString('latin1', 4, 8) !== 'ftyp') return false;
  for (let st = 8; st < boxSize; st += 4) {
    if (st === 12) continue; // the minor version
    if (data.toString('latin1', st, st + 3) === 'mp4') return true;
  }
  return false;
}

/** http.DetectContentType: always returns a type, "application/octet-stream" at worst. */
export function sniffContentType(data: Buffer): string {
  data = data.subarray(0, SNIFF_LENGTH);
  let ws = 0;
  while (ws < data.length && WHITESPACE.has(data[ws])) ws++;
  for (const tag of HTML_TAGS) {
    if (matchesAt(data, ws, tag, true) && (data[ws + tag.length] === 0x20 || data[ws + tag.length] === 0x3e))
      return 'text/html; charset=utf-8';
  }
  if (matchesAt(data, ws, '<?xml')) return 'text/xml; charset=utf-8';
  for (const [sig, type] of EXACT) if (matchesAt(data, 0, sig)) return type;
  if (isMp4(data)) return 'video/mp4';
  const binary = data.some((b) => b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f));
  return binary ? 'application/octet-stream' : 'text/plain; charset=utf-8';
}
