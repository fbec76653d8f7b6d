// Noticing that a VIP went away (an admin's `ip addr del`, the link going
// down) from rtnetlink notifications. Not through the `netlink` package: a
// subscribed socket of it aborts the process when the kernel reports a
// receive-buffer overrun or a listener throws. Instead our own AF_NETLINK
// socket is read by a worker thread (blocking poll/recv via koffi, off the
// main thread and off libuv's pool), which posts raw datagrams here. An
// overrun (ENOBUFS) is survivable by design: the kernel dropped some
// notifications, so we re-read the whole state with a dump and carry on.
import { EventEmitter } from 'node:events';
import { endianness } from 'node:os';
import { Worker } from 'node:worker_threads';
import { NLMSG } from '@lvs-ha/netlink-frame';
import {
  AF_NETLINK,
  EACCES,
  EAGAIN,
  EINTR,
  ENOBUFS,
  EPERM,
  errnoName,
  koffiPath,
  LIBC_PROTOTYPES,
  libc,
  NETLINK_ADD_MEMBERSHIP,
  NETLINK_ROUTE,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SOCK_CLOEXEC,
  SOCK_RAW,
  SOL_NETLINK,
  SOL_SOCKET,
} from '@lvs-ha/sys';
import { type Address, type Link, listAddresses, listLinks, toAddress } from './addresses.js';
import { PermissionDeniedError, VipError } from './errors.js';
import { type IpAddress, parseIp, parseVipSpec, validateInterfaceName } from './ip.js';
import { inNetns, type NetnsOption } from './netns.js';
import {
  decodeAddressMessage,
  decodeLinkMessage,
  decodeNetlinkMessages,
  IFF,
  RTM,
  RTNLGRP,
} from './rtnetlink.js';

const LE = endianness() === 'LE';

