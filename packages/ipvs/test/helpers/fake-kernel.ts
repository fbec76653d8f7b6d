// A fake IPVS kernel behind the NetlinkTransport seam, for unit tests: it
// decodes each request with the package's codec, keeps a table, and answers
// with the errnos the real ip_vs_ctl.c uses (EEXIST, ESRCH, ENOENT), ACKs
// only where NLM_F_ACK asks (or on failure), and multipart dumps with DONE.
import {
  type Destination,
  decodeDestination,
  decodeIpvsPayload,
  decodeNetlinkMessages,
  decodeService,
  destinationId,
  encodeDestination,
  encodeDoneMessage,
  encodeErrorMessage,
  encodeIpvsMessage,
  encodeService,
  IPVS_CMD,
  type IpvsAttrs,
  type NetlinkTransport,
  NLM_F,
  type Service,
  serviceId,
} from '../../src/index.js';
import { SCHEDULERS } from './tables.js';

const FAMILY = 0x1c;
const KNOWN_SCHEDULERS = new Set(SCHEDULERS);

export class FakeKernel implements NetlinkTransport {
  /** Every request message received, decoded (commands only). */
  readonly received: { cmd: number; flags: number }[] = [];
  datagrams = 0;
  readonly services = new Map<string, { service: Service; dests: Map<string, Destination> }>();
  private deliver: ((d: Uint8Array) => void) | undefined;

  listen(onDatagram: (d: Uint8Array) => void): void {
    this.deliver = onDatagram;
  }
  close(): void {}

  async send(datagram: Uint8Array): Promise<void> {
    this.datagrams++;
    const out: Uint8Array[] = [];
    for (const m of decodeNetlinkMessages(datagram)) {
      const req = datagram.subarray(m.offset, m.offset + m.header.length);
      const ack = (errno: number) => out.push(encodeErrorMessage(m.header.seq, errno, req));
      if (m.header.type === 0x10) {
        // nlctrl GETFAMILY "IPVS": reply with the family id (attr 1, u16).
        const reply = new Uint8Array(16 + 4 + 8);
        const dv = new DataView(reply.buffer);
        dv.setUint32(0, reply.length, true);
        dv.setUint16(4, 0x10, true);
        dv.setUint32(8, m.header.seq, true);
        reply[16] = 1;
        dv.setUint16(20, 6, true);
        dv.setUint16(22, 1, true);
        dv.setUint16(24, FAMILY, true);
        out.push(reply);
        if (m.header.flags & NLM_F.ACK) ack(0);
        continue;
      }
      const msg = decodeIpvsPayload(m.header, m.payload);
      this.received.push({ cmd: msg.cmd, flags: m.header.flags });
      const dump = (m.header.flags & NLM_F.DUMP) === NLM_F.DUMP;
      const reply = (cmd: number, attrs: IpvsAttrs, multi = false) =>
        out.push(
          encodeIpvsMessage({
            familyId: FAMILY,
            cmd,
            attrs,
            seq: m.header.seq,
            flags: multi ? NLM_F.MULTI : 0,
          }),
        );
      let errno = 0;
      try {
        errno = this.handle(msg.cmd, msg.attrs, dump, reply);
      } catch {
        errno = 22;
      }
      if (dump && errno === 0) out.push(encodeDoneMessage(m.header.seq));
      else if (errno !== 0 || m.header.flags & NLM_F.ACK) ack(errno);
    }
    const total = out.reduce((n, b) => n + b.length, 0);
    const d = new Uint8Array(total);
    let off = 0;
    for (const b of out) {
      d.set(b, off);
      off += b.length;
    }
    queueMicrotask(() => this.deliver?.(d));
  }

  private handle(
    cmd: number,
    a: IpvsAttrs,
    dump: boolean,
    reply: (cmd: number, attrs: IpvsAttrs, multi?: boolean) => void,
  ): number {
    const svcEntry = () => (a.service ? this.services.get(serviceId(decodeService(a.service))) : undefined);
    switch (cmd) {
      case IPVS_CMD.NEW_SERVICE: {
        const s = decodeService(a.service ?? {});
        if (this.services.has(serviceId(s))) return 17;
        if (!KNOWN_SCHEDULERS.has(s.scheduler)) return 2;
        this.services.set(serviceId(s), {
          service: { ...s, flags: s.flags | 2, hashed: true },
          dests: new Map(),
        });
        return 0;
      }
      case IPVS_CMD.SET_SERVICE: {
        const e = svcEntry();
        if (!e) return 3;
        const s = decodeService(a.service ?? {});
        if (!KNOWN_SCHEDULERS.has(s.scheduler)) return 2;
        e.service = { ...s, flags: s.flags | 2, hashed: true };
        return 0;
      }
      case IPVS_CMD.DEL_SERVICE: {
        const e = svcEntry();
        if (!e) return 3;
        this.services.delete(serviceId(e.service));
        return 0;
      }
      case IPVS_CMD.GET_SERVICE: {
        if (dump) {
          for (const e of this.services.values())
            reply(IPVS_CMD.NEW_SERVICE, { service: kernelService(e.service) }, true);
          return 0;
        }
        const e = svcEntry();
        if (!e) return 3;
        reply(IPVS_CMD.NEW_SERVICE, { service: kernelService(e.service) });
        return 0;
      }
      case IPVS_CMD.NEW_DEST:
      case IPVS_CMD.SET_DEST:
      case IPVS_CMD.DEL_DEST: {
        const e = svcEntry();
        if (!e) return 3;
        const d = decodeDestination(a.dest ?? {}, e.service.family);
        const id = destinationId(d);
        const has = e.dests.has(id);
        if (cmd === IPVS_CMD.NEW_DEST && has) return 17;
        if (cmd !== IPVS_CMD.NEW_DEST && !has) return 2;
        if (cmd === IPVS_CMD.DEL_DEST) e.dests.delete(id);
        else e.dests.set(id, d);
        return 0;
      }
      case IPVS_CMD.GET_DEST: {
        const e = svcEntry();
        // with its connection counters, as the kernel's dump has them (a test may set them)
        for (const d of e?.dests.values() ?? [])
          reply(
            IPVS_CMD.NEW_DEST,
            { dest: { ...encodeDestination(d), activeConns: d.activeConns, inactConns: d.inactiveConns } },
            true,
          );
        return 0;
      }
      case IPVS_CMD.FLUSH:
        this.services.clear();
        return 0;
      case IPVS_CMD.GET_INFO:
        reply(IPVS_CMD.SET_INFO, { version: 0x010201, connTabSize: 4096 });
        return 0;
      case IPVS_CMD.GET_CONFIG:
        reply(IPVS_CMD.SET_CONFIG, { timeoutTcp: 900, timeoutTcpFin: 120, timeoutUdp: 300 });
        return 0;
      default:
        return 95;
    }
  }
}

/** What the kernel reports: the service's attributes with HASHED set. */
function kernelService(s: Service) {
  const raw = encodeService(s);
  if (raw.flags) raw.flags = { flags: raw.flags.flags | 2, mask: 0xffffffff };
  return raw;
}
