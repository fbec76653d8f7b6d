// The IPVS client: what libipvs is to ipvsadm. Opens a generic-netlink
// socket, resolves the IPVS family, and turns typed calls into messages.
import type { NetlinkMessage } from '@lvs-ha/netlink-frame';
import { type ChannelOptions, NetlinkChannel, NetlinkErrnoError } from './channel.js';
import { IpvsError, type IpvsKernelError } from './errors.js';
import { decodeFamily, decodeIpvsPayload, encodeGetFamily, encodeIpvsMessage } from './genl.js';
import {
  type Daemon,
  type DaemonSpec,
  type Destination,
  type DestinationSpec,
  decodeDaemon,
  decodeDestination,
  decodeService,
  describeService,
  encodeDaemon,
  encodeServiceKey,
  type IpvsInfo,
  type Service,
  type ServiceKey,
  type ServiceSpec,
  serviceFamily,
  type Timeouts,
} from './model.js';
import { commandError, encodeOperations, type Operation, operationError } from './operations.js';
import { planReconcile, type ReconcileOptions } from './reconcile.js';
import { IPVS_CMD, IPVS_GENL_NAME, type IpvsAttrs } from './schema.js';
import type { DesiredService } from './text.js';
import { type NetlinkTransport, openSocketTransport } from './transport.js';

/** A service with its real servers. */
export type TableService = Service & { destinations: Destination[] };

export interface IpvsOpenOptions extends ChannelOptions {
  /** Use this transport instead of a new netlink socket (tests, other addons). */
  transport?: NetlinkTransport;
}

export interface ReconcileResult {
  /** The operations sent, in order (empty when the table was already right). */
  operations: Operation[];
  /** The refusals, if any (the other operations were still applied). */
  errors: IpvsKernelError[];
}

export interface IpvsReconcileOptions extends ReconcileOptions {
  /** The current table, if the caller has it (saves reading it: 1 + one dump per service). */
  current?: readonly TableService[];
  /** Plan only: return the operations without sending them. */
  dryRun?: boolean;
}

/** Outcome of one operation of apply(): `error` set when the kernel refused it. */
export interface ApplyResult {
  operation: Operation;
  error?: IpvsKernelError;
}

export class Ipvs {
  private constructor(
    private readonly channel: NetlinkChannel,
    /** The generic-netlink family id of IPVS on this kernel. */
    readonly familyId: number,
  ) {}

  /** Opens a socket and resolves the IPVS family. Throws NO_IPVS when the kernel has no IPVS. */
  static async open(options: IpvsOpenOptions = {}): Promise<Ipvs> {
    const channel = new NetlinkChannel(options.transport ?? openSocketTransport(), options);
    try {
      const replies = await channel.request(encodeGetFamily(IPVS_GENL_NAME, 0));
      const id = replies[0] ? decodeFamily(replies[0].payload).familyId : undefined;
      if (!id) throw new IpvsError('NO_IPVS', 'the kernel did not say which family id IPVS has');
      return new Ipvs(channel, id);
    } catch (err) {
      channel.close();
      if (err instanceof NetlinkErrnoError && err.errno === 2)
        throw new IpvsError(
          'NO_IPVS',
          'this kernel has no IPVS (generic netlink family "IPVS" not found): load it with `modprobe ip_vs`',
        );
      throw err;
    }
  }

  /** Netlink messages and datagrams written so far (requests, dumps, changes). */
  get counters(): { messages: number; datagrams: number } {
    return { messages: this.channel.messagesSent, datagrams: this.channel.datagramsSent };
  }

  close(): void {
    this.channel.close();
  }