// Runs in the worker. An evaluated CommonJS source on purpose, not a module
// started with @lvs-ha/sys's startWorker: it needs no build step and no tsx,
// so it starts the same from the sources as from dist, quickly (it is
// restarted whenever it dies), and loads nothing but koffi. It binds the
// three calls it makes from @lvs-ha/sys's own prototypes, which it is sent.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const koffi = require(workerData.koffi);
const lib = koffi.load('libc.so.6');
const poll = lib.func(workerData.prototypes.poll);
const recv = lib.func(workerData.prototypes.recv);
const close = lib.func(workerData.prototypes.close);
const { fd, stop, le, errno: E } = workerData;
const pfd = new DataView(new ArrayBuffer(8));
pfd.setInt32(0, fd, le);
pfd.setInt16(4, 1 /* POLLIN */, le);
const pfdBytes = new Uint8Array(pfd.buffer);
const buf = new Uint8Array(1 << 17);
try {
  while (Atomics.load(stop, 0) === 0) {
    pfd.setInt16(6, 0, le);
    const r = poll(pfdBytes, 1, 200);
    if (r < 0) {
      const e = koffi.errno();
      if (e === E.EINTR) continue;
      parentPort.postMessage({ fatal: e });
      break;
    }
    if (r === 0) continue;
    const batch = [];
    let overrun = false;
    for (let i = 0; i < 512; i++) {
      const n = recv(fd, buf, buf.length, 0x40 /* MSG_DONTWAIT */);
      if (n >= 0) { batch.push(buf.slice(0, n).buffer); continue; }
      const e = koffi.errno();
      if (e === E.EAGAIN) break;
      if (e === E.ENOBUFS) { overrun = true; continue; }
      if (e === E.EINTR) continue;
      parentPort.postMessage({ fatal: e });
      Atomics.store(stop, 0, 1);
      break;
    }
    if (batch.length || overrun) parentPort.postMessage({ batch, overrun }, batch);
  }
} finally {
  if (workerData.closeOnExit) close(fd);
}
`;

export interface AddressEvent {
  type: 'added' | 'removed';
  address: Address;
}

export interface LinkEvent {
  type: 'changed' | 'removed';
  index: number;
  name: string;
  up: boolean;
  lowerUp: boolean;
}

export type VipLossReason = 'deleted' | 'link-down' | 'link-removed';

export interface VipEvent {
  address: string;
  interface: string | undefined;
  reason?: VipLossReason;
}

export interface WatchOptions extends NetnsOption {
  /** VIPs to track: "192.0.2.50" or "192.0.2.50/32/eth0" (interface optional). */
  vips?: (string | { address: string; interface?: string })[];
  /** Receive buffer asked of the kernel, bytes. Default 4 MiB (root may exceed rmem_max). */
  receiveBufferBytes?: number;
}

interface TrackedVip {
  ip: IpAddress;
  interface: string | undefined;
  /** Present on an up link, as last known. */
  held: boolean;
}

export interface WatcherStats {
  datagrams: number;
  messages: number;
  overruns: number;
  resyncs: number;
  workerRestarts: number;
}

/**
 * Events: 'address' (AddressEvent), 'link' (LinkEvent), 'vip-lost' and
 * 'vip-present' (VipEvent), 'overrun' (the kernel dropped notifications;
 * a re-read follows), 'resync' (state re-read, VIP events emitted for any
 * difference), 'error' (VipError; the watcher keeps going when it can).
 */
export class VipWatcher extends EventEmitter {
  readonly stats: WatcherStats = { datagrams: 0, messages: 0, overruns: 0, resyncs: 0, workerRestarts: 0 };
  private worker: Worker | undefined;
  private readonly stop = new Int32Array(new SharedArrayBuffer(4));
  private closed = false;
  private readonly links = new Map<number, Link>();
  private readonly vips: TrackedVip[];
  private resyncing: Promise<void> | undefined;
  private resyncAgain = false;

  private constructor(
    private readonly fd: number,
    private readonly options: WatchOptions,
  ) {
    super();
    this.vips = (options.vips ?? []).map((v) => {
      if (typeof v === 'string') {
        const spec = parseVipSpec(v);
        return { ip: spec.address, interface: spec.interface, held: false };
      }
      if (v.interface !== undefined) validateInterfaceName(v.interface);
      return { ip: parseIp(v.address), interface: v.interface, held: false };
    });
  }

  /** Opens the subscription, reads the current state, then starts watching. */
  static async open(options: WatchOptions = {}): Promise<VipWatcher> {
    const c = libc();
    const fd = inNetns(options.netns, () => c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (fd < 0) throw new VipError('NETLINK', `socket(AF_NETLINK): ${errnoName(c.errno())}`);
    let w: VipWatcher;
    try {
      const sa = new Uint8Array(12);
      new DataView(sa.buffer).setUint16(0, AF_NETLINK, LE);
      if (c.bind(fd, sa, sa.length) < 0)
        throw new VipError('NETLINK', `bind(AF_NETLINK): ${errnoName(c.errno())}`);
      const size = new Uint8Array(4);
      new DataView(size.buffer).setInt32(0, options.receiveBufferBytes ?? 4 << 20, LE);
      if (c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, size, 4) < 0)
        c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, size, 4);
      for (const group of [RTNLGRP.LINK, RTNLGRP.IPV4_IFADDR, RTNLGRP.IPV6_IFADDR]) {
        const g = new Uint8Array(4);
        new DataView(g.buffer).setUint32(0, group, LE);
        if (c.setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g, 4) < 0) {
          const e = c.errno();
          if (e === EPERM || e === EACCES)
            throw new PermissionDeniedError('joining rtnetlink groups', 'CAP_NET_ADMIN');
          throw new VipError('NETLINK', `joining rtnetlink group ${group}: ${errnoName(e)}`);
        }
      }
      w = new VipWatcher(fd, options);
    } catch (e) {
      c.close(fd);
      throw e;
    }
    // Subscribe first, then read the state: a change in between shows up as
    // a notification after the dump, never lost between the two.
    try {
      await w.resync(true);
    } catch (e) {
      w.stopWorker();
      c.close(fd);
      throw e;
    }
    w.startWorker();
    return w;
  }

  /** The VIPs tracked and whether each is currently held (present on an up link). */
  vipStates(): { address: string; interface: string | undefined; held: boolean }[] {
    return this.vips.map((v) => ({ address: v.ip.text, interface: v.interface, held: v.held }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stopWorker();
    libc().close(this.fd);
  }

  private startWorker(): void {
    const { poll, recv, close } = LIBC_PROTOTYPES;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        fd: this.fd,
        stop: this.stop,
        le: LE,
        koffi: koffiPath(),
        prototypes: { poll, recv, close },
        closeOnExit: false,
        errno: { EINTR, EAGAIN, ENOBUFS },
      },
    });
    this.worker = worker;
    worker.unref();
    worker.on('message', (m: { batch?: ArrayBuffer[]; overrun?: boolean; fatal?: number }) => {
      try {
        if (m.fatal !== undefined)
          this.fail(new VipError('NETLINK', `reading rtnetlink notifications: ${errnoName(m.fatal)}`));
        for (const b of m.batch ?? []) this.handle(new Uint8Array(b));
        if (m.overrun) this.overrun();
      } catch (e) {
        this.fail(e);
      }
    });
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', () => {
      if (this.worker !== worker || this.closed) return;
      // A worker that died is replaced; the state may have moved meanwhile.
      this.stats.workerRestarts++;
      Atomics.store(this.stop, 0, 0);
      this.startWorker();
      this.scheduleResync();
    });
  }

  private async stopWorker(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    Atomics.store(this.stop, 0, 1);
    if (w)
      await new Promise<void>((resolve) => (w.threadId < 0 ? resolve() : w.once('exit', () => resolve())));
  }

  private fail(e: unknown): void {
    const err =
      e instanceof VipError ? e : new VipError('NETLINK', String((e as Error)?.message ?? e), { cause: e });
    // Without listeners 'error' would throw from an event callback: never do that.
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private safeEmit(event: string, payload: unknown): void {
    // Each listener on its own: one that throws (the caller's bug) is
    // reported on 'error' and does not keep the others from hearing it.
    for (const listener of this.rawListeners(event) as ((p: unknown) => void)[]) {
      try {
        listener.call(this, payload);
      } catch (e) {
        this.fail(e);
      }
    }
  }

  private handle(datagram: Uint8Array): void {
    this.stats.datagrams++;
    for (const m of decodeNetlinkMessages(datagram)) {
      this.stats.messages++;
      const t = m.header.type;
      if (t === NLMSG.OVERRUN) this.overrun();
      else if (t === RTM.NEWLINK || t === RTM.DELLINK) {
        const l = decodeLinkMessage(m.payload);
        const prev = this.links.get(l.index);
        const name = l.name ?? prev?.name ?? `if${l.index}`;
        const up = (l.flags & IFF.UP) !== 0;
        const lowerUp = (l.flags & IFF.LOWER_UP) !== 0;
        if (t === RTM.DELLINK) this.links.delete(l.index);
        else
          this.links.set(l.index, {
            index: l.index,
            name,
            mac: prev?.mac ?? '',
            flags: l.flags,
            up,
            lowerUp,
            loopback: (l.flags & IFF.LOOPBACK) !== 0,
            mtu: l.mtu,
          });
        this.safeEmit('link', {
          type: t === RTM.DELLINK ? 'removed' : 'changed',
          index: l.index,
          name,
          up,
          lowerUp,
        });
        this.reassess(t === RTM.DELLINK ? 'link-removed' : 'link-down', l.index);
      } else if (t === RTM.NEWADDR || t === RTM.DELADDR) {
        const names = new Map([...this.links.values()].map((l) => [l.index, l.name]));
        const a = toAddress(decodeAddressMessage(m.payload), names);
        if (!a) continue;
        this.safeEmit('address', { type: t === RTM.NEWADDR ? 'added' : 'removed', address: a });
        for (const v of this.vips) {
          if (v.ip.text !== a.address.text || (v.interface && v.interface !== a.interface)) continue;
          if (t === RTM.DELADDR) this.setHeld(v, false, 'deleted', a.interface);
          else
            this.setHeld(
              v,
              this.links.get(a.index)?.up === true && this.links.get(a.index)?.lowerUp === true,
              'link-down',
              a.interface,
            );
        }
      }
    }
  }

  // A link changed: a VIP on it is held only while the link is up with carrier.
  private readonly vipIndex = new Map<TrackedVip, number>();
  private reassess(reason: VipLossReason, index: number): void {
    const link = this.links.get(index);
    for (const v of this.vips) {
      if (this.vipIndex.get(v) !== index) continue;
      this.setHeld(v, !!link && link.up && link.lowerUp, link ? reason : 'link-removed', link?.name);
    }
  }

  private setHeld(v: TrackedVip, held: boolean, reason: VipLossReason, ifname: string | undefined): void {
    if (held) {
      const idx = [...this.links.values()].find((l) => l.name === (ifname ?? v.interface))?.index;
      if (idx !== undefined) this.vipIndex.set(v, idx);
    }
    if (v.held === held) return;
    v.held = held;
    if (held) this.safeEmit('vip-present', { address: v.ip.text, interface: ifname ?? v.interface });
    else this.safeEmit('vip-lost', { address: v.ip.text, interface: ifname ?? v.interface, reason });
  }

  private overrun(): void {
    this.stats.overruns++;
    this.safeEmit('overrun', { ...this.stats });
    this.scheduleResync();
  }

  private scheduleResync(): void {
    if (this.resyncing) {
      this.resyncAgain = true;
      return;
    }
    this.resyncing = this.resync(false)
      .catch((e) => this.fail(e))
      .finally(() => {
        this.resyncing = undefined;
        if (this.resyncAgain && !this.closed) {
          this.resyncAgain = false;
          this.scheduleResync();
        }
      });
  }

  /** Re-reads links and addresses and settles every tracked VIP's state. */
  private async resync(initial: boolean): Promise<void> {
    if (!initial) this.stats.resyncs++;
    const opts = this.options.netns ? { netns: this.options.netns } : {};
    const links = await listLinks(opts);
    const addrs = await listAddresses(opts);
    if (this.closed) return;
    this.links.clear();
    for (const l of links) this.links.set(l.index, l);
    for (const v of this.vips) {
      const a = addrs.find(
        (x) => x.address.text === v.ip.text && (!v.interface || x.interface === v.interface),
      );
      const link = a ? this.links.get(a.index) : undefined;
      if (a && link) this.vipIndex.set(v, a.index);
      const held = !!link && link.up && link.lowerUp;
      if (initial) v.held = held;
      else this.setHeld(v, held, !a ? 'deleted' : 'link-down', a?.interface);
    }
    if (!initial) this.safeEmit('resync', { ...this.stats });
  }
}

/** Starts watching; see VipWatcher for the events. */
export function watchVips(options: WatchOptions = {}): Promise<VipWatcher> {
  return VipWatcher.open(options);
}

export type { Address };
