// ldirectord's `callback = "/path/to/callback"`: when ldirectord.cf's
// content changed on disk (check_cfgfile: its md5 differs from the one seen
// last), ldirectord runs `CALLBACK CONFIGFILE`, whether autoreload is on or
// not, after rereading it; only when CALLBACK is an executable file (its -x
// test). Its use: copy the file to the other director (scp). Here it runs in
// the background, one at a time, killed after a timeout, its failure said;
// nothing waits for it (ldirectord waits: its checks stop meanwhile).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';

/** The md5 of a file's content (undefined: unreadable). */
async function digestOf(file: string): Promise<string | undefined> {
  const text = await readFile(file).catch(() => undefined);
  return text && createHash('md5').update(text).digest('hex');
}

export interface ConfigCallbackOptions {
  /** One line per run (done, failed, killed, not executable). */
  say: (line: string) => void;
  /** Milliseconds a callback may run before it is killed (default 60 s). */
  timeoutMs?: number;
}

export class ConfigCallback {
  private readonly digests = new Map<string, string>();
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly o: ConfigCallbackOptions) {}

  /**
   * Looks at `file`: the first look remembers its md5; a later one that
   * finds another runs `callback file` (when callback is set) and returns
   * true. Resolves once the file is read, not when the callback ends.
   */
  async look(file: string, callback: string | null | undefined): Promise<boolean> {
    const digest = await digestOf(file);
    if (digest === undefined) return false;
    const before = this.digests.get(file);
    this.digests.set(file, digest);
    if (before === undefined || before === digest) return false;
    if (callback) this.run(callback, file);
    return true;
  }

  /** Resolves when every callback started so far has ended. */
  done(): Promise<void> {
    return this.chain;
  }

  private run(callback: string, file: string): void {
    const timeout = this.o.timeoutMs ?? 60_000;
    this.chain = this.chain.then(async () => {
      const executable = await access(callback, constants.X_OK).then(
        () => true,
        () => false,
      );
      if (!executable) {
        this.o.say(
          `warning ldirectord ${file} changed: callback ${callback} is not an executable file, not run`,
        );
        return;
      }
      await new Promise<void>((resolve) =>
        execFile(callback, [file], { timeout, killSignal: 'SIGKILL' }, (err) => {
          if (!err) this.o.say(`ldirectord callback ${callback} ${file}: done`);
          else if (err.killed)
            this.o.say(
              `error ldirectord callback ${callback} ${file} did not finish in ${timeout} ms (killed)`,
            );
          else
            this.o.say(`error ldirectord callback ${callback} ${file} exited with ${err.code ?? err.signal}`);
          resolve();
        }),
      );
    });
  }
}
