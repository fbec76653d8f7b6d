// Every problem found in a configuration file is a ConfigError: a stable
// `code` for programs, and file/line/column plus a hint for people.

/** Stable machine-readable codes. Add new ones here; never rename one. */
export type ConfigErrorCode =
  | 'UNKNOWN_DIRECTIVE'
  | 'BAD_VALUE'
  | 'MISSING_VALUE'
  | 'MISSING_REQUIRED'
  | 'DUPLICATE'
  | 'ORDER'
  | 'SYNTAX'
  | 'OUT_OF_RANGE'
  | 'INSECURE_PERMISSIONS'
  | 'MISMATCH'
  | 'IO'
  | 'WRONG_SECTION'
  | 'DEPRECATED'
  /** Accepted, as Heartbeat or ldirectord accept it, but lvs-ha does nothing with it (lvs-ha check). */
  | 'NOT_ACTED_ON';

/** A place in a file. Lines and columns count from 1, as editors show them. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

export interface ConfigErrorInit extends SourcePosition {
  code: ConfigErrorCode;
  message: string;
  hint?: string;
  severity?: 'error' | 'warning';
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly code: ConfigErrorCode;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly hint: string | undefined;
  readonly severity: 'error' | 'warning';
  /** The message without the position prefix. */
  readonly reason: string;

  constructor(init: ConfigErrorInit) {
    super(`${init.file}:${init.line}:${init.column}: ${init.message}${init.hint ? ` (${init.hint})` : ''}`);
    this.code = init.code;
    this.file = init.file;
    this.line = init.line;
    this.column = init.column;
    this.hint = init.hint;
    this.severity = init.severity ?? 'error';
    this.reason = init.message;
  }
}

/**
 * Thrown by the strict `parse*` functions when a file has errors. It carries
 * every problem found, not just the first, so one run shows them all.
 */
export class ConfigErrors extends Error {
  override name = 'ConfigErrors';
  readonly code = 'CONFIG_INVALID';
  readonly errors: readonly ConfigError[];

  constructor(errors: readonly ConfigError[]) {
    const first = errors[0];
    super(
      errors.length === 1 && first
        ? first.message
        : `${errors.length} problems:\n${errors.map((e) => `  ${e.message}`).join('\n')}`,
    );
    this.errors = errors;
  }
}

/** What every parser returns: a best-effort value even when there are problems. */
export interface ParseResult<T> {
  value: T;
  problems: ConfigError[];
}

/**
 * A problem found in a file, to be returned in a problem list rather than
 * thrown: built without a stack trace, because capturing one cost more than
 * parsing the line (a file's own position is what locates a problem).
 * @internal
 */
export function fileProblem(init: ConfigErrorInit): ConfigError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new ConfigError(init);
  } finally {
    Error.stackTraceLimit = limit;
  }
}
