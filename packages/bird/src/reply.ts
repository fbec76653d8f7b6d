// BIRD's control-socket replies as a pure codec (no I/O): text in, typed
// replies out, and back. The format is nest/cli.c's cli_printf() in BIRD 2:
// every line is a 4-digit code and '-' (more lines follow) or ' ' (the
// reply's last line), then the text; a line that continues the previous
// line's code is written as a single space and the text; a line starting
// with '+' is a spontaneous message (log echo), outside any reply. Codes
// (doc/reply_codes): 0xxx done, 1xxx table rows, 2xxx table headings,
// 8xxx run-time errors, 9xxx parse errors.
import { BirdProtocolError } from './errors.js';

export interface ReplyLine {
  /** the line's reply code; a continuation line carries the code before it */
  code: number;
  text: string;
}

export interface Reply {
  /** the code of the last line: what the command came to */
  code: number;
  /** the last line's text */
  text: string;
  /** every line, the last included */
  lines: ReplyLine[];
}

/** One line of the socket, decoded. */
export type DecodedLine =
  /** `1002-text` (more: true) or `0000 text` (more: false) */
  | { kind: 'coded'; code: number; more: boolean; text: string }
  /** ` text`: the previous line's code again */
  | { kind: 'continuation'; text: string }
  /** `+text`: a spontaneous message (BIRD's log echo), not part of a reply */
  | { kind: 'async'; text: string };

/** BIRD's reply codes (doc/reply_codes of BIRD 2). */
export const REPLY = {
  OK: 0,
  WELCOME: 1,
  READING_CONFIGURATION: 2,
  RECONFIGURED: 3,
  RECONFIGURATION_IN_PROGRESS: 4,
  RECONFIGURATION_QUEUED: 5,
  RECONFIGURATION_IGNORED_SHUTDOWN: 6,
  SHUTDOWN_ORDERED: 7,
  ALREADY_DISABLED: 8,
  DISABLED: 9,
  ALREADY_ENABLED: 10,
  ENABLED: 11,
  RESTARTED: 12,
  STATUS: 13,
  ROUTE_COUNT: 14,
  RELOADING: 15,
  ACCESS_RESTRICTED: 16,
  CONFIGURATION_OK: 20,
  VERSION: 1000,
  INTERFACE_LIST: 1001,
  PROTOCOL_LIST: 1002,
  PROTOCOL_DETAILS: 1006,
  ROUTE_LIST: 1007,
  ROUTE_DETAILS: 1008,
  UPTIME: 1011,
  ROUTE_ATTRIBUTES: 1012,
  BFD_SESSIONS: 1020,
  PROTOCOL_HEADING: 2002,
  REPLY_TOO_LONG: 8000,
  NETWORK_NOT_FOUND: 8001,
  CONFIGURATION_FILE_ERROR: 8002,
  NO_PROTOCOLS_MATCH: 8003,
  STOPPED_BY_RECONFIGURATION: 8004,
  PROTOCOL_DOWN: 8005,
  RELOAD_FAILED: 8006,
  ACCESS_DENIED: 8007,
  COMMAND_TOO_LONG: 9000,
  PARSE_ERROR: 9001,
  INVALID_SYMBOL_TYPE: 9002,
  ARGUMENT_TOO_LONG: 9003,
} as const;

/** 8xxx and 9xxx: BIRD refused the command. */
export function isErrorCode(code: number): boolean {
  return code >= 8000;
}

/** The code as BIRD writes it: four digits. */
export function formatCode(code: number): string {
  return String(code).padStart(4, '0');
}

const CODED = /^(\d{4})([ -])(.*)$/s;

/** Decodes one line (without its '\n'); throws BirdProtocolError on anything else. */
export function decodeLine(line: string): DecodedLine {
  const m = CODED.exec(line);
  if (m) return { kind: 'coded', code: Number(m[1]), more: m[2] === '-', text: m[3] as string };
  // One space is the marker; what follows is the row's own text (BIRD's rows
  // often start with more spaces or a tab).
  if (line.startsWith(' ')) return { kind: 'continuation', text: line.slice(1) };
  if (line.startsWith('+')) return { kind: 'async', text: line.slice(1) };
  throw new BirdProtocolError(line, 'not a reply line (4-digit code and "-" or " ", a continuation, or "+")');
}

