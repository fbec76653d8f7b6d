import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  Authenticator,
  compressMessage,
  decodeClassic,
  decodeNetstring,
  decodePacket,
  decompressField,
  decompressMessage,
  encodeClassic,
  encodeNetstring,
  encodePacket,
  type HbMessage,
  HbProtoError,
  heartbeatCrc,
  keyring,
  MAX_WIRE_LENGTH,
  message,
  openPacket,
} from '../src/index.js';

const fixture = readFileSync(join(import.meta.dirname, 'fixtures', 'sha1', '00-status-alpha.bin'));

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof HbProtoError) return e.code;
    throw e;
  }
  return 'OK';
}

describe('netstring form', () => {
  it('writes typed fields as Heartbeat does', () => {
    const m = message([
      ['t', 'status'],
      ['srcuuid', Buffer.from([0, 1, 2])],
      ['nodes', ['a', 'bc']],
      ['child', message([['x', 'y']])],
    ]);
    expect(encodeNetstring(m).toString('latin1')).toBe(
      '###\n11:(0)t=status,14:(1)srcuuid=\x00\x01\x02,18:(3)nodes=1:a,2:bc,,26:(2)child=###\n6:(0)x=y,%%%\n,%%%\n',
    );
    expect(decodeNetstring(encodeNetstring(m)).message).toEqual(m);
  });

  it('says TRUNCATED for every proper prefix of a captured packet', () => {
    const body = fixture.subarray(0, decodePacket(fixture).signedLength);
    for (let n = 0; n < body.length; n++)
      expect(code(() => decodeNetstring(body.subarray(0, n)))).toBe('TRUNCATED');
    // a body without its trailer is a well-formed unsigned packet; any other cut is not
    for (let n = 1; n < fixture.length; n++) {
      if (n !== body.length) expect(code(() => decodePacket(fixture.subarray(0, n)))).not.toBe('OK');
    }
  });

  it('says MALFORMED for bytes that are not a message', () => {
    expect(code(() => decodePacket(Buffer.from('hello world')))).toBe('MALFORMED');
    expect(code(() => decodeNetstring(Buffer.from('###\n5:(9)a=b,%%%\n')))).toBe('MALFORMED');
    expect(code(() => decodeNetstring(Buffer.from('###\n4:(0)ab,%%%\n')))).toBe('MALFORMED');
    expect(code(() => decodeNetstring(Buffer.from('###\n5:(0)=b,%%%\n')))).toBe('MALFORMED');
    expect(code(() => decodeNetstring(Buffer.from('###\n5:(0)a=b;%%%\n')))).toBe('MALFORMED');
    expect(code(() => decodeNetstring(Buffer.from('###\nx:(0)a=b,%%%\n')))).toBe('MALFORMED');
    expect(code(() => decodeNetstring(Buffer.from('###\n7:(3)a=0:,%%%\n')))).toBe('MALFORMED');
    expect(code(() => decodePacket(Buffer.concat([fixture, Buffer.from('x')])))).toBe('MALFORMED');
  });

  it('says MALFORMED for a length with a leading zero, so one signed packet has one encoding', () => {
    expect(code(() => decodeNetstring(Buffer.from('###\n06:(0)a=b,%%%\n')))).toBe('MALFORMED');
    expect(code(() => decodeNetstring(Buffer.from('###\n6:(0)a=b,%%%\n')))).toBe('OK');
    // fast-check found this one: a '0' before the auth trailer's length of a
    // genuine crc capture was accepted as the genuine packet
    const crc = readFileSync(join(import.meta.dirname, 'fixtures', 'crc', '04-reqnodes-alpha.bin'));
    const auth = new Authenticator(keyring('crc', '', 1));
    const { signedLength } = decodePacket(crc);
    expect(openPacket(crc, auth).message).toBeDefined();
    const padded = Buffer.concat([
      crc.subarray(0, signedLength),
      Buffer.from('0'),
      crc.subarray(signedLength),
    ]);
    expect(code(() => openPacket(padded, auth))).toBe('MALFORMED');
  });

  it('says OVERSIZED for 256 KiB and for nesting deeper than 16', () => {
    expect(code(() => decodePacket(Buffer.alloc(MAX_WIRE_LENGTH)))).toBe('OVERSIZED');
    let m = message([['a', 'b']]);
    for (let i = 0; i < 16; i++) m = message([['c', m]]);
    expect(code(() => encodeNetstring(m))).toBe('OVERSIZED');
    expect(code(() => encodePacket(message([['big', 'x'.repeat(MAX_WIRE_LENGTH)]])))).toBe('OVERSIZED');
  });
});

