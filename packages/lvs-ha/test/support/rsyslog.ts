// Debian's rsyslogd, started by a test: its own configuration, socket and
// output file in a temp directory (imuxsock on SOCKET only, no klog, no
// system socket), each message written as
// `facility.severity programname[procid] msg`.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { which } from '@lvs-ha/lab';

export const RSYSLOGD = which('rsyslogd');
/** Why the rsyslog tests cannot run here, or undefined. */
export const noRsyslog = RSYSLOGD
  ? undefined
  : 'no rsyslogd (Debian package rsyslog; scripts/setup-system.sh installs it)';

export class Rsyslogd {
  readonly socket: string;
  readonly output: string;
  private child: ChildProcess | undefined;
  private stderr = '';

  constructor(readonly dir: string) {
    this.socket = join(dir, 'log');
    this.output = join(dir, 'messages');
    writeFileSync(
      join(dir, 'rsyslog.conf'),
      [
        `global(workDirectory="${dir}")`,
        `module(load="imuxsock" SysSock.Name="${this.socket}" SysSock.Use="on" SysSock.RateLimit.Interval="0")`,
        'template(name="probe" type="string" string="%syslogfacility-text%.%syslogseverity-text% %programname%[%procid%]%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%\\n")',
        `*.* action(type="omfile" file="${this.output}" template="probe")`,
        '',
      ].join('\n'),
    );
  }

  /** Starts it and waits for its socket. */
  async start(): Promise<void> {
    if (!RSYSLOGD) throw new Error(noRsyslog);
    const child = spawn(
      RSYSLOGD,
      ['-n', '-f', join(this.dir, 'rsyslog.conf'), '-i', join(this.dir, 'rsyslogd.pid')],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.on('data', (d) => {
      this.stderr += String(d);
    });
    this.child = child;
    await this.until('its socket', () => existsSync(this.socket), 10_000);
  }

  /** Stops it (SIGTERM: it removes its socket) and waits until it has gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    await gone;
    this.child = undefined;
  }

  /** What it wrote so far, one message per line. */
  lines(): string[] {
    return existsSync(this.output) ? readFileSync(this.output, 'utf8').split('\n').filter(Boolean) : [];
  }

  /** Polls until a line matches every pattern (or the deadline); returns the lines that matched. */
  async waitFor(patterns: readonly RegExp[], ms = 10_000): Promise<string[]> {
    let found: string[] = [];
    await this.until(
      `lines matching ${patterns.join(', ')}`,
      () => {
        const lines = this.lines();
        found = patterns.map((p) => lines.find((l) => p.test(l)) ?? '');
        return found.every(Boolean);
      },
      ms,
    );
    return found;
  }

  private async until(what: string, pred: () => boolean, ms: number): Promise<void> {
    const t0 = Date.now();
    while (!pred()) {
      if (Date.now() - t0 > ms)
        throw new Error(
          `rsyslogd: ${what}: not within ${ms} ms\nits output:\n${this.lines().join('\n')}\nits stderr:\n${this.stderr}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
