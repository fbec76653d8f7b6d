// Unix datagram sockets in Linux's abstract namespace, as NOTIFY_SOCKET may
// name one ("@…"): a real socket bound by name (no file is made; the kernel
// lists it as @name in /proc/net/unix), a datagram sent to it by name.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AF_UNIX,
  BadSocketPathError,
  errnoName,
  libc,
  MSG_DONTWAIT,
  POLLIN,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  sockaddrUnAbstract,
} from '../src/index.js';

const c = libc();
const opened: number[] = [];

afterEach(() => {
  for (const fd of opened.splice(0)) c.close(fd);
});

function dgram(): number {
  const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  expect(fd, errnoName(c.errno())).toBeGreaterThanOrEqual(0);
  opened.push(fd);
  return fd;
}

describe('sockaddrUnAbstract', () => {
  it('is sa_family AF_UNIX, a NUL, the name and no trailing NUL', () => {
    const sa = sockaddrUnAbstract('lvs-ha/notify');
    expect(sa.length).toBe(2 + 1 + 13);
    expect(new DataView(sa.buffer).getUint16(0, true)).toBe(AF_UNIX);
    expect(sa[2]).toBe(0);
    expect(new TextDecoder().decode(sa.subarray(3))).toBe('lvs-ha/notify');
  });

  it('refuses what sun_path cannot hold', () => {
    expect(() => sockaddrUnAbstract('')).toThrow(BadSocketPathError);
    expect(() => sockaddrUnAbstract('x'.repeat(108))).toThrowError(
      expect.objectContaining({ code: 'BAD_SOCKET_PATH' }),
    );
    expect(() => sockaddrUnAbstract('a\0b')).toThrow(BadSocketPathError);
    expect(sockaddrUnAbstract('x'.repeat(107)).length).toBe(110);
  });

  it('binds a name the kernel lists as @name, and a datagram sent to it by name arrives', () => {
    const name = `lvs-ha-sys-test/${process.pid}/${Date.now()}`;
    const addr = sockaddrUnAbstract(name);
    const receiver = dgram();
    expect(c.bind(receiver, addr, addr.length), errnoName(c.errno())).toBe(0);
    expect(readFileSync('/proc/net/unix', 'utf8')).toContain(` @${name}\n`);
    const sender = dgram();
    const msg = new TextEncoder().encode('READY=1\nSTATUS=hello');
    expect(c.sendto(sender, msg, msg.length, MSG_DONTWAIT, addr, addr.length), errnoName(c.errno())).toBe(
      msg.length,
    );
    // poll(2) for it, up to 2 s: struct pollfd { int fd; short events; short revents; }
    const pfd = new Uint8Array(8);
    new DataView(pfd.buffer).setInt32(0, receiver, true);
    new DataView(pfd.buffer).setInt16(4, POLLIN, true);
    expect(c.poll(pfd, 1, 2000)).toBe(1);
    const buf = new Uint8Array(256);
    const n = c.recv(receiver, buf, buf.length, MSG_DONTWAIT);
    expect(new TextDecoder().decode(buf.subarray(0, n))).toBe('READY=1\nSTATUS=hello');
  });
});