  addService(service: ServiceSpec): Promise<void> {
    return this.one({ op: 'add-service', service });
  }
  editService(service: ServiceSpec): Promise<void> {
    return this.one({ op: 'edit-service', service });
  }
  deleteService(service: ServiceKey): Promise<void> {
    return this.one({ op: 'delete-service', service });
  }
  addDestination(service: ServiceKey, destination: DestinationSpec): Promise<void> {
    return this.one({ op: 'add-destination', service, destination });
  }
  editDestination(service: ServiceKey, destination: DestinationSpec): Promise<void> {
    return this.one({ op: 'edit-destination', service, destination });
  }
  deleteDestination(service: ServiceKey, destination: { address: string; port: number }): Promise<void> {
    return this.one({ op: 'delete-destination', service, destination });
  }

  /**
   * Sends many operations pipelined (many messages per write, one ACK per
   * write) and returns one result per operation in order. Refusals do not
   * stop the others (the kernel handles each message on its own).
   */
  async apply(operations: readonly Operation[]): Promise<ApplyResult[]> {
    if (operations.length === 0) return [];
    // Encode everything first: bad input throws before anything is sent.
    const messages = encodeOperations(operations, this.familyId);
    const results = await this.channel.batch(messages);
    return operations.map((operation, i) => {
      const errno = results[i]?.errno ?? 0;
      return errno ? { operation, error: operationError(operation, errno) } : { operation };
    });
  }

  /** Like apply(), but throws the first refusal (after every operation was tried). */
  async applyAll(operations: readonly Operation[]): Promise<void> {
    const failed = (await this.apply(operations)).find((r) => r.error);
    if (failed?.error) throw failed.error;
  }

  private async one(op: Operation): Promise<void> {
    const [r] = await this.apply([op]);
    if (r?.error) throw r.error;
  }

  /**
   * Brings the kernel's table to `desired` with the fewest operations (see
   * planReconcile) and returns what it changed.
   */
  async reconcile(
    desired: readonly DesiredService[],
    options: IpvsReconcileOptions = {},
  ): Promise<ReconcileResult> {
    const current = options.current ?? (await this.getTable());
    const operations = planReconcile(current, desired, options);
    if (options.dryRun) return { operations, errors: [] };
    const results = await this.apply(operations);
    return { operations, errors: results.flatMap((r) => (r.error ? [r.error] : [])) };
  }

  /** One service with its settings and counters. Throws NO_SUCH_SERVICE. */
  async getService(service: ServiceKey): Promise<Service> {
    const msg = encodeIpvsMessage({
      familyId: this.familyId,
      cmd: IPVS_CMD.GET_SERVICE,
      attrs: { service: encodeServiceKey(service) },
    });
    const replies = await this.call(
      msg,
      IPVS_CMD.GET_SERVICE,
      `get service ${describeService(service)}`,
      () => this.channel.request(msg),
      service,
    );
    const raw = replies.map((r) => this.decode(r)).find((m) => m.attrs.service)?.attrs.service;
    if (!raw) throw new IpvsError('DECODE', 'the kernel answered GET_SERVICE without a service');
    return decodeService(raw);
  }

  /** Every virtual service, in the kernel's order. */
  async listServices(): Promise<Service[]> {
    const msg = encodeIpvsMessage({ familyId: this.familyId, cmd: IPVS_CMD.GET_SERVICE, flags: 0 });
    const replies = await this.call(msg, IPVS_CMD.GET_SERVICE, 'list services', () => this.channel.dump(msg));
    return replies.flatMap((r) => {
      const s = this.decode(r).attrs.service;
      return s ? [decodeService(s)] : [];
    });
  }

  /** The real servers of a service (empty when the service does not exist: the kernel's dump says nothing). */
  async listDestinations(service: ServiceKey): Promise<Destination[]> {
    const family = serviceFamily(service);
    const msg = encodeIpvsMessage({
      familyId: this.familyId,
      cmd: IPVS_CMD.GET_DEST,
      flags: 0,
      attrs: { service: encodeServiceKey(service) },
    });
    const replies = await this.call(
      msg,
      IPVS_CMD.GET_DEST,
      `list real servers of ${describeService(service)}`,
      () => this.channel.dump(msg),
    );
    return replies.flatMap((r) => {
      const d = this.decode(r).attrs.dest;
      return d ? [decodeDestination(d, family)] : [];
    });
  }

