// Table changes as data (what apply() sends and reconcile() returns), their
// encoding into IPVS messages, and the sentence for a refusal. Pure.

import { endianness } from 'node:os';
import { NLA_F_NESTED, NLM_F, NLMSG_HDRLEN } from '@lvs-ha/netlink-frame';
import { encodeAttrs } from './attrs.js';
import { InvalidArgumentError, IpvsKernelError } from './errors.js';
import {
  encodeIpvsMessage,
  encodeIpvsMessageInto,
  GENL_HDRLEN,
  type IpvsMessageInput,
  ipvsMessageLength,
} from './genl.js';
import { AF_INET, AF_INET6, parseAddressShared, parseIpv4 } from './ip.js';
import {
  checkPort,
  checkU32,
  type DestinationSpec,
  describeDestination,
  describeService,
  encodeDestination,
  encodeDestinationKey,
  encodeService,
  encodeServiceKey,
  forwardFlag,
  type ServiceKey,
  type ServiceSpec,
  serviceKeyOf,
} from './model.js';
import { IPVS_CMD, IPVS_CMD_NAME, type RawService, SERVICE_SCHEMA } from './schema.js';

export type Operation =
  | { op: 'add-service'; service: ServiceSpec }
  | { op: 'edit-service'; service: ServiceSpec }
  | { op: 'delete-service'; service: ServiceKey }
  | { op: 'add-destination'; service: ServiceKey; destination: DestinationSpec }
  | { op: 'edit-destination'; service: ServiceKey; destination: DestinationSpec }
  | { op: 'delete-destination'; service: ServiceKey; destination: Pick<DestinationSpec, 'address' | 'port'> };

/** The IPVS message (command and attributes) for one operation. */
export function operationMessage(
  op: Operation,
  familyId: number,
  keys?: Map<ServiceKey, RawService>,
): IpvsMessageInput {
  // Many operations share one service key object: encode it once per batch.
  let service = keys?.get(op.service);
  const key = () => {
    if (!service) {
      service = encodeServiceKey(op.service);
      if (keys) {
        // Encoded once for the batch, copied into each message as bytes.
        service = encodeAttrs(SERVICE_SCHEMA, service as Record<string, unknown>) as unknown as RawService;
        keys.set(op.service, service);
      }
    }
    return service;
  };
  switch (op.op) {
    case 'add-service':
      return { familyId, cmd: IPVS_CMD.NEW_SERVICE, attrs: { service: encodeService(op.service) } };
    case 'edit-service':
      return { familyId, cmd: IPVS_CMD.SET_SERVICE, attrs: { service: encodeService(op.service) } };
    case 'delete-service':
      return { familyId, cmd: IPVS_CMD.DEL_SERVICE, attrs: { service: key() } };
    case 'add-destination':
    case 'edit-destination':
      return {
        familyId,
        cmd: op.op === 'add-destination' ? IPVS_CMD.NEW_DEST : IPVS_CMD.SET_DEST,
        attrs: { service: key(), dest: encodeDestination(op.destination) },
      };
    case 'delete-destination':
      // DEL_DEST needs only address and port (and the family).
      return {
        familyId,
        cmd: IPVS_CMD.DEL_DEST,
        attrs: { service: key(), dest: encodeDestinationKey(op.destination) },
      };
  }
}

/** The IPVS message for one operation (seq and REQUEST/ACK flags are the channel's). */
export function encodeOperation(op: Operation, familyId: number): Uint8Array {
  return encodeIpvsMessage(operationMessage(op, familyId));
}

/**
 * Encodes many operations back to back into one buffer (one allocation, not
 * one per message) and returns a view per message. Throws on bad input
 * before anything is sent.
 */
export function encodeOperations(ops: readonly Operation[], familyId: number): Uint8Array[] {
  const keys = new Map<ServiceKey, RawService>();
  // First pass: validate and size everything (bad input throws before anything is sent).
  const inputs: (IpvsMessageInput | FastDest)[] = ops.map(
    (op) => fastDestination(op, familyId, keys) ?? operationMessage(op, familyId, keys),
  );
  let total = 0;
  for (const m of inputs) total += 'fast' in m ? m.length : ipvsMessageLength(m);
  const buf = new Uint8Array(total);
  const view = new DataView(buf.buffer);
  const out: Uint8Array[] = new Array(inputs.length);
  let off = 0;
  for (let i = 0; i < inputs.length; i++) {
    const m = inputs[i] as IpvsMessageInput | FastDest;
    const end = 'fast' in m ? writeFastDest(m, buf, view, off) : encodeIpvsMessageInto(m, buf, off, view);
    out[i] = buf.subarray(off, end);
    off = end;
  }
  return out;
}

// The common case of a large batch, a plain real server to add or edit,
// written straight into the buffer: the same bytes the schema walk gives
// (IPVS_DEST_ATTR_ADDR, PORT, FWD_METHOD, WEIGHT, U_THRESH, L_THRESH,
// ADDR_FAMILY, in schema order; tested byte for byte), without the
// intermediate objects, which cost most of the time inside a TCG guest.
const LE = endianness() === 'LE';

