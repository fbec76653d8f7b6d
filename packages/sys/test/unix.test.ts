// AF_UNIX datagrams through the binding, as a syslog client sends to
// /dev/log: a real socket bound in a temp directory, sendto by path, and the
// errnos a sender meets when the daemon is gone (no file, or a file nobody
// reads).
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AF_UNIX,
  BadSocketPathError,
  ECONNREFUSED,
  ENOENT,
  errnoName,
  libc,
  MSG_DONTWAIT,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  sockaddrUn,
} from '../src/index.js';

const c = libc();
const opened: number[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const fd of opened.splice(0)) c.close(fd);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dgram(): number {
  const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  expect(fd, errnoName(c.errno())).toBeGreaterThanOrEqual(0);
  opened.push(fd);
  return fd;
}

describe('sockaddrUn', () => {
  it('is sa_family AF_UNIX, the path and its NUL', () => {
    const sa = sockaddrUn('/dev/log');
    expect(sa.length).toBe(2 + 8 + 1);
    expect(new DataView(sa.buffer).getUint16(0, true)).toBe(AF_UNIX);
    expect(new TextDecoder().decode(sa.subarray(2, 10))).toBe('/dev/log');
    expect(sa[10]).toBe(0);
  });

  it('refuses what sun_path cannot hold', () => {
    expect(() => sockaddrUn('')).toThrow(BadSocketPathError);
    expect(() => sockaddrUn(`/${'x'.repeat(107)}`)).toThrow(/1 to 107 bytes/);
    expect(() => sockaddrUn('/tmp/a\0b')).toThrowError(expect.objectContaining({ code: 'BAD_SOCKET_PATH' }));
    expect(sockaddrUn(`/${'x'.repeat(106)}`).length).toBe(110);
  });
});

describe('AF_UNIX datagrams', () => {
  it('sendto by path reaches a bound socket; ENOENT without the file, ECONNREFUSED when nobody reads it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvs-ha-sys-unix-'));
    dirs.push(dir);
    const path = join(dir, 'log');
    const addr = sockaddrUn(path);
    const sender = dgram();
    const msg = new TextEncoder().encode('<30>Dec  2 16:38:15 test[1]: hello');

    expect(c.sendto(sender, msg, msg.length, MSG_DONTWAIT, addr, addr.length)).toBe(-1);
    expect(errnoName(c.errno())).toBe(errnoName(ENOENT));

    const receiver = dgram();
    expect(c.bind(receiver, addr, addr.length), errnoName(c.errno())).toBe(0);
    expect(c.sendto(sender, msg, msg.length, MSG_DONTWAIT, addr, addr.length)).toBe(msg.length);
    const buf = new Uint8Array(256);
    const n = c.recv(receiver, buf, buf.length, MSG_DONTWAIT);
    expect(new TextDecoder().decode(buf.subarray(0, n))).toBe('<30>Dec  2 16:38:15 test[1]: hello');

    // the daemon gone, its socket file left behind
    c.close(receiver);
    opened.splice(opened.indexOf(receiver), 1);
    expect(c.sendto(sender, msg, msg.length, MSG_DONTWAIT, addr, addr.length)).toBe(-1);
    expect(errnoName(c.errno())).toBe(errnoName(ECONNREFUSED));
    unlinkSync(path);
  });
});