  /** Every service with its real servers (1 + one dump per service). */
  async getTable(): Promise<TableService[]> {
    const services = await this.listServices();
    const out: TableService[] = [];
    for (const s of services) out.push({ ...s, destinations: await this.listDestinations(s) });
    return out;
  }

  /** Zeroes the counters of one service, or of everything. */
  async zero(service?: ServiceKey): Promise<void> {
    const attrs: IpvsAttrs = service ? { service: encodeServiceKey(service) } : {};
    await this.command(
      IPVS_CMD.ZERO,
      attrs,
      service ? `zero ${describeService(service)}` : 'zero the counters',
    );
  }

  /** Removes every service and real server. */
  async flush(): Promise<void> {
    await this.command(IPVS_CMD.FLUSH, {}, 'flush the table');
  }

  async getTimeouts(): Promise<Timeouts> {
    const [r] = await this.command(IPVS_CMD.GET_CONFIG, {}, 'read the timeouts');
    const a = r ? this.decode(r).attrs : {};
    return { tcp: a.timeoutTcp ?? 0, tcpFin: a.timeoutTcpFin ?? 0, udp: a.timeoutUdp ?? 0 };
  }

  /** Sets connection timeouts in seconds; omitted (or 0) values are left as they are. */
  async setTimeouts(t: Partial<Timeouts>): Promise<void> {
    const attrs: IpvsAttrs = {};
    if (t.tcp !== undefined) attrs.timeoutTcp = t.tcp;
    if (t.tcpFin !== undefined) attrs.timeoutTcpFin = t.tcpFin;
    if (t.udp !== undefined) attrs.timeoutUdp = t.udp;
    await this.command(IPVS_CMD.SET_CONFIG, attrs, 'set the timeouts');
  }

  async info(): Promise<IpvsInfo> {
    const [r] = await this.command(IPVS_CMD.GET_INFO, {}, 'read the IPVS version');
    const a = r ? this.decode(r).attrs : {};
    const v = a.version ?? 0;
    return {
      versionCode: v,
      version: `${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}`,
      connTableSize: a.connTabSize ?? 0,
    };
  }

  async startDaemon(daemon: DaemonSpec): Promise<void> {
    await this.command(
      IPVS_CMD.NEW_DAEMON,
      { daemon: encodeDaemon(daemon) },
      `start the ${daemon.state} sync daemon`,
    );
  }

  async stopDaemon(state: 'master' | 'backup'): Promise<void> {
    await this.command(
      IPVS_CMD.DEL_DAEMON,
      { daemon: { state: state === 'master' ? 1 : 2 } },
      `stop the ${state} sync daemon`,
    );
  }

  async listDaemons(): Promise<Daemon[]> {
    const msg = encodeIpvsMessage({ familyId: this.familyId, cmd: IPVS_CMD.GET_DAEMON, flags: 0 });
    const replies = await this.call(msg, IPVS_CMD.GET_DAEMON, 'list sync daemons', () =>
      this.channel.dump(msg),
    );
    return replies.flatMap((r) => {
      const d = this.decode(r).attrs.daemon;
      return d ? [decodeDaemon(d)] : [];
    });
  }

  private async command(cmd: number, attrs: IpvsAttrs, what: string): Promise<NetlinkMessage[]> {
    const msg = encodeIpvsMessage({ familyId: this.familyId, cmd, attrs });
    return this.call(msg, cmd, what, () => this.channel.request(msg));
  }

  private async call(
    _msg: Uint8Array,
    cmd: number,
    what: string,
    fn: () => Promise<NetlinkMessage[]>,
    service?: ServiceKey,
  ): Promise<NetlinkMessage[]> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof NetlinkErrnoError) throw commandError(cmd, err.errno, what, service);
      throw err;
    }
  }

  private decode(m: NetlinkMessage) {
    return decodeIpvsPayload(m.header, m.payload);
  }
}
