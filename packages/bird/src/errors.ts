// Every error of the package: a class with a stable `code`, and for BIRD's
// own refusals its 4-digit reply code and text as BIRD said them.

export type BirdErrorCode =
  | 'BIRD_PROTOCOL'
  | 'BIRD_RUNTIME_ERROR'
  | 'BIRD_PARSE_ERROR'
  | 'BIRD_NO_PROTOCOLS_MATCH'
  | 'BIRD_NETWORK_NOT_FOUND'
  | 'BIRD_CONFIG_FILE_ERROR'
  | 'BIRD_SOCKET'
  | 'BIRD_CLOSED'
  | 'BIRD_TIMEOUT'
  | 'BIRD_CONFIG_INVALID'
  | 'BIRD_INVALID_ARGUMENT'
  | 'BIRD_START_FAILED'
  | 'BIRD_UNEXPECTED_REPLY';

export class BirdError extends Error {
  readonly code: BirdErrorCode;
  constructor(code: BirdErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A line from the socket that is not BIRD's reply syntax (a code and '-' or ' ', or a continuation). */
export class BirdProtocolError extends BirdError {
  readonly line: string;
  constructor(line: string, why: string) {
    super('BIRD_PROTOCOL', `bird.ctl: ${why}: ${JSON.stringify(line.slice(0, 200))}`);
    this.line = line;
  }
}

/** The stable code of BIRD's refusal: the three lvs-ha acts on by name, else run-time (8xxx) or parse (9xxx). */
function replyErrorCode(replyCode: number): BirdErrorCode {
  if (replyCode === 8001) return 'BIRD_NETWORK_NOT_FOUND';
  if (replyCode === 8002) return 'BIRD_CONFIG_FILE_ERROR';
  if (replyCode === 8003) return 'BIRD_NO_PROTOCOLS_MATCH';
  return replyCode >= 9000 ? 'BIRD_PARSE_ERROR' : 'BIRD_RUNTIME_ERROR';
}

/**
 * BIRD refused a command: 8xxx is a run-time error (8001 network not found,
 * 8002 configuration file error, 8003 no protocols match...), 9xxx a parse
 * error of the command line (9001 also for "There is no BFD protocol
 * running" and for an unquoted name BIRD does not know).
 */
export class BirdReplyError extends BirdError {
  readonly replyCode: number;
  readonly text: string;
  readonly command: string;
  constructor(command: string, replyCode: number, text: string) {
    super(replyErrorCode(replyCode), `bird: "${command}": ${String(replyCode).padStart(4, '0')} ${text}`);
    this.replyCode = replyCode;
    this.text = text;
    this.command = command;
  }
}

/** A reply BIRD gave that is not the one the command promises (e.g. a configure that did not say "Reconfigured"). */
export class BirdUnexpectedReplyError extends BirdError {
  readonly replyCode: number;
  readonly text: string;
  readonly command: string;
  constructor(command: string, replyCode: number, text: string, expected: string) {
    super(
      'BIRD_UNEXPECTED_REPLY',
      `bird: "${command}": expected ${expected}, got ${String(replyCode).padStart(4, '0')} ${text}`,
    );
    this.replyCode = replyCode;
    this.text = text;
    this.command = command;
  }
}

export class BirdSocketError extends BirdError {
  readonly path: string;
  constructor(path: string, message: string, cause?: unknown) {
    super('BIRD_SOCKET', `bird.ctl ${path}: ${message}`, { cause });
    this.path = path;
  }
}

export class BirdClosedError extends BirdError {
  constructor(path: string, pending?: string) {
    super('BIRD_CLOSED', `bird.ctl ${path}: connection closed${pending ? ` during "${pending}"` : ''}`);
  }
}

export class BirdTimeoutError extends BirdError {
  readonly command: string;
  constructor(command: string, ms: number) {
    super('BIRD_TIMEOUT', `bird: "${command}": no complete reply within ${ms} ms`);
    this.command = command;
  }
}

/** Bad input to the configuration writer: `where` names the field, the message says why. */
export class BirdConfigError extends BirdError {
  readonly where: string;
  /** the message without `where` */
  readonly reason: string;
  constructor(where: string, why: string) {
    super('BIRD_CONFIG_INVALID', `bird config: ${where}: ${why}`);
    this.where = where;
    this.reason = why;
  }
}

/** BIRD did not start (exited, or its socket did not answer in time); stderr's tail says why. */
export class BirdStartError extends BirdError {
  readonly stderr: string;
  readonly exitCode: number | null;
  constructor(message: string, stderr: string, exitCode: number | null) {
    super(
      'BIRD_START_FAILED',
      `bird: ${message}${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`,
    );
    this.stderr = stderr;
    this.exitCode = exitCode;
  }
}

/** An argument the client will not send (a protocol name with other than letters, digits and _; not an address). */
export class BirdArgumentError extends BirdError {
  readonly argument: string;
  constructor(argument: string, why: string) {
    super('BIRD_INVALID_ARGUMENT', `bird: ${JSON.stringify(argument)}: ${why}`);
    this.argument = argument;
  }
}
