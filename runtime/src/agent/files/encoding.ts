// Content codings for /files (upstream envd's encoding.go): Accept-Encoding negotiation with
// q-values for downloads (gzip or identity), Content-Encoding of uploads (gzip or identity).

export type Coding = 'gzip' | 'identity';

interface Weighted {
  coding: string;
  q: number;
}

function parseWeighted(header: string): Weighted[] {
  return header
    .split(',')
    .map((item) => {
      const [coding, ...params] = item.split(';');
      let q = 1;
      for (const p of params) {
        const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
        if (m && !Number.isNaN(Number(m[1]))) q = Number(m[1]);
      }
      return { coding: coding.trim().toLowerCase(), q };
    })
    .filter((w) => w.coding !== '');
}

/** Identity stays acceptable unless "identity;q=0", or "*;q=0" without identity named. */
export function identityAcceptable(header: string | undefined): boolean {
  if (!header) return true;
  const items = parseWeighted(header);
  const identity = items.filter((w) => w.coding === 'identity');
  if (identity.some((w) => w.q === 0)) return false;
  const identityAccepted = identity.some((w) => w.q > 0);
  return !(items.some((w) => w.coding === '*' && w.q === 0) && !identityAccepted);
}

/** The coding to answer with; undefined when nothing acceptable is supported (406). */
export function negotiateEncoding(header: string | undefined): Coding | undefined {
  if (!header) return 'identity';
  const identityOk = identityAcceptable(header);
  const items = parseWeighted(header).sort((a, b) => b.q - a.q);
  for (const w of items) {
    if (w.q === 0) continue;
    if (w.coding === 'identity') return 'identity';
    if (w.coding === '*') return identityOk ? 'identity' : 'gzip';
    if (w.coding === 'gzip') return 'gzip';
  }
  return identityOk ? 'identity' : undefined;
}

/** An upload's Content-Encoding; undefined when unsupported (400). */
export function requestCoding(header: string | undefined): Coding | undefined {
  if (!header || !header.trim()) return 'identity';
  const coding = header.split(';')[0].trim().toLowerCase();
  if (coding === 'identity' || coding === 'gzip') return coding;
  return undefined;
}
