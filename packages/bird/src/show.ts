// What the `show` commands' replies mean, as typed values (pure: a Reply in,
// rows out). The text is BIRD 2's (nest/proto.c, proto/bgp, proto/bfd,
// nest/rt-show.c); unknown extra lines are kept out of the typed fields,
// never fatal.
import { BirdProtocolError } from './errors.js';
import { REPLY, type Reply, type ReplyLine } from './reply.js';

export type ProtocolState = 'up' | 'down' | 'start' | 'stop' | 'flush' | string;

export interface BgpDetails {
  /** Idle, Connect, Active, OpenSent, OpenConfirm, Established, Close, Down */
  state: string;
  neighborAddress?: string;
  neighborAs?: number;
  localAs?: number;
  neighborId?: string;
  sourceAddress?: string;
  /** seconds left and negotiated hold time, as "8.591/9" says */
  holdTimer?: { left: number; hold: number };
  lastError?: string;
}

export interface ChannelDetails {
  name: string;
  state?: string;
  table?: string;
  routes?: { imported: number; exported: number; preferred: number };
}

export interface ProtocolInfo {
  name: string;
  /** BGP, Static, BFD, Device, Kernel... */
  proto: string;
  /** undefined where BIRD prints "---" */
  table: string | undefined;
  state: ProtocolState;
  since: string;
  info: string;
  /** from `show protocols all` only */
  bgp?: BgpDetails;
  channels?: ChannelDetails[];
  /** every "Key: value" detail line of `show protocols all`, by key */
  details?: Record<string, string>;
}

// Since is one token (hh:mm:ss.sss, or a date) or "yyyy-mm-dd hh:mm:ss" with `timeformat protocol iso long`.
const SINCE = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?|\S+)\s*(.*)$/;

function protocolRow(line: ReplyLine): ProtocolInfo {
  const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.*)$/.exec(line.text.trim());
  if (!m) throw new BirdProtocolError(line.text, 'protocol row without name, proto, table, state, since');
  const rest = SINCE.exec(m[5] ?? '');
  return {
    name: m[1] as string,
    proto: m[2] as string,
    table: m[3] === '---' ? undefined : m[3],
    state: m[4] as string,
    since: rest?.[1] ?? '',
    info: (rest?.[2] ?? '').trim(),
  };
}

/** `show protocols [all] [NAME]` → one entry per protocol, with BGP details when `all` was asked. */
export function parseProtocols(reply: Reply): ProtocolInfo[] {
  const out: ProtocolInfo[] = [];
  let detail: string[] = [];
  const flush = () => {
    const current = out[out.length - 1];
    if (current && detail.length > 0) Object.assign(current, protocolDetails(detail));
    detail = [];
  };
  for (const line of reply.lines) {
    if (line.code === REPLY.PROTOCOL_LIST) {
      flush();
      out.push(protocolRow(line));
    } else if (line.code === REPLY.PROTOCOL_DETAILS) {
      detail.push(line.text);
    }
  }
  flush();
  return out;
}

function protocolDetails(lines: readonly string[]): Pick<ProtocolInfo, 'bgp' | 'channels' | 'details'> {
  const details: Record<string, string> = {};
  const channels: ChannelDetails[] = [];
  let channel: ChannelDetails | undefined;
  for (const raw of lines) {
    const text = raw.trim();
    if (!text) continue;
    const ch = /^Channel (\S+)$/.exec(text);
    if (ch) {
      channel = { name: ch[1] as string };
      channels.push(channel);
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9 ]*?):\s+(.*)$/.exec(text);
    if (!kv) continue;
    const key = kv[1] as string;
    const value = (kv[2] as string).trim();
    if (channel) {
      if (key === 'State') channel.state = value;
      else if (key === 'Table') channel.table = value;
      else if (key === 'Routes') {
        const r = /(\d+) imported, (?:(\d+) filtered, )?(\d+) exported, (\d+) preferred/.exec(value);
        if (r) channel.routes = { imported: Number(r[1]), exported: Number(r[3]), preferred: Number(r[4]) };
      }
      details[`${channel.name}.${key}`] = value;
    } else {
      details[key] = value;
    }
  }
  const result: Pick<ProtocolInfo, 'bgp' | 'channels' | 'details'> = { details };
  if (channels.length > 0) result.channels = channels;
  if (details['BGP state'] !== undefined) {
    const bgp: BgpDetails = { state: details['BGP state'] };
    if (details['Neighbor address']) bgp.neighborAddress = details['Neighbor address'];
    if (details['Neighbor AS']) bgp.neighborAs = Number(details['Neighbor AS']);
    if (details['Local AS']) bgp.localAs = Number(details['Local AS']);
    if (details['Neighbor ID']) bgp.neighborId = details['Neighbor ID'];
    if (details['Source address']) bgp.sourceAddress = details['Source address'];
    const hold = /^([\d.]+)\/(\d+)$/.exec(details['Hold timer'] ?? '');
    if (hold) bgp.holdTimer = { left: Number(hold[1]), hold: Number(hold[2]) };
    if (details['Last error']) bgp.lastError = details['Last error'];
    result.bgp = bgp;
  }
  return result;
}

export interface BfdSession {
  /** the BFD protocol instance (bfd1...) */
  protocol: string;
  address: string;
  interface: string;
  /** Up, Down, Init, AdminDown */
  state: string;
  since: string;
  /** seconds */
  interval: number;
  timeout: number;
}

