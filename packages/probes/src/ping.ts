// checktype = ping: ICMP echo, IPv4 and IPv6.
//
// Node has no raw sockets, and ldirectord's way (Net::Ping "icmp", a raw
// socket) needs root. Two ways work without one:
//  1. an unprivileged ICMP datagram socket (socket(AF_INET, SOCK_DGRAM,
//     IPPROTO_ICMP)), opened through koffi and handed to Node's dgram, which
//     polls it on the event loop like any UDP socket. The kernel fills in the
//     identifier and the checksum and gives the socket only the replies to its
//     own identifier. One socket per family serves every check: a ping costs a
//     sendmsg and a recvmsg, no process, no thread.
//  2. iputils ping(8), which Debian installs with cap_net_raw.
// The kernel allows (1) only to groups inside net.ipv4.ping_group_range,
// which is "1 0" (nobody, not even root) unless systemd or the administrator
// widened it, and it is "1 0" again in every new network namespace. So the
// most robust choice is (1) where the kernel allows it, else (2): the check
// always works, and it is cheap wherever the sysctl permits. `method` forces
// one or the other.
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { AF_INET, AF_INET6 } from '@lvs-ha/ip';
import {
  EACCES,
  EPERM,
  errnoName,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  type Libc,
  LibcUnavailableError,
  libc,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
} from '@lvs-ha/sys';
import type { CheckResult } from './check.js';

export interface PingOptions {
  /** Seconds to wait for each reply (ldirectord: checktimeout, default 5). */
  timeout?: number;
  /** Echo requests tried one after the other before the server counts as down (ldirectord: checkcount, default 1). */
  checkcount?: number;
  /** 'socket': ICMP datagram socket only; 'command': ping(8) only; 'auto' (default): socket when the kernel allows it, else ping(8). */
  method?: 'auto' | 'socket' | 'command';
  /** ping(8) to run for method 'command' (default 'ping' from PATH). */
  pingCommand?: string;
}

type Family = 4 | 6;
type Attempt = { ok: boolean; reason?: CheckResult['reason']; detail: string };

interface Pending {
  address: string;
  token: Buffer;
  done(a: Attempt): void;
}

/** Canonical text of an address, so replies match whatever way the target was written. */
function canonical(host: string): string {
  if (!isIPv6(host)) return host;
  try {
    return new URL(`http://[${host}]/`).hostname.slice(1, -1);
  } catch {
    return host.toLowerCase();
  }
}

function openIcmpFd(family: Family): { fd: number } | { errno: number; message: string } {
  let c: Libc;
  try {
    c = libc();
  } catch (e) {
    if (e instanceof LibcUnavailableError) return { errno: -1, message: e.message };
    throw e;
  }
  const fd = c.socket(
    family === 4 ? AF_INET : AF_INET6,
    SOCK_DGRAM | SOCK_CLOEXEC,
    family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6,
  );
  if (fd >= 0) return { fd };
  const errno = c.errno();
  return {
    errno,
    message:
      errno === EACCES || errno === EPERM
        ? `ICMP datagram sockets are not allowed for this group (net.ipv4.ping_group_range)`
        : `socket(ICMP) failed: ${errnoName(errno)}`,
  };
}

/** One shared ICMP datagram socket per address family. */
class IcmpChannel {
  private readonly pending = new Map<number, Pending>();
  private seq = Math.floor(Math.random() * 0xffff);
  private constructor(
    private readonly family: Family,
    private readonly sock: Socket,
  ) {
    sock.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address));
    sock.on('error', () => {}); // send errors come back through the send callback
  }

  static async open(family: Family): Promise<IcmpChannel | string> {
    const r = openIcmpFd(family);
    if ('errno' in r) return r.message;
    const sock = createSocket(family === 4 ? 'udp4' : 'udp6');
    try {
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind({ fd: r.fd }, () => {
          sock.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      return `cannot poll the ICMP socket: ${(e as Error).message}`;
    }
    sock.unref(); // an idle ping socket must not keep the process alive
    return new IcmpChannel(family, sock);
  }

  echo(address: string, timeoutMs: number, signal?: AbortSignal): Promise<Attempt> {
    return new Promise((resolve) => {
      let seq = 0;
      for (let i = 0; i < 0x10000; i++) {
        this.seq = (this.seq + 1) & 0xffff;
        if (!this.pending.has(this.seq)) break;
      }
      seq = this.seq;
      const token = Buffer.alloc(16);
      token.writeDoubleBE(performance.now(), 0);
      token.writeUInt32BE((Math.random() * 0xffffffff) >>> 0, 8);
      token.writeUInt32BE((Math.random() * 0xffffffff) >>> 0, 12);
      const packet = Buffer.alloc(8 + token.length);
      packet[0] = this.family === 4 ? 8 : 128; // echo request
      packet.writeUInt16BE(seq, 6); // identifier (bytes 4-5) and checksum are the kernel's
      token.copy(packet, 8);
      let finished = false;
      const finish = (a: Attempt) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.pending.get(seq)?.token === token) this.pending.delete(seq);
        resolve(a);
      };
      const onAbort = () => finish({ ok: false, reason: 'error', detail: 'aborted' });
      const timer = setTimeout(
        // One poll phase first: a reply that arrived during a stall is not a timeout.
        () =>
          setImmediate(() =>
            finish({ ok: false, reason: 'timeout', detail: `no echo reply from ${address}` }),
          ),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort);
      if (signal?.aborted) return onAbort();
      this.pending.set(seq, { address: canonical(address), token, done: finish });
      // The port is ignored by ICMP sockets; dgram insists on one.
      this.sock.send(packet, 1, address, (err) => {
        if (err) finish({ ok: false, reason: 'unreachable', detail: `${address}: ${err.message}` });
      });
    });
  }

  private onMessage(msg: Buffer, from: string): void {
    if (msg.length < 8 || msg[0] !== (this.family === 4 ? 0 : 129)) return; // echo reply only
    const p = this.pending.get(msg.readUInt16BE(6));
    if (!p || canonical(from) !== p.address || !msg.subarray(8).equals(p.token)) return;
    p.done({ ok: true, detail: `echo reply from ${from}` });
  }
}