interface FastDest {
  fast: true;
  length: number;
  familyId: number;
  cmd: number;
  service: Uint8Array;
  addr: Uint8Array;
  af: number;
  port: number;
  fwd: number;
  weight: number;
  u: number;
  l: number;
}
const FAST_DEST_NEST = 4 + 20 + 8 * 6;

function fastDestination(
  op: Operation,
  familyId: number,
  keys: Map<ServiceKey, RawService>,
): FastDest | undefined {
  if (op.op !== 'add-destination' && op.op !== 'edit-destination') return undefined;
  const d = op.destination;
  if (
    d === null ||
    typeof d !== 'object' ||
    d.tunnelType !== undefined ||
    d.tunnelPort !== undefined ||
    d.tunnelChecksum !== undefined
  )
    return undefined;
  let service = keys.get(op.service) as unknown as Uint8Array | undefined;
  if (!service) {
    service = encodeAttrs(SERVICE_SCHEMA, encodeServiceKey(op.service) as Record<string, unknown>);
    keys.set(op.service, service as unknown as RawService);
  }
  // Real server addresses rarely repeat in a batch: no cache for them.
  const v4 = parseIpv4(d.address);
  const { family, bytes } = v4
    ? { family: 'inet' as const, bytes: v4 }
    : parseAddressShared(d.address, 'real server address');
  if (d.family !== undefined && d.family !== family)
    throw new InvalidArgumentError('family', `${d.family} does not match the address ${d.address}`);
  const fwd = forwardFlag(d.forward);
  const weight = checkU32(d.weight ?? 1, 'weight');
  if (weight > 0x7fffffff) throw new InvalidArgumentError('weight', `${weight} exceeds 2147483647`);
  return {
    fast: true,
    length: NLMSG_HDRLEN + GENL_HDRLEN + 4 + service.length + FAST_DEST_NEST,
    familyId,
    cmd: op.op === 'add-destination' ? IPVS_CMD.NEW_DEST : IPVS_CMD.SET_DEST,
    service,
    addr: bytes,
    af: family === 'inet' ? AF_INET : AF_INET6,
    port: checkPort(d.port, 'real server port'),
    fwd,
    weight,
    u: checkU32(d.upperThreshold ?? 0, 'upper threshold'),
    l: checkU32(d.lowerThreshold ?? 0, 'lower threshold'),
  };
}

function writeFastDest(m: FastDest, buf: Uint8Array, dv: DataView, off: number): number {
  const le = LE;
  dv.setUint32(off, m.length, le);
  dv.setUint16(off + 4, m.familyId, le);
  dv.setUint16(off + 6, NLM_F.REQUEST | NLM_F.ACK, le);
  dv.setUint32(off + 8, 0, le);
  dv.setUint32(off + 12, 0, le);
  buf[off + 16] = m.cmd;
  buf[off + 17] = 1;
  buf[off + 18] = 0;
  buf[off + 19] = 0;
  let p = off + 20;
  dv.setUint16(p, 4 + m.service.length, le);
  dv.setUint16(p + 2, 1 | NLA_F_NESTED, le);
  buf.set(m.service, p + 4);
  p += 4 + m.service.length;
  dv.setUint16(p, FAST_DEST_NEST, le);
  dv.setUint16(p + 2, 2 | NLA_F_NESTED, le);
  p += 4;
  const attr = (type: number, len: number) => {
    dv.setUint16(p, len, le);
    dv.setUint16(p + 2, type, le);
  };
  attr(1, 20);
  buf.fill(0, p + 4, p + 20);
  buf.set(m.addr, p + 4);
  p += 20;
  attr(2, 6);
  dv.setUint16(p + 4, m.port, false);
  dv.setUint16(p + 6, 0, le);
  p += 8;
  const u32 = (type: number, v: number) => {
    attr(type, 8);
    dv.setUint32(p + 4, v, le);
    p += 8;
  };
  u32(3, m.fwd);
  u32(4, m.weight);
  u32(5, m.u);
  u32(6, m.l);
  attr(11, 6);
  dv.setUint16(p + 4, m.af, le);
  dv.setUint16(p + 6, 0, le);
  return p + 8;
}

const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  EBUSY: 16,
  EAFNOSUPPORT: 97,
};

function permission(cmd: number, errno: number): IpvsKernelError {
  return new IpvsKernelError(
    'PERMISSION_DENIED',
    IPVS_CMD_NAME[cmd] ?? String(cmd),
    errno,
    'changing IPVS needs root (CAP_NET_ADMIN); nothing was changed',
  );
}