/** Encodes one line as BIRD writes it (without the '\n'). */
export function encodeLine(line: DecodedLine): string {
  if (/\n/.test(line.text)) throw new BirdProtocolError(line.text, 'a reply line cannot hold a newline');
  switch (line.kind) {
    case 'coded':
      if (!Number.isInteger(line.code) || line.code < 0 || line.code > 9999)
        throw new BirdProtocolError(String(line.code), 'a reply code is 0-9999');
      return `${formatCode(line.code)}${line.more ? '-' : ' '}${line.text}`;
    case 'continuation':
      return ` ${line.text}`;
    case 'async':
      return `+${line.text}`;
  }
}

/**
 * Encodes a reply as BIRD's cli_printf() does: the first line of each run
 * of one code carries the code, the others are continuations, the last line
 * carries its code and a space.
 */
export function encodeReply(reply: Reply): string {
  if (reply.lines.length === 0) throw new BirdProtocolError('', 'a reply has at least one line');
  const last = reply.lines[reply.lines.length - 1] as ReplyLine;
  if (last.code !== reply.code || last.text !== reply.text)
    throw new BirdProtocolError(reply.text, "a reply's code and text are its last line's");
  let out = '';
  let previous: number | undefined;
  reply.lines.forEach((line, i) => {
    if (i === reply.lines.length - 1) {
      out += `${encodeLine({ kind: 'coded', code: line.code, more: false, text: line.text })}\n`;
    } else if (line.code === previous) {
      out += `${encodeLine({ kind: 'continuation', text: line.text })}\n`;
    } else {
      out += `${encodeLine({ kind: 'coded', code: line.code, more: true, text: line.text })}\n`;
      previous = line.code;
    }
  });
  return out;
}

export interface ReplyDecoderOptions {
  /** called with each spontaneous ('+') message; they are otherwise dropped */
  onAsync?: (text: string) => void;
}

/**
 * Turns the socket's text into replies, incrementally: lines may arrive
 * split across chunks; a reply is complete at its line with ' ' after the
 * code. Throws BirdProtocolError on a line that is not BIRD's syntax (the
 * stream is then lost: the caller closes it).
 */
export class ReplyDecoder {
  #partial = '';
  #lines: ReplyLine[] = [];
  readonly #onAsync: ((text: string) => void) | undefined;

  constructor(options: ReplyDecoderOptions = {}) {
    this.#onAsync = options.onAsync;
  }

  /** Feeds text from the socket; returns the replies it completed, in order. */
  push(chunk: string): Reply[] {
    const done: Reply[] = [];
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const line of parts) {
      const reply = this.#line(line);
      if (reply) done.push(reply);
    }
    return done;
  }

  /** True when a reply has started and not yet ended (or a line is incomplete). */
  get pending(): boolean {
    return this.#lines.length > 0 || this.#partial.length > 0;
  }

  #line(raw: string): Reply | undefined {
    const line = decodeLine(raw);
    if (line.kind === 'async') {
      this.#onAsync?.(line.text);
      return undefined;
    }
    if (line.kind === 'continuation') {
      const last = this.#lines[this.#lines.length - 1];
      if (!last) throw new BirdProtocolError(raw, 'continuation line without a reply code before it');
      this.#lines.push({ code: last.code, text: line.text });
      return undefined;
    }
    this.#lines.push({ code: line.code, text: line.text });
    if (line.more) return undefined;
    const lines = this.#lines;
    this.#lines = [];
    return { code: line.code, text: line.text, lines };
  }
}

/** Decodes a whole text of complete replies (e.g. a recorded session). */
export function decodeReplies(text: string, options: ReplyDecoderOptions = {}): Reply[] {
  const decoder = new ReplyDecoder(options);
  const replies = decoder.push(text.endsWith('\n') ? text : `${text}\n`);
  if (decoder.pending) throw new BirdProtocolError(text.slice(-80), 'text ends inside a reply');
  return replies;
}

/** Decodes a text that holds exactly one complete reply. */
export function decodeReply(text: string): Reply {
  const replies = decodeReplies(text);
  if (replies.length !== 1)
    throw new BirdProtocolError(text.slice(0, 80), `expected one reply, found ${replies.length}`);
  return replies[0] as Reply;
}

/** The longest command line BIRD takes, in bytes (nest/cli.c: CLI_RX_BUF_SIZE 4096 less 2; longer is 9000). */
export const MAX_COMMAND_LENGTH = 4093;

/** Encodes a command line for the socket; refuses newlines and lines BIRD would call too long (9000). */
export function encodeCommand(line: string): string {
  if (/[\n\r]/.test(line)) throw new BirdProtocolError(line, 'a BIRD command is one line');
  if (Buffer.byteLength(line) > MAX_COMMAND_LENGTH)
    throw new BirdProtocolError(line.slice(0, 80), `a BIRD command is at most ${MAX_COMMAND_LENGTH} bytes`);
  return `${line}\n`;
}
