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
