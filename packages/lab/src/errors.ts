// Every failure of @lvs-ha/lab is a LabError with a stable `code`, so a test
// can tell "this machine cannot run the lab" from "a command in the lab
// failed" without reading the sentence.

/** Stable machine-readable codes. Add new ones here; never rename one. */
export type LabErrorCode =
  | 'COMMAND_FAILED'
  | 'NOT_SUPPORTED'
  | 'INVALID_ARGUMENT'
  | 'DESTROYED'
  | 'GUEST_IMAGE'
  | 'GUEST_BOOT'
  | 'GUEST_CHANNEL'
  | 'TIMEOUT';

export class LabError extends Error {
  override name = 'LabError';
  readonly code: LabErrorCode;
  constructor(code: LabErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A command run by the lab exited non-zero (or was killed) where success was required. */
export class CommandFailedError extends LabError {
  override name = 'CommandFailedError';
  readonly argv: readonly string[];
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  constructor(argv: readonly string[], exitCode: number, stdout: string, stderr: string) {
    const tail = stderr.trim().split('\n').slice(-5).join('\n');
    super('COMMAND_FAILED', `command failed (exit ${exitCode}): ${argv.join(' ')}${tail ? `\n${tail}` : ''}`);
    this.argv = argv;
    this.exitCode = exitCode;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}
