// An AF_PACKET socket bound to one interface: send whole Ethernet frames,
// read them without blocking. The frames themselves come from packets.ts.
import { endianness } from 'node:os';
import {
  AF_PACKET,
  EACCES,
  EAGAIN,
  EINTR,
  EPERM,
  errnoName,
  libc,
  MSG_DONTWAIT,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_RAW,
} from '@lvs-ha/sys';
import {
  InvalidArgumentError,
  NoSuchInterfaceError,
  PacketSocketError,
  PermissionDeniedError,
} from './errors.js';
import { validateInterfaceName } from './ip.js';
import { inNetns, type NetnsOption } from './netns.js';

const LE = endianness() === 'LE';

const htons = (n: number) => ((n & 0xff) << 8) | ((n >> 8) & 0xff);

function sockaddrLl(protocol: number, ifindex: number, destination?: Uint8Array): Uint8Array {
  const sa = new Uint8Array(20);
  const dv = new DataView(sa.buffer);
  dv.setUint16(0, AF_PACKET, LE); // host order
  dv.setUint16(2, protocol, false); // network order
  dv.setInt32(4, ifindex, LE);
  if (destination) {
    sa[11] = destination.length;
    sa.set(destination, 12);
  }
  return sa;
}

export class PacketSocket {
  private closed = false;
  private readonly buf = new Uint8Array(65536);

  private constructor(
    readonly fd: number,
    readonly ifindex: number,
    readonly interfaceName: string,
  ) {}

  /**
   * Opens a packet socket on `ifname`. `protocol` is the EtherType to
   * receive (ETH_P_ARP, ETH_P_IPV6); 0 makes a send-only socket that
   * queues nothing.
   */
  static open(ifname: string, protocol: number, options: NetnsOption = {}): PacketSocket {
    validateInterfaceName(ifname);
    if (!Number.isInteger(protocol) || protocol < 0 || protocol > 0xffff)
      throw new InvalidArgumentError('EtherType', `${protocol} is not 0-65535`);
    return inNetns(options.netns, () => {
      const c = libc();
      const ifindex = c.if_nametoindex(ifname);
      if (!ifindex)
        throw new NoSuchInterfaceError(ifname, options.netns ? ` in network namespace ${options.netns}` : '');
      const fd = c.socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(protocol));
      if (fd < 0) {
        const e = c.errno();
        if (e === EPERM || e === EACCES)
          throw new PermissionDeniedError(`opening a packet socket on ${ifname}`, 'CAP_NET_RAW');
        throw new PacketSocketError(`socket(AF_PACKET) on ${ifname}`, e, errnoName(e));
      }
      const sa = sockaddrLl(protocol, ifindex);
      if (c.bind(fd, sa, sa.length) < 0) {
        const e = c.errno();
        c.close(fd);
        throw new PacketSocketError(`binding a packet socket to ${ifname}`, e, errnoName(e));
      }
      return new PacketSocket(fd, ifindex, ifname);
    });
  }

  /** Sends one Ethernet frame (destination MAC in its first 6 bytes). */
  send(frame: Uint8Array): void {
    if (this.closed) throw new PacketSocketError('sending on a closed packet socket', 9, 'EBADF');
    if (frame.length < 14) throw new InvalidArgumentError('frame', 'an Ethernet frame has at least 14 bytes');
    const c = libc();
    const etherType = (frame[12]! << 8) | frame[13]!;
    const sa = sockaddrLl(etherType, this.ifindex, frame.subarray(0, 6));
    for (;;) {
      const n = c.sendto(this.fd, frame, frame.length, 0, sa, sa.length);
      if (n === frame.length) return;
      const e = n < 0 ? c.errno() : 0;
      if (e === EINTR) continue;
      if (e === EPERM || e === EACCES)
        throw new PermissionDeniedError(`sending on ${this.interfaceName}`, 'CAP_NET_RAW');
      throw new PacketSocketError(
        `sending a ${frame.length}-byte frame on ${this.interfaceName}${e === 100 ? ' (the link is down)' : ''}`,
        e,
        errnoName(e),
      );
    }
  }

  /** The next received frame, or undefined when none is queued. */
  receive(): Uint8Array | undefined {
    if (this.closed) return undefined;
    const c = libc();
    for (;;) {
      const n = c.recv(this.fd, this.buf, this.buf.length, MSG_DONTWAIT);
      if (n >= 0) return this.buf.slice(0, n);
      const e = c.errno();
      if (e === EINTR) continue;
      if (e === EAGAIN) return undefined;
      throw new PacketSocketError(`receiving on ${this.interfaceName}`, e, errnoName(e));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // a packet socket's close waits for an RCU grace period in the kernel (8-20 ms):
    // not on this thread, which a takeover needs for the next VIP's announcement
    libc().closeInBackground(this.fd);
  }
}
