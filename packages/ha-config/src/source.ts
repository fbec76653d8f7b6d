// Line splitting shared by every parser: positions are 1-based and survive
// CRLF files and a missing final newline.

export interface SourceLine {
  /** 1-based line number. */
  line: number;
  /** The line without its terminator. */
  text: string;
}

export function splitLines(text: string): SourceLine[] {
  // split('\n') and a '\r' dropped before each '\n': the same lines as
  // split(/\r?\n/), without the regex (this runs on every file).
  const parts = text.split('\n');
  const terminated = parts.length - 1;
  // A trailing newline does not start another line.
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  const crlf = text.includes('\r');
  const out: SourceLine[] = new Array(parts.length);
  for (let i = 0; i < parts.length; i++) {
    let t = parts[i] as string;
    if (crlf && i < terminated && t.endsWith('\r')) t = t.slice(0, -1);
    out[i] = { line: i + 1, text: t };
  }
  return out;
}

/** 1-based column of the first non-blank character at or after `from` (0-based). */
export function columnOf(text: string, from = 0): number {
  let i = from;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  return i + 1;
}

/** A word of a line and the 1-based column it starts at. */
export interface Token {
  text: string;
  column: number;
}

/**
 * Splits a Heartbeat-style line (ha.cf, authkeys, haresources) into words.
 * Heartbeat treats `#` as the start of a comment at the beginning of a word;
 * the comment text (without `#`) is returned separately so writers keep it.
 */
export function tokenizeLine(text: string): { tokens: Token[]; comment?: string } {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === ' ' || ch === '\t' || ch === '\f' || ch === '\v' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '#') return { tokens, comment: text.slice(i + 1) };
    const start = i;
    while (i < text.length && !/[ \t\f\v\r]/.test(text[i] as string)) i++;
    tokens.push({ text: text.slice(start, i), column: start + 1 });
  }
  return { tokens };
}

/** One row of the edit-distance table, reused: suggest() runs for every unknown word. */
let row = new Int32Array(64);

/** Edit distance, giving up (returning `limit + 1`) once it must exceed `limit`. */
function levenshtein(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  if (row.length <= b.length) row = new Int32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) row[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    let rowMin = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      const d = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (ca === b.charCodeAt(j - 1) ? 0 : 1));
      row[j] = d;
      if (d < rowMin) rowMin = d;
      prev = cur;
    }
    if (rowMin > limit) return limit + 1;
  }
  return row[b.length] as number;
}

/**
 * The closest known word, for "did you mean …?" hints; undefined when none is
 * close. Short words may be one edit off, longer ones two, long ones three.
 */
export function suggest(word: string, known: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let limit = w.length <= 3 ? 1 : Math.min(3, Math.max(2, Math.floor(w.length / 3)));
  for (const k of known) {
    const d = w === k ? 0 : levenshtein(w, k, limit);
    if (d <= limit && (best === undefined || d < limit)) {
      best = k;
      // Only a strictly closer word replaces it.
      limit = d;
      if (d === 0) break;
    }
  }
  return best;
}

// Address checks shared by the Heartbeat and ldirectord parsers.

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** A dotted-quad IPv4 address: four decimal octets 0..255, no leading zeros (inet_aton would read those as octal). */
export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

/** An IPv6 address (an optional `%zone` allowed), IPv4-mapped tails included. */
export function isIPv6(s: string): boolean {
  const addr = s.split('%')[0] ?? '';
  if (!/^[0-9A-Fa-f:.]+$/.test(addr) || !addr.includes(':')) return false;
  const double = addr.split('::');
  if (double.length > 2) return false;
  const groups = (p: string) => (p === '' ? [] : p.split(':'));
  const parts = [...groups(double[0] ?? ''), ...groups(double[1] ?? '')];
  let count = 0;
  for (const [i, g] of parts.entries()) {
    if (i === parts.length - 1 && g.includes('.')) {
      if (!isIPv4(g)) return false;
      count += 2;
    } else if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return false;
    else count++;
  }
  return double.length === 2 ? count < 8 : count === 8;
}
