// Property tests: 15,000 random messages round-trip, 60,000 mutated captured
// packets and 20,000 random byte strings give only typed errors, never a
// crash, and never an accepted forgery (97,000 inputs with the forged digests; 5,000 more in membership.property).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Authenticator,
  decodeClassic,
  decodeNetstring,
  decodePacket,
  encodeClassic,
  encodeNetstring,
  encodePacket,
  type HbField,
  type HbMessage,
  HbProtoError,
  keyring,
  openPacket,
} from '../src/index.js';

const fixturesDir = join(import.meta.dirname, 'fixtures');
const keys = JSON.parse(readFileSync(join(fixturesDir, 'fixtures.json'), 'utf8')).keys as Record<
  string,
  string
>;
const captures = (['crc', 'md5', 'sha1'] as const).flatMap((method) =>
  readdirSync(join(fixturesDir, method)).map((f) => ({
    method,
    bytes: readFileSync(join(fixturesDir, method, f)),
  })),
);

const byteString = fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a).toString('latin1'));
const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/);

const messageArb: fc.Memo<HbMessage> = fc.memo((depth) =>
  fc
    .array(
      fc.oneof(
        fc.record({ name, type: fc.constant('string' as const), value: byteString }),
        fc.record({
          name,
          type: fc.constant('binary' as const),
          value: fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a)),
        }),
        fc.record({
          name,
          type: fc.constant('list' as const),
          value: fc.array(
            byteString.filter((s) => s.length > 0),
            { minLength: 1, maxLength: 4 },
          ),
        }),
        ...(depth > 1
          ? [fc.record({ name, type: fc.constant('struct' as const), value: messageArb(depth - 1) })]
          : []),
      ) as fc.Arbitrary<HbField>,
      { maxLength: 6 },
    )
    .map((fields) => ({ fields })),
);

function onlyTyped(fn: () => unknown): 'ok' | string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof HbProtoError) return e.code;
    throw e;
  }
}

/** Can the classic form carry this message? (no empty values, NULs, reserved bytes) */
function classicFits(m: HbMessage): boolean {
  return onlyTyped(() => encodeClassic(m)) === 'ok';
}

describe('codec properties', () => {
  it('15,000 random messages round-trip through both forms', () => {
    fc.assert(
      fc.property(messageArb(3), (m) => {
        const ns = encodeNetstring(m);
        expect(decodeNetstring(ns)).toEqual({ message: m, length: ns.length });
        if (classicFits(m)) {
          const cl = encodeClassic(m);
          expect(decodeClassic(cl).message).toEqual(m);
        }
      }),
      { numRuns: 15_000 },
    );
  });

  it('60,000 mutated captured packets: typed errors only, no forgery accepted', () => {
    const auths = {
      crc: new Authenticator(keyring('crc', '', 1)),
      md5: new Authenticator(keyring('md5', keys.md5 ?? '', 1)),
      sha1: new Authenticator(keyring('sha1', keys.sha1 ?? '', 1)),
    };
    const mutation = fc.record({
      which: fc.nat(captures.length - 1),
      ops: fc.array(
        fc.oneof(
          fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
          fc.record({
            kind: fc.constant('set' as const),
            at: fc.nat(),
            byte: fc.integer({ min: 0, max: 255 }),
          }),
          fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
          fc.record({
            kind: fc.constant('insert' as const),
            at: fc.nat(),
            bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }),
          }),
          fc.record({
            kind: fc.constant('delete' as const),
            at: fc.nat(),
            n: fc.integer({ min: 1, max: 8 }),
          }),
        ),
        { minLength: 1, maxLength: 4 },
      ),
    });
    let rejected = 0;
    fc.assert(
      fc.property(mutation, ({ which, ops }) => {
        const { method, bytes: original } = captures[which] as (typeof captures)[number];
        let b = Buffer.from(original);
        for (const op of ops) {
          const at = b.length === 0 ? 0 : op.at % b.length;
          if (op.kind === 'flip') b[at] = (b[at] as number) ^ (1 << op.bit);
          else if (op.kind === 'set') b[at] = op.byte;
          else if (op.kind === 'cut') b = b.subarray(0, at);
          else if (op.kind === 'insert') b = Buffer.concat([b.subarray(0, at), op.bytes, b.subarray(at)]);
          else b = Buffer.concat([b.subarray(0, at), b.subarray(at + op.n)]);
        }
        const result = onlyTyped(() => openPacket(b, auths[method]));
        // accepted only when the bytes are the genuine packet
        if (result === 'ok') expect(b.equals(original)).toBe(true);
        else rejected++;
        onlyTyped(() => decodePacket(b));
      }),
      { numRuns: 60_000 },
    );
    expect(rejected).toBeGreaterThan(59_000);
  });

  it('20,000 random byte strings and random signed packets: typed errors only', () => {
    const a = new Authenticator(keyring('sha1', 'k'));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.concat([Buffer.from('###\n'), u])),
          fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.concat([Buffer.from('>>>\n'), u])),
        ),
        (bytes) => {
          const r = onlyTyped(() => openPacket(bytes, a));
          expect(r).not.toBe('ok');
        },
      ),
      { numRuns: 20_000 },
    );
    // and a forged digest on a well-formed packet is always refused
    fc.assert(
      fc.property(messageArb(2), fc.stringMatching(/^[0-9a-f]{40}$/), (m, digest) => {
        const body = encodeNetstring(m);
        const forged = Buffer.concat([body, Buffer.from(`${digest.length + 2}:1 ${digest},`)]);
        expect(onlyTyped(() => openPacket(forged, a))).toBe('AUTH_FAILED');
        expect(openPacket(encodePacket(m, { auth: a, messageAuth: false }), a).message).toEqual(m);
      }),
      { numRuns: 2_000 },
    );
  });
});