/** The typed error for a refused operation. */
export function operationError(op: Operation, errno: number): IpvsKernelError {
  const svc = describeService(serviceKeyOf(op.service));
  const cmd = {
    'add-service': IPVS_CMD.NEW_SERVICE,
    'edit-service': IPVS_CMD.SET_SERVICE,
    'delete-service': IPVS_CMD.DEL_SERVICE,
    'add-destination': IPVS_CMD.NEW_DEST,
    'edit-destination': IPVS_CMD.SET_DEST,
    'delete-destination': IPVS_CMD.DEL_DEST,
  }[op.op];
  const name = IPVS_CMD_NAME[cmd] as string;
  if (errno === ERRNO.EPERM) return permission(cmd, errno);
  if (errno === ERRNO.ESRCH)
    return new IpvsKernelError('NO_SUCH_SERVICE', name, errno, `service ${svc} does not exist`);
  if (op.op === 'add-service' || op.op === 'edit-service') {
    const s = op.service;
    if (errno === ERRNO.EEXIST)
      return new IpvsKernelError('SERVICE_EXISTS', name, errno, `service ${svc} already exists`);
    if (errno === ERRNO.ENOENT) {
      const sched = s.scheduler ?? 'wlc';
      return new IpvsKernelError(
        'SCHEDULER_NOT_FOUND',
        name,
        errno,
        s.pe
          ? `scheduler \`${sched}\` or persistence engine \`${s.pe}\` is not loaded (no module ip_vs_${sched} / ip_vs_pe_${s.pe})`
          : `scheduler \`${sched}\` is not loaded (no module ip_vs_${sched})`,
      );
    }
    if (errno === ERRNO.EINVAL) {
      const why =
        s.onePacket && s.protocol !== 'udp'
          ? 'one-packet scheduling is only for UDP services'
          : 'the kernel found the settings invalid (protocol, address, netmask or flags)';
      return new IpvsKernelError(
        'KERNEL',
        name,
        errno,
        `cannot ${op.op === 'add-service' ? 'add' : 'edit'} service ${svc}: ${why}`,
      );
    }
    return new IpvsKernelError(
      'KERNEL',
      name,
      errno,
      `the kernel refused to ${op.op.replace('-', ' ')} ${svc}`,
    );
  }
  if (op.op === 'delete-service')
    return new IpvsKernelError('KERNEL', name, errno, `the kernel refused to delete service ${svc}`);
  const rs = describeDestination(op.destination);
  if (errno === ERRNO.EEXIST)
    return new IpvsKernelError(
      'DESTINATION_EXISTS',
      name,
      errno,
      `real server ${rs} already exists in service ${svc}`,
    );
  if (errno === ERRNO.ENOENT)
    return new IpvsKernelError(
      'NO_SUCH_DESTINATION',
      name,
      errno,
      `real server ${rs} is not in service ${svc}`,
    );
  if (errno === ERRNO.EINVAL || errno === ERRNO.EAFNOSUPPORT)
    return new IpvsKernelError(
      'KERNEL',
      name,
      errno,
      `cannot ${op.op === 'add-destination' ? 'add' : 'edit'} real server ${rs} in service ${svc}: the kernel found the settings invalid (weight, thresholds, forwarding method or address family: a real server of another family needs ipip forwarding)`,
    );
  return new IpvsKernelError(
    'KERNEL',
    name,
    errno,
    `the kernel refused to ${op.op.replace('-', ' ')} ${rs} in service ${svc}`,
  );
}

/** The typed error for a refused command without an operation (daemon, config…). */
export function commandError(
  cmd: number,
  errno: number,
  what: string,
  service?: ServiceKey,
): IpvsKernelError {
  const name = IPVS_CMD_NAME[cmd] ?? String(cmd);
  if (errno === ERRNO.EPERM) return permission(cmd, errno);
  if (cmd === IPVS_CMD.NEW_DAEMON && errno === ERRNO.EEXIST)
    return new IpvsKernelError('DAEMON_RUNNING', name, errno, `${what}: that sync daemon is already running`);
  if (cmd === IPVS_CMD.NEW_DAEMON && errno === ERRNO.ENODEV)
    return new IpvsKernelError('KERNEL', name, errno, `${what}: no such interface`);
  if (cmd === IPVS_CMD.NEW_DAEMON && errno === ERRNO.EINVAL)
    return new IpvsKernelError(
      'KERNEL',
      name,
      errno,
      `cannot ${what}: the kernel found the settings invalid (the interface must exist, and the sync protocol refuses a table with real servers of another address family than their service)`,
    );
  if (cmd === IPVS_CMD.DEL_DAEMON && errno === ERRNO.ESRCH)
    return new IpvsKernelError('KERNEL', name, errno, `cannot ${what}: it is not running`);
  if (errno === ERRNO.ESRCH)
    return new IpvsKernelError(
      'NO_SUCH_SERVICE',
      name,
      errno,
      service
        ? `service ${describeService(serviceKeyOf(service))} does not exist`
        : `${what}: no such service`,
    );
  return new IpvsKernelError('KERNEL', name, errno, `the kernel refused to ${what}`);
}
