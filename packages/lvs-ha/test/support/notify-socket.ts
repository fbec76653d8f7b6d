// A service manager's side of sd_notify for tests: an AF_UNIX datagram
// socket bound by the test (a path, or a name in the abstract namespace),
// read without blocking the test's event loop, each datagram kept with the
// time it was read.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AF_UNIX,
  EAGAIN,
  errnoName,
  libc,
  MSG_DONTWAIT,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  sockaddrUn,
  sockaddrUnAbstract,
} from '@lvs-ha/sys';

export interface Notification {
  at: number;
  /** VARIABLE=value lines, parsed. */
  fields: Record<string, string>;
  text: string;
}

export class NotifySocket {
  /** What NOTIFY_SOCKET says: the path, or @name. */
  readonly address: string;
  readonly received: Notification[] = [];
  #fd: number;
  #dir: string | undefined;
  #timer: NodeJS.Timeout;

  constructor(kind: 'path' | 'abstract') {
    const c = libc();
    const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new Error(`socket: ${errnoName(c.errno())}`);
    let addr: Uint8Array;
    if (kind === 'path') {
      this.#dir = mkdtempSync(join(tmpdir(), 'lvs-ha-notify-'));
      this.address = join(this.#dir, 'notify');
      addr = sockaddrUn(this.address);
    } else {
      const name = `lvs-ha-test/notify/${process.pid}/${Date.now()}/${Math.random().toString(36).slice(2)}`;
      this.address = `@${name}`;
      addr = sockaddrUnAbstract(name);
    }
    if (c.bind(fd, addr, addr.length) < 0) {
      const e = errnoName(c.errno());
      c.close(fd);
      throw new Error(`bind ${this.address}: ${e}`);
    }
    this.#fd = fd;
    // drained every 5 ms: timestamps good to a few ms, and the test's loop never blocks
    this.#timer = setInterval(() => this.#drain(), 5);
  }

  #drain(): void {
    const c = libc();
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = c.recv(this.#fd, buf, buf.length, MSG_DONTWAIT);
      if (n < 0) {
        const e = c.errno();
        if (e !== EAGAIN) throw new Error(`recv ${this.address}: ${errnoName(e)}`);
        return;
      }
      const text = new TextDecoder().decode(buf.subarray(0, n));
      const fields: Record<string, string> = {};
      for (const line of text.split('\n')) {
        const eq = line.indexOf('=');
        if (eq > 0) fields[line.slice(0, eq)] = line.slice(eq + 1);
      }
      this.received.push({ at: Date.now(), fields, text });
    }
  }

  /** The first notification from index `from` on that has `field` (= value when given), within `ms`. */
  async next(field: string, ms: number, value?: string, from = 0): Promise<Notification & { index: number }> {
    const t0 = Date.now();
    for (;;) {
      const index = this.received.findIndex(
        (n, i) => i >= from && field in n.fields && (value === undefined || n.fields[field] === value),
      );
      if (index >= 0) return { ...(this.received[index] as Notification), index };
      if (Date.now() - t0 > ms)
        throw new Error(
          `no ${field}${value === undefined ? '' : `=${value}`} on ${this.address} within ${ms} ms; received:\n${this.received
            .slice(from)
            .map((n) => JSON.stringify(n.text))
            .join('\n')}`,
        );
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    clearInterval(this.#timer);
    libc().close(this.#fd);
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }
}
