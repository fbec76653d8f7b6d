// Heartbeat's authentication (lib/plugins/HBauth and heartbeat/auth.c):
// a digest written as "INDEX DIGEST", INDEX being the authkeys line used.
//   crc  — CRC-32 (polynomial 0x04C11DB7, MSB first, initial 0, inverted at
//          the end: POSIX cksum without the length), printed as %lx (no
//          leading zeros); no key.
//   md5  — HMAC-MD5 keyed with the authkeys word, lower-case hex.
//   sha1 — HMAC-SHA1 likewise.
// What is signed depends on the form: see packet.ts.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Authkeys } from '@lvs-ha/ha-config';
import { HbProtoError } from './errors.js';

export type AuthMethod = 'crc' | 'md5' | 'sha1';

export interface AuthKeyEntry {
  method: AuthMethod;
  /** the secret word (md5, sha1); ignored by crc */
  key: string;
}

/** What authkeys says: the index we sign with and every index we accept. */
export interface Keyring {
  active: number;
  keys: ReadonlyMap<number, AuthKeyEntry>;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** Heartbeat's crc "digest" of `data`: lower-case hex without leading zeros. */
export function heartbeatCrc(data: Uint8Array): string {
  let crc = 0;
  for (let i = 0; i < data.length; i++) {
    crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ (data[i] as number)) & 0xff] as number)) >>> 0;
  }
  return (~crc >>> 0).toString(16);
}

/** The digest Heartbeat computes for `data` with one authkeys entry. */
export function computeDigest(method: AuthMethod, key: string, data: Uint8Array): string {
  switch (method) {
    case 'crc':
      return heartbeatCrc(data);
    case 'md5':
    case 'sha1':
      // The key is the authkeys word as bytes (Heartbeat uses strlen(key)).
      return createHmac(method, Buffer.from(key, 'latin1')).update(data).digest('hex');
    default:
      throw new HbProtoError('INVALID_ARGUMENT', `unknown authentication method "${String(method)}"`);
  }
}

/** A keyring from parsed authkeys (ha-config's parseAuthkeys / loadConfigDir). */
export function keyringFromAuthkeys(authkeys: Pick<Authkeys, 'auth' | 'keys'>): Keyring {
  const keys = new Map<number, AuthKeyEntry>();
  for (const k of authkeys.keys) keys.set(k.index, { method: k.method, key: k.key ?? '' });
  if (!keys.has(authkeys.auth)) {
    throw new HbProtoError(
      'INVALID_ARGUMENT',
      `authkeys selects key ${authkeys.auth} ("auth ${authkeys.auth}") but has no line for it`,
    );
  }
  return { active: authkeys.auth, keys };
}

/** A one-key keyring: `keyring('sha1', 'secret')`, `keyring('crc')`. */
export function keyring(method: AuthMethod, key = '', index = 1): Keyring {
  return { active: index, keys: new Map([[index, { method, key }]]) };
}

export interface AuthCounters {
  /** packets whose digest matched */
  accepted: number;
  /** packets without a digest */
  missing: number;
  /** packets whose digest did not match */
  failed: number;
  /** packets signed with an index we have no key for */
  unknownKey: number;
}

/** Signs and checks digests with a keyring, counting what it rejects. */
export class Authenticator {
  readonly keyring: Keyring;
  readonly counters: AuthCounters = { accepted: 0, missing: 0, failed: 0, unknownKey: 0 };

  constructor(keys: Keyring | Pick<Authkeys, 'auth' | 'keys'>) {
    this.keyring = 'active' in keys ? keys : keyringFromAuthkeys(keys);
    if (!this.keyring.keys.has(this.keyring.active)) {
      throw new HbProtoError('INVALID_ARGUMENT', `the active key index ${this.keyring.active} has no key`);
    }
  }

  get active(): AuthKeyEntry {
    return this.keyring.keys.get(this.keyring.active) as AuthKeyEntry;
  }

  /** "INDEX DIGEST" for `data` with the active key. */
  sign(data: Uint8Array): string {
    return `${this.keyring.active} ${computeDigest(this.active.method, this.active.key, data)}`;
  }

  /**
   * Checks "INDEX DIGEST" against `data`; throws AUTH_* errors (and counts them).
   * `keyOfActive`: Heartbeat checks the packet trailer with the method of
   * INDEX but the key of the active line (hb_compute_authentication passes
   * config->authmethod); its message "auth" field uses INDEX's own key.
   */
  verify(data: Uint8Array, authString: string | undefined, { keyOfActive = false } = {}): void {
    if (authString === undefined) {
      this.counters.missing++;
      throw new HbProtoError('AUTH_MISSING', 'the packet carries no authentication');
    }
    const m = /^(\d{1,2}) ([!-~]+)$/.exec(authString);
    if (!m) {
      this.counters.failed++;
      throw new HbProtoError(
        'AUTH_FAILED',
        `authentication "${authString.slice(0, 60)}" is not "INDEX DIGEST"`,
      );
    }
    const index = Number(m[1]);
    const entry = this.keyring.keys.get(index);
    if (!entry) {
      this.counters.unknownKey++;
      throw new HbProtoError(
        'AUTH_UNKNOWN_KEY',
        `the packet is signed with key ${index}, which authkeys does not have`,
      );
    }
    const key = keyOfActive ? this.active.key : entry.key;
    const want = Buffer.from(computeDigest(entry.method, key, data), 'latin1');
    const got = Buffer.from(m[2] as string, 'latin1');
    if (want.length !== got.length || !timingSafeEqual(want, got)) {
      this.counters.failed++;
      throw new HbProtoError(
        'AUTH_FAILED',
        `the ${entry.method} digest (key ${index}) does not match the packet`,
      );
    }
    this.counters.accepted++;
  }
}
