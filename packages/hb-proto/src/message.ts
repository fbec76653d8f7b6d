// Heartbeat's message model (cluster-glue's struct ha_msg): an ordered list of
// named, typed fields. Names may repeat; order matters for the bytes (and so
// for authentication). Strings are byte strings: we hold them as latin1 JS
// strings, one character per byte, so that any byte survives a round trip.

/** The type numbers Heartbeat writes in front of a field, `(0)` … `(5)`. */
export const FIELD_TYPE_NUMBERS = {
  string: 0,
  binary: 1,
  struct: 2,
  list: 3,
  compressed: 4,
  uncompressed: 5,
} as const;

export type HbFieldType = keyof typeof FIELD_TYPE_NUMBERS;

export type HbField =
  | { name: string; type: 'string'; value: string }
  | { name: string; type: 'binary'; value: Uint8Array }
  | { name: string; type: 'struct'; value: HbMessage }
  | { name: string; type: 'list'; value: string[] }
  /** a compressed nested message, kept as its compressed bytes */
  | { name: string; type: 'compressed'; value: Uint8Array }
  /** a nested message that Heartbeat compresses when it sends it */
  | { name: string; type: 'uncompressed'; value: HbMessage };

export interface HbMessage {
  fields: HbField[];
}

/** Field names Heartbeat uses on the wire (F_* in ha_msg.h). */
export const F = {
  type: 't',
  from: 'src',
  fromUuid: 'srcuuid',
  to: 'dest',
  toUuid: 'destuuid',
  status: 'st',
  protocol: 'protocol',
  seq: 'seq',
  time: 'ts',
  load: 'ld',
  comment: 'info',
  ttl: 'ttl',
  auth: 'auth',
  generation: 'hg',
  firstSeq: 'firstseq',
  lastSeq: 'lastseq',
  resources: 'rsc_hold',
  isStable: 'isstable',
  deadtime: 'dt',
  ackSeq: 'ackseq',
  rtype: 'rtype',
} as const;

/** Message types (T_* in ha_msg.h). Types starting NS_ carry no sequence number. */
export const T = {
  status: 'status',
  starting: 'starting',
  resources: 'resource',
  askResources: 'ask_resources',
  askRelease: 'ip-request',
  ackRelease: 'ip-request-resp',
  shutdone: 'shutdone',
  stonith: 'stonith',
  reqNodes: 'reqnodes',
  repNodes: 'repnodes',
  rexmit: 'NS_rexmit',
  nakRexmit: 'NS_nak_rexmit',
  ack: 'NS_ackmsg',
} as const;

export const NOSEQ_PREFIX = 'NS_';

/** Builds a message from name/value pairs: strings, Uint8Array (binary), string[] (list), HbMessage (struct). */
export function message(
  pairs: readonly (readonly [string, string | Uint8Array | string[] | HbMessage])[] = [],
): HbMessage {
  return {
    fields: pairs.map(([name, value]): HbField => {
      if (typeof value === 'string') return { name, type: 'string', value };
      if (value instanceof Uint8Array) return { name, type: 'binary', value };
      if (Array.isArray(value)) return { name, type: 'list', value };
      return { name, type: 'struct', value };
    }),
  };
}

/** The first string value of `name` (Heartbeat's ha_msg_value), or undefined. */
export function getString(msg: HbMessage, name: string): string | undefined {
  for (const f of msg.fields) if (f.name === name && f.type === 'string') return f.value;
  return undefined;
}

/** The first binary value of `name`, or undefined. */
export function getBinary(msg: HbMessage, name: string): Uint8Array | undefined {
  for (const f of msg.fields) if (f.name === name && f.type === 'binary') return f.value;
  return undefined;
}

/** Sets (replaces the first, or appends) a string field, as ha_msg_mod does. */
export function setString(msg: HbMessage, name: string, value: string): void {
  const i = msg.fields.findIndex((f) => f.name === name);
  const field: HbField = { name, type: 'string', value };
  if (i < 0) msg.fields.push(field);
  else msg.fields[i] = field;
}

/** Sets (replaces the first, or appends) a binary field. */
export function setBinary(msg: HbMessage, name: string, value: Uint8Array): void {
  const i = msg.fields.findIndex((f) => f.name === name);
  const field: HbField = { name, type: 'binary', value };
  if (i < 0) msg.fields.push(field);
  else msg.fields[i] = field;
}

/** A plain object view (last value wins) for logging and tests. */
export function toObject(msg: HbMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of msg.fields) {
    out[f.name] =
      f.type === 'string'
        ? f.value
        : f.type === 'list'
          ? f.value.join(' ')
          : f.type === 'binary' || f.type === 'compressed'
            ? Buffer.from(f.value).toString('hex')
            : JSON.stringify(toObject(f.value));
  }
  return out;
}
