// Line splitting shared by every parser: positions are 1-based and survive
// CRLF files and a missing final newline.

export interface SourceLine {
  /** 1-based line number. */
  line: number;
  /** The line without its terminator. */
  text: string;
}

export function splitLines(text: string): SourceLine[] {
  const parts = text.split(/\r?\n/);
  // A trailing newline does not start another line.
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts.map((t, i) => ({ line: i + 1, text: t }));
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

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] as number;
}

/** The closest known word, for "did you mean …?" hints; undefined when none is close. */
export function suggest(word: string, known: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(w.length / 3)) + 1;
  for (const k of known) {
    const d = levenshtein(w, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}
