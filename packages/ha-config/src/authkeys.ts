// authkeys: `auth N` selects the key Heartbeat signs with; `N method [key]`
// lines list the keys it accepts (several, to change keys without a flash
// cut). Heartbeat refuses the file when group or others can access it.
import { type ConfigError, fileProblem, type ParseResult } from './errors.js';
import { splitLines, suggest, tokenizeLine } from './source.js';

export type AuthMethod = 'crc' | 'md5' | 'sha1';
export const AUTH_METHODS: readonly AuthMethod[] = ['crc', 'md5', 'sha1'];

export interface AuthKey {
  index: number;
  method: AuthMethod;
  /** Absent for crc, which takes no key. */
  key?: string;
  line?: number;
  before?: string[];
  comment?: string;
}

export interface Authkeys {
  /** The key index used to sign outgoing packets (`auth N`). */
  auth: number;
  authLine?: number;
  authBefore?: string[];
  authComment?: string;
  keys: AuthKey[];
  trailer: string[];
  /** File mode as read from disk (e.g. 0o600), when the caller passed it. */
  mode?: number;
}

export interface ParseAuthkeysOptions {
  file?: string;
  /** The file's permission bits (stat.mode & 0o7777); checked as Heartbeat does. */
  mode?: number;
}

/** Heartbeat's key indices are 0..15. */
export const MAX_AUTH_INDEX = 15;

export function parseAuthkeys(text: string, options: ParseAuthkeysOptions = {}): ParseResult<Authkeys> {
  const file = options.file ?? 'authkeys';
  const problems: ConfigError[] = [];
  const err = (line: number, column: number, code: ConfigError['code'], message: string, hint?: string) =>
    problems.push(fileProblem({ code, file, line, column, message, ...(hint ? { hint } : {}) }));
  const value: Authkeys = { auth: -1, keys: [], trailer: [] };
  if (options.mode !== undefined) value.mode = options.mode;
  let pending: string[] = [];
  let sawAuth = false;

  for (const { line, text: lineText } of text === '' ? [] : splitLines(text)) {
    const { tokens, comment } = tokenizeLine(lineText);
    const [first, second, third, ...extra] = tokens;
    if (!first) {
      pending.push(lineText);
      continue;
    }
    const before = pending.length ? pending : undefined;
    pending = [];
    if (first.text === 'auth') {
      if (sawAuth) {
        err(
          line,
          first.column,
          'DUPLICATE',
          `'auth' is given again (first at line ${value.authLine})`,
          'keep exactly one auth line',
        );
        continue;
      }
      sawAuth = true;
      value.authLine = line;
      if (before) value.authBefore = before;
      if (comment !== undefined) value.authComment = comment;
      if (!second) {
        err(
          line,
          first.column,
          'MISSING_VALUE',
          "'auth' needs the index of the key to sign with",
          "e.g. 'auth 1'",
        );
        continue;
      }
      if (!/^\d+$/.test(second.text) || Number(second.text) > MAX_AUTH_INDEX) {
        err(line, second.column, 'BAD_VALUE', `'${second.text}' is not a key index (0-${MAX_AUTH_INDEX})`);
        continue;
      }
      value.auth = Number(second.text);
      if (third) err(line, third.column, 'BAD_VALUE', "'auth' takes one index", 'remove the extra words');
      continue;
    }
    if (!/^\d+$/.test(first.text)) {
      const close = suggest(first.text, ['auth']);
      err(
        line,
        first.column,
        'SYNTAX',
        `expected 'auth N' or 'N METHOD [KEY]', got '${first.text}'`,
        close ? "did you mean 'auth'?" : 'e.g. 1 sha1 SECRET',
      );
      continue;
    }
    const index = Number(first.text);
    if (index > MAX_AUTH_INDEX) {
      err(line, first.column, 'OUT_OF_RANGE', `key index ${index} is out of range (0-${MAX_AUTH_INDEX})`);
      continue;
    }
    if (!second) {
      err(
        line,
        first.column + first.text.length,
        'MISSING_VALUE',
        `key ${index} has no method`,
        'one of crc, md5, sha1',
      );
      continue;
    }
    const method = second.text.toLowerCase() as AuthMethod;
    if (!AUTH_METHODS.includes(method)) {
      const close = suggest(method, AUTH_METHODS);
      err(
        line,
        second.column,
        'BAD_VALUE',
        `unknown authentication method '${second.text}'`,
        close ? `did you mean '${close}'?` : 'one of crc, md5, sha1',
      );
      continue;
    }
    if (value.keys.some((k) => k.index === index)) {
      err(line, first.column, 'DUPLICATE', `key ${index} is defined twice`, 'each index once');
      continue;
    }
    const entry: AuthKey = { index, method, line };
    if (before) entry.before = before;
    if (comment !== undefined) entry.comment = comment;
    if (method === 'crc') {
      if (third)
        err(
          line,
          third.column,
          'BAD_VALUE',
          'crc takes no key',
          'crc only detects corruption; use sha1 with a key for authentication',
        );
    } else if (!third) {
      err(
        line,
        second.column + second.text.length,
        'MISSING_VALUE',
        `${method} needs a key`,
        `e.g. '${index} ${method} long_random_password'`,
      );
      continue;
    } else {
      entry.key = third.text;
      const x = extra[0];
      if (x)
        err(
          line,
          x.column,
          'BAD_VALUE',
          'the key must be one word',
          'Heartbeat reads the key up to the first blank',
        );
    }
    value.keys.push(entry);
  }
  value.trailer = pending;

  if (!sawAuth) err(1, 1, 'MISSING_REQUIRED', "no 'auth N' line", "add 'auth 1' naming the key to sign with");
  else if (value.auth >= 0 && !value.keys.some((k) => k.index === value.auth))
    err(
      value.authLine ?? 1,
      1,
      'MISSING_REQUIRED',
      `'auth ${value.auth}' selects a key that is not defined`,
      `add '${value.auth} sha1 SECRET'`,
    );
  else if (value.keys.find((k) => k.index === value.auth)?.method === 'crc')
    problems.push(
      fileProblem({
        code: 'BAD_VALUE',
        file,
        line: value.authLine ?? 1,
        column: 1,
        severity: 'warning',
        message: 'signing with crc authenticates nothing',
        hint: 'use sha1 with a random key unless the link is a crossover cable',
      }),
    );
  if (options.mode !== undefined && (options.mode & 0o077) !== 0)
    err(
      1,
      1,
      'INSECURE_PERMISSIONS',
      `authkeys has mode ${options.mode.toString(8).padStart(4, '0')}: group or others can access it, and Heartbeat refuses to start`,
      `chmod 600 ${file}`,
    );
  return { value, problems };
}

export function writeAuthkeys(a: Authkeys): string {
  const out: string[] = [];
  if (a.authBefore) out.push(...a.authBefore);
  out.push(`auth ${a.auth}${a.authComment !== undefined ? `\t#${a.authComment}` : ''}`);
  for (const k of a.keys) {
    if (k.before) out.push(...k.before);
    const body = k.key === undefined ? `${k.index} ${k.method}` : `${k.index} ${k.method} ${k.key}`;
    out.push(k.comment !== undefined ? `${body}\t#${k.comment}` : body);
  }
  out.push(...a.trailer);
  return `${out.join('\n')}\n`;
}