const channels = new Map<Family, Promise<IcmpChannel | string>>();
const RETRY_SOCKET_MS = 60_000;

function channel(family: Family): Promise<IcmpChannel | string> {
  let c = channels.get(family);
  if (!c) {
    c = IcmpChannel.open(family);
    channels.set(family, c);
    // A refusal may be lifted (the sysctl changed): ask the kernel again later.
    void c.then((r) => {
      if (typeof r === 'string') setTimeout(() => channels.delete(family), RETRY_SOCKET_MS).unref();
    });
  }
  return c;
}

/** Which way `checkPing` will ping in this process for this family: 'socket' or 'command'. */
export async function pingMethod(family: Family = 4): Promise<'socket' | 'command'> {
  return typeof (await channel(family)) === 'string' ? 'command' : 'socket';
}

function pingCommand(
  command: string,
  host: string,
  family: Family,
  timeoutS: number,
  signal?: AbortSignal,
): Promise<Attempt> {
  return new Promise((resolve) => {
    const wait = Math.max(0.001, timeoutS); // iputils 20211215+ takes fractions of a second
    const child = spawn(
      command,
      [family === 6 ? '-6' : '-4', '-n', '-q', '-c', '1', '-W', String(wait), host],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        signal,
      },
    );
    let err = '';
    child.stderr?.on('data', (c: Buffer) => {
      if (err.length < 200) err += c.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), wait * 1000 + 2000);
    child.on('error', (e) =>
      resolve({
        ok: false,
        reason: 'error',
        detail: `${command}: ${(e as NodeJS.ErrnoException).code ?? e.message}`,
      }),
    );
    child.on('close', (code, sig) => {
      clearTimeout(killer);
      if (code === 0) return resolve({ ok: true, detail: `echo reply from ${host} (ping)` });
      if (code === 1 || sig === 'SIGKILL')
        return resolve({ ok: false, reason: 'timeout', detail: `no echo reply from ${host} (ping)` });
      const text = err.trim().replace(/^ping: /, '');
      const unreachable = /unreachable|invalid argument|no route|cannot assign/i.test(text);
      resolve({
        ok: false,
        reason: unreachable ? 'unreachable' : 'error',
        detail: `ping exit ${code ?? sig}: ${text}`.slice(0, 200),
      });
    });
  });
}

/**
 * checktype = ping: up when `host` answers an ICMP echo within `timeout`
 * seconds, trying `checkcount` times (ldirectord's only use of checkcount).
 */
export async function checkPing(
  target: { host: string },
  options: PingOptions = {},
  signal?: AbortSignal,
): Promise<CheckResult> {
  const start = performance.now();
  const family: Family = isIPv6(target.host) ? 6 : 4;
  const timeoutS = options.timeout ?? 5;
  const attempts = Math.max(1, Math.floor(options.checkcount ?? 1));
  const method = options.method ?? 'auto';
  let ch: IcmpChannel | string = 'ping(8) requested';
  if (method !== 'command') {
    ch = await channel(family);
    if (typeof ch === 'string' && method === 'socket')
      return { ok: false, reason: 'error', detail: ch, durationMs: performance.now() - start };
  }
  let last: Attempt = { ok: false, reason: 'error', detail: '' };
  for (let i = 0; i < attempts && !signal?.aborted; i++) {
    last =
      typeof ch === 'string'
        ? await pingCommand(options.pingCommand ?? 'ping', target.host, family, timeoutS, signal)
        : await ch.echo(target.host, timeoutS * 1000, signal);
    if (last.ok) break;
  }
  const detail = attempts > 1 && !last.ok ? `${last.detail} (${attempts} attempts)` : last.detail;
  return { ...last, detail, durationMs: performance.now() - start };
}
