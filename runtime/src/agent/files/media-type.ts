// Media-type headers (Content-Type, Content-Disposition) as Go's mime.ParseMediaType and
// mime.FormatMediaType read and write them: parameters as tokens or quoted strings, RFC 2231
// `name*=utf-8''…` for non-ASCII values.

export interface MediaType {
  /** Lower-cased, e.g. "multipart/form-data", "form-data". */
  type: string;
  /** Parameter names lower-cased. */
  params: Record<string, string>;
}

const TSPECIALS = new Set('()<>@,;:\\"/[]?=');

function isTokenChar(c: string): boolean {
  const code = c.charCodeAt(0);
  return code > 0x20 && code < 0x7f && !TSPECIALS.has(c);
}

export function isToken(s: string): boolean {
  return s.length > 0 && [...s].every(isTokenChar);
}

/** Parses "type/sub; a=b; c=\"d\"". Undefined when malformed. */
export function parseMediaType(value: string): MediaType | undefined {
  let i = value.indexOf(';');
  const type = (i < 0 ? value : value.slice(0, i)).trim().toLowerCase();
  if (!type || ![...type].every((c) => isTokenChar(c) || c === '/')) return undefined;
  const params: Record<string, string> = {};
  const extended: Record<string, string> = {};
  let rest = i < 0 ? '' : value.slice(i + 1);
  while (true) {
    rest = rest.replace(/^[\s;]+/, '');
    if (!rest) break;
    i = 0;
    while (i < rest.length && isTokenChar(rest[i])) i++;
    const name = rest.slice(0, i).toLowerCase();
    rest = rest.slice(i).replace(/^\s+/, '');
    if (!name || rest[0] !== '=') return undefined;
    rest = rest.slice(1).replace(/^\s+/, '');
    let paramValue: string;
    if (rest[0] === '"') {
      let out = '';
      let j = 1;
      for (; j < rest.length && rest[j] !== '"'; j++) {
        if (rest[j] === '\\' && j + 1 < rest.length) j++;
        out += rest[j];
      }
      if (j >= rest.length) return undefined; // unterminated
      paramValue = out;
      rest = rest.slice(j + 1);
    } else {
      let j = 0;
      while (j < rest.length && isTokenChar(rest[j])) j++;
      if (j === 0) return undefined;
      paramValue = rest.slice(0, j);
      rest = rest.slice(j);
    }
    if (name.endsWith('*')) extended[name.slice(0, -1)] = paramValue;
    else if (!(name in params)) params[name] = paramValue;
  }
  // RFC 2231 `name*=charset'lang'%xx…` wins over the plain parameter.
  for (const [name, raw] of Object.entries(extended)) {
    const m = /^([^']*)'[^']*'(.*)$/.exec(raw);
    if (!m) continue;
    const charset = m[1].toLowerCase();
    if (charset !== 'utf-8' && charset !== 'us-ascii') continue;
    try {
      params[name] = decodeURIComponent(m[2]);
    } catch {
      // bad escape: keep the plain parameter, if any
    }
  }
  return { type, params };
}

const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/;

/** Go's mime.FormatMediaType for one parameter, e.g. `inline; filename=a.txt`. */
export function formatMediaType(type: string, params: Record<string, string>): string {
  let out = type;
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    if (/[^\x00-\x7f]/.test(value)) {
      let encoded = '';
      for (const byte of Buffer.from(value, 'utf8')) {
        const c = String.fromCharCode(byte);
        encoded += byte < 0x80 && ATTR_CHAR.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
      }
      out += `; ${name}*=utf-8''${encoded}`;
    } else if (isToken(value)) {
      out += `; ${name}=${value}`;
    } else {
      out += `; ${name}="${value.replace(/(["\\])/g, '\\$1')}"`;
    }
  }
  return out;
}