describe('classic form', () => {
  const m = message([
    ['t', 'status'],
    ['note', 'two\nlines'],
    ['srcuuid', Buffer.from([0xff, 0, 0x10])],
    ['list', ['x', 'yz']],
    [
      'child',
      message([
        ['a', 'b\nc'],
        ['g', message([['d', 'e']])],
      ]),
    ],
  ]);
  it('writes newlines as Heartbeat symbols, binary as base64, a NUL at the end', () => {
    const text = encodeClassic(m).toString('latin1');
    expect(
      text.startsWith(
        '>>>\nt=status\nnote=two\x13lines\n(1)srcuuid=/wAQ\n(3)list=1:x,2:yz,\n(2)child=>>>\x14a=b\x13c\x14',
      ),
    ).toBe(true);
    expect(text.endsWith('<<<\n\0')).toBe(true);
    expect(decodeClassic(encodeClassic(m))).toEqual({ message: m, length: text.length });
  });
  it('round-trips through a signed classic packet and rejects tampering', () => {
    const a = new Authenticator(keyring('md5', 'k'));
    const bytes = encodePacket(m, { auth: a, format: 'classic' });
    expect(openPacket(bytes, a).message.fields.slice(0, -1)).toEqual(m.fields);
    const bad = Buffer.from(bytes);
    bad[6] = 0x58;
    expect(code(() => openPacket(bad, a))).toBe('AUTH_FAILED');
    expect(code(() => openPacket(encodeClassic(m), a))).toBe('AUTH_MISSING');
    expect(a.counters).toEqual({ accepted: 1, missing: 1, failed: 1, unknownKey: 0 });
  });
  it('refuses what the classic form cannot carry', () => {
    expect(code(() => encodeClassic(message([['a', '']])))).toBe('INVALID_ARGUMENT');
    expect(code(() => encodeClassic(message([['a', 'x\x13']])))).toBe('INVALID_ARGUMENT');
    expect(code(() => decodeClassic(Buffer.from('>>>\n(0)a=b\n<<<\n')))).toBe('MALFORMED');
    expect(code(() => decodeClassic(Buffer.from('>>>\na=b\n')))).toBe('TRUNCATED');
  });
});

describe('authentication', () => {
  it('crc is POSIX cksum without the length, printed without leading zeros', () => {
    // 0x765e7680 is the cksum CRC of "123456789" before the length is mixed in
    expect(heartbeatCrc(Buffer.from('123456789'))).toBe('765e7680');
    expect(heartbeatCrc(Buffer.alloc(0))).toBe('ffffffff');
  });
  it('an unknown key index and a missing trailer are rejected and counted', () => {
    const a = new Authenticator(keyring('sha1', 'k', 1));
    const b = new Authenticator(keyring('sha1', 'k', 2));
    const pkt = encodePacket(message([['t', 'x']]), { auth: b });
    expect(code(() => openPacket(pkt, a))).toBe('AUTH_UNKNOWN_KEY');
    expect(code(() => openPacket(encodePacket(message([['t', 'x']])), a))).toBe('AUTH_MISSING');
    expect(a.counters).toMatchObject({ unknownKey: 1, missing: 1, accepted: 0 });
  });
});

describe('compression', () => {
  it('unwraps a zlib-compressed message and refuses bz2 as UNSUPPORTED', () => {
    const inner = message([
      ['t', 'big'],
      ['data', 'x'.repeat(5000)],
    ]);
    const wrapped = message([
      ['_compressed_payload', deflateSync(encodeNetstring(inner))],
      ['_compression_algorithm', 'zlib'],
    ]);
    const a = new Authenticator(keyring('crc'));
    expect(openPacket(encodePacket(wrapped, { auth: a }), a).message).toEqual(inner);
    expect(openPacket(encodePacket(compressMessage(inner), { auth: a }), a).message).toEqual(inner);
    // a compressed field (type 4) inside a message
    const withField: HbMessage = {
      fields: [
        { name: 't', type: 'string', value: 'x' },
        { name: 'data', type: 'compressed', value: deflateSync(encodeNetstring(inner)) },
        { name: '_compression_algorithm', type: 'string', value: 'zlib' },
      ],
    };
    expect(decompressField(decodePacket(encodePacket(withField)).message, 'data')).toEqual(inner);
    const junk = message([
      ['_compressed_payload', Buffer.from('junk')],
      ['_compression_algorithm', 'zlib'],
    ]);
    expect(code(() => decompressMessage(junk))).toBe('MALFORMED');
    const bz = message([
      ['_compressed_payload', Buffer.from('BZh9')],
      ['_compression_algorithm', 'bz2'],
    ]);
    expect(code(() => openPacket(encodePacket(bz, { auth: a }), a))).toBe('UNSUPPORTED');
  });
});
