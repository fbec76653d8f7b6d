import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AF_INET } from '@lvs-ha/ip';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EAGAIN,
  EBADF,
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  EPOLL_DATA_OFFSET,
  EPOLL_EVENT_SIZE,
  EPOLLIN,
  errnoName,
  koffiPath,
  LIBC_PROTOTYPES,
  libc,
  MSG_DONTWAIT,
  POLLIN,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
} from '../src/index.js';

const LE = endianness() === 'LE';
const c = libc();
const opened: number[] = [];

afterEach(() => {
  for (const fd of opened.splice(0)) c.close(fd);
});

/** A non-blocking UDP socket bound to 127.0.0.1 on a port the kernel picks; returns it and its sockaddr_in. */
function udpSocket(): { fd: number; address: Uint8Array; port: number } {
  const fd = c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  expect(fd, errnoName(c.errno())).toBeGreaterThanOrEqual(0);
  opened.push(fd);
  const sa = new Uint8Array(16);
  new DataView(sa.buffer).setUint16(0, AF_INET, LE);
  sa.set([127, 0, 0, 1], 4);
  expect(c.bind(fd, sa, sa.length)).toBe(0);
  const len = Uint8Array.of(16, 0, 0, 0);
  expect(c.getsockname(fd, sa, len)).toBe(0);
  const port = new DataView(sa.buffer).getUint16(2, false);
  return { fd, address: sa, port };
}

describe('libc()', () => {
  it('is bound once, with every prototype it lists', () => {
    expect(libc()).toBe(c);
    for (const name of Object.keys(LIBC_PROTOTYPES))
      expect(typeof c[name as keyof typeof c]).toBe('function');
    expect(existsSync(koffiPath())).toBe(true);
  });

  it('sends a datagram to itself on loopback and reads it back with the sender', () => {
    const { fd, address, port } = udpSocket();
    expect(port).toBeGreaterThan(0);
    const hello = new TextEncoder().encode('hello from koffi');
    expect(c.sendto(fd, hello, hello.length, 0, address, address.length)).toBe(hello.length);
    // poll(2) for it: struct pollfd { int fd; short events; short revents; }
    const pfd = new Uint8Array(8);
    const pv = new DataView(pfd.buffer);
    pv.setInt32(0, fd, LE);
    pv.setInt16(4, POLLIN, LE);
    expect(c.poll(pfd, 1, 2000)).toBe(1);
    expect(pv.getInt16(6, LE) & POLLIN).toBe(POLLIN);
    const buf = new Uint8Array(64);
    const from = new Uint8Array(16);
    const fromLen = Uint8Array.of(16, 0, 0, 0);
    const n = c.recvfrom(fd, buf, buf.length, 0, from, fromLen);
    expect(new TextDecoder().decode(buf.subarray(0, n))).toBe('hello from koffi');
    expect([...from.subarray(4, 8)]).toEqual([127, 0, 0, 1]);
    expect(new DataView(from.buffer).getUint16(2, false)).toBe(port);
  });

  it('reports failures through errno, named by errnoName', () => {
    const { fd } = udpSocket();
    expect(c.recv(fd, new Uint8Array(8), 8, MSG_DONTWAIT)).toBe(-1);
    expect(c.errno()).toBe(EAGAIN);
    expect(errnoName(c.errno())).toBe('EAGAIN');
    expect(c.close(-1)).toBe(-1);
    expect(errnoName(c.errno())).toBe('EBADF');
    expect(c.errno()).toBe(EBADF);
  });

  it('waits on epoll and gets the data it registered back', () => {
    const { fd, address } = udpSocket();
    const ep = c.epoll_create1(EPOLL_CLOEXEC);
    expect(ep).toBeGreaterThanOrEqual(0);
    opened.push(ep);
    const ev = new Uint8Array(EPOLL_EVENT_SIZE);
    const dv = new DataView(ev.buffer);
    dv.setUint32(0, EPOLLIN, LE);
    dv.setUint32(EPOLL_DATA_OFFSET, 4242, LE);
    expect(c.epoll_ctl(ep, EPOLL_CTL_ADD, fd, ev)).toBe(0);
    c.sendto(fd, Uint8Array.of(1), 1, 0, address, address.length);
    const events = new Uint8Array(EPOLL_EVENT_SIZE * 4);
    expect(c.epoll_wait(ep, events, 4, 2000)).toBe(1);
    const out = new DataView(events.buffer);
    expect(out.getUint32(0, LE) & EPOLLIN).toBe(EPOLLIN);
    expect(out.getUint32(EPOLL_DATA_OFFSET, LE)).toBe(4242);
  });

  it('attaches a classic BPF filter: "return 0" drops every datagram', () => {
    const { fd, address } = udpSocket();
    expect(c.attachFilter(fd, [{ code: 0x06 /* BPF_RET | BPF_K */, jt: 0, jf: 0, k: 0 }])).toBe(0);
    c.sendto(fd, Uint8Array.of(1), 1, 0, address, address.length);
    const pfd = new Uint8Array(8);
    new DataView(pfd.buffer).setInt32(0, fd, LE);
    new DataView(pfd.buffer).setInt16(4, POLLIN, LE);
    expect(c.poll(pfd, 1, 100)).toBe(0);
  });

  it('converts text addresses with inet_pton and finds interfaces by name', () => {
    const dst = new Uint8Array(4);
    expect(c.inet_pton(AF_INET, '192.0.2.7', dst)).toBe(1);
    expect([...dst]).toEqual([192, 0, 2, 7]);
    expect(c.if_nametoindex('lo')).toBeGreaterThan(0);
    expect(c.if_nametoindex('no-such-if0')).toBe(0);
  });
});

describe('errnoName', () => {
  it('names errnos by their canonical symbol', () => {
    expect(errnoName(1)).toBe('EPERM');
    expect(errnoName(11)).toBe('EAGAIN'); // not its alias EWOULDBLOCK
    expect(errnoName(95)).toBe('EOPNOTSUPP'); // not its alias ENOTSUP
    expect(errnoName(111)).toBe('ECONNREFUSED');
    expect(errnoName(9999)).toBe('errno 9999');
  });
});

describe('where koffi cannot load', () => {
  it('libc() and koffiPath() throw LibcUnavailableError with the reason, every time', async () => {
    // A child process in which resolving koffi fails, as on a machine without it.
    const script = `
      const Module = (await import('node:module')).default;
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (request === 'koffi') throw Object.assign(new Error("Cannot find module 'koffi'"), { code: 'MODULE_NOT_FOUND' });
        return resolve.call(this, request, ...rest);
      };
      const sys = await import(${JSON.stringify(join(import.meta.dirname, '..', 'src', 'index.ts'))});
      const out = [];
      for (const f of [sys.libc, sys.libc, sys.koffiPath]) {
        try { f(); out.push('no error'); } catch (e) { out.push([e instanceof sys.LibcUnavailableError, e.code, e.message].join(' | ')); }
      }
      console.log(JSON.stringify(out));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ]);
    const lines = JSON.parse(stdout) as string[];
    expect(lines).toHaveLength(3);
    for (const line of lines)
      expect(line).toBe("true | LIBC_UNAVAILABLE | koffi cannot load libc: Cannot find module 'koffi'");
  });
});