/** `show bfd sessions` → one entry per session, of every BFD protocol. */
export function parseBfdSessions(reply: Reply): BfdSession[] {
  const out: BfdSession[] = [];
  let protocol = '';
  for (const line of reply.lines) {
    if (line.code !== REPLY.BFD_SESSIONS) continue;
    const head = /^(\S+):$/.exec(line.text.trim());
    if (head) {
      protocol = head[1] as string;
      continue;
    }
    const text = line.text.trim();
    if (!text || text.startsWith('IP address')) continue;
    const m =
      /^(\S+)\s+(\S+)\s+(\S+)\s+(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?|\S+)\s+([\d.]+)\s+([\d.]+)$/.exec(
        text,
      );
    if (!m)
      throw new BirdProtocolError(
        line.text,
        'BFD session row without address, interface, state, since, interval, timeout',
      );
    out.push({
      protocol,
      address: m[1] as string,
      interface: m[2] as string,
      state: m[3] as string,
      since: m[4] as string,
      interval: Number(m[5]),
      timeout: Number(m[6]),
    });
  }
  return out;
}

export interface NextHop {
  /** the gateway; absent for a device route ("dev br0") */
  via?: string;
  interface: string;
  weight?: number;
}

export interface RoutePath {
  /** unicast, blackhole, unreachable, prohibit */
  type: string;
  /** the protocol that gave the route */
  protocol: string;
  /** the bracket after the protocol: when (and for iBGP "from X") */
  since: string;
  /** BIRD's '*': the best route of the network */
  primary: boolean;
  preference: number;
  /** what follows the preference, e.g. "[AS64513i]" */
  extra: string;
  /** "via X on IF [weight N]" and "dev IF" lines; empty for blackhole and the like */
  nexthops: NextHop[];
  /** `show route ... all`: "Type: BGP univ", "BGP.as_path: 64513"... by name */
  attributes?: Record<string, string>;
}

export interface Route {
  table: string;
  network: string;
  paths: RoutePath[];
}

const PATH = /^(\S+)\s+\[(\S+) ([^\]]*)\]\s*(\*)?\s*\((\d+)(?:\/[^)]*)?\)\s*(.*)$/;

/**
 * `show route [for X] [table T] [all]` → networks with their paths and next
 * hops. BIRD 2 writes a network's first path on the network's line, each
 * further path on a line of its own indented by spaces, next hops on lines
 * starting with a tab, and with `all` the attributes as 1008/1012 lines.
 */
export function parseRoutes(reply: Reply): Route[] {
  const out: Route[] = [];
  let table = '';
  let route: Route | undefined;
  let path: RoutePath | undefined;
  for (const line of reply.lines) {
    const text = line.text;
    if (line.code === REPLY.ROUTE_DETAILS || line.code === REPLY.ROUTE_ATTRIBUTES) {
      const kv = /^\s*([^:]+):\s*(.*)$/.exec(text);
      if (path && kv) {
        path.attributes ??= {};
        path.attributes[(kv[1] as string).trim()] = (kv[2] as string).trim();
      }
      continue;
    }
    if (line.code !== REPLY.ROUTE_LIST) continue;
    const t = /^Table (\S+):$/.exec(text.trim());
    if (t) {
      table = t[1] as string;
      route = undefined;
      path = undefined;
      continue;
    }
    if (text.startsWith('\t')) {
      const via = /^\tvia (\S+) on (\S+)(?: weight (\d+))?/.exec(text);
      const dev = /^\tdev (\S+)(?: weight (\d+))?/.exec(text);
      if (!path) throw new BirdProtocolError(text, 'a next hop before any route');
      if (via) {
        path.nexthops.push({
          via: via[1] as string,
          interface: via[2] as string,
          ...(via[3] ? { weight: Number(via[3]) } : {}),
        });
      } else if (dev) {
        path.nexthops.push({ interface: dev[1] as string, ...(dev[2] ? { weight: Number(dev[2]) } : {}) });
      }
      continue;
    }
    let rest: string;
    if (/^\s/.test(text)) {
      if (!route) throw new BirdProtocolError(text, 'a path before any network');
      rest = text.trim();
    } else {
      const first = /^(\S+)\s+(.*)$/.exec(text);
      if (!first) throw new BirdProtocolError(text, 'a route line without network and path');
      route = { table, network: first[1] as string, paths: [] };
      out.push(route);
      rest = first[2] as string;
    }
    const p = PATH.exec(rest);
    if (!p) throw new BirdProtocolError(text, 'a path without type, [protocol since] and (preference)');
    path = {
      type: p[1] as string,
      protocol: p[2] as string,
      since: (p[3] as string).trim(),
      primary: p[4] === '*',
      preference: Number(p[5]),
      extra: (p[6] ?? '').trim(),
      nexthops: [],
    };
    route.paths.push(path);
  }
  return out;
}

export interface BirdStatus {
  /** "2.0.12" */
  version: string;
  routerId: string;
  /** "Daemon is up and running", "Shutdown in progress", "Reconfiguration in progress"... */
  message: string;
  /** the 1011 lines (hostname, server time, last reboot, last reconfiguration), by name */
  details: Record<string, string>;
}

/** `show status`. */
export function parseStatus(reply: Reply): BirdStatus {
  let version = '';
  let routerId = '';
  const details: Record<string, string> = {};
  for (const line of reply.lines) {
    if (line.code === REPLY.VERSION) version = line.text.replace(/^BIRD\s+/, '').trim();
    else if (line.code === REPLY.UPTIME) {
      const id = /^Router ID is (\S+)/.exec(line.text);
      if (id) routerId = id[1] as string;
      const kv = /^(.*?) (?:is|on) (.*)$/.exec(line.text.trim());
      if (kv) details[kv[1] as string] = kv[2] as string;
    }
  }
  if (reply.code !== REPLY.STATUS || !version)
    throw new BirdProtocolError(reply.text, 'not a status report (1000 version ... 0013)');
  return { version, routerId, message: reply.text, details };
}
