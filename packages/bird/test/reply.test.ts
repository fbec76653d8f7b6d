// The codec against replies of the real BIRD 2.0.12 (test/fixtures), and
// against generated ones: decode(encode(r)) = r, and the decoder gives the
// same replies whatever the chunking.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BirdProtocolError,
  decodeLine,
  decodeReplies,
  decodeReply,
  encodeCommand,
  encodeReply,
  isErrorCode,
  MAX_COMMAND_LENGTH,
  REPLY,
  type Reply,
  ReplyDecoder,
} from '../src/index.js';
import { allFixtures, fixture } from './support/fixtures.js';

const fixtures = allFixtures();

describe('decoding the real replies', () => {
  it('has fixtures', () => {
    expect(fixtures.length).toBeGreaterThan(20);
  });

  it.each(fixtures)('%s is one reply and encodes back to the same bytes', (_name, text) => {
    const reply = decodeReply(text);
    expect(encodeReply(reply)).toBe(text);
  });

  it('the welcome', () => {
    const r = fixture('welcome');
    expect(r).toEqual({
      code: REPLY.WELCOME,
      text: 'BIRD 2.0.12 ready.',
      lines: [{ code: 1, text: 'BIRD 2.0.12 ready.' }],
    });
  });

  it('enable and disable: the per-protocol line, then 0000', () => {
    expect(fixture('enable-changed').lines).toEqual([
      { code: REPLY.ENABLED, text: 'vip_203_0_113_10: enabled' },
      { code: REPLY.OK, text: '' },
    ]);
    expect(fixture('enable-already').lines[0]?.code).toBe(REPLY.ALREADY_ENABLED);
    expect(fixture('disable-changed').lines[0]?.code).toBe(REPLY.DISABLED);
    expect(fixture('disable-already').lines[0]?.code).toBe(REPLY.ALREADY_DISABLED);
  });

  it('continuation lines carry the code before them and keep their own indentation', () => {
    const r = fixture('show-protocols');
    expect(r.code).toBe(REPLY.OK);
    expect(r.lines.map((l) => l.code)).toEqual([2002, 1002, 1002, 1002, 1002, 0]);
    expect(r.lines[2]?.text.startsWith('bfd1 ')).toBe(true);
    const route = fixture('router-show-route-ecmp');
    expect(route.lines.some((l) => l.code === 1007 && l.text === '\tvia 192.0.2.12 on br0')).toBe(true);
  });

  it('errors: 8xxx and 9xxx end the reply on their own', () => {
    for (const [name, code] of [
      ['no-protocols-match', 8003],
      ['network-not-found', 8001],
      ['syntax-error', 9001],
      ['no-bfd-protocol', 9001],
    ] as const) {
      const r = fixture(name);
      expect(r.code, name).toBe(code);
      expect(r.lines).toHaveLength(1);
      expect(isErrorCode(r.code)).toBe(true);
    }
    const bad = fixture('configure-bad-file');
    expect(bad.lines.map((l) => l.code)).toEqual([2, 8002]);
    expect(bad.text).toMatch(/^\/tmp\/bcap\/bad\.conf:2:44 syntax error/);
  });
});

describe('the decoder', () => {
  const session = fixtures.map(([, t]) => t).join('');
  const whole = decodeReplies(session);

  it('gives the same replies for every split of the stream in two', () => {
    for (let cut = 0; cut <= session.length; cut += 7) {
      const d = new ReplyDecoder();
      const got = [...d.push(session.slice(0, cut)), ...d.push(session.slice(cut))];
      expect(got).toEqual(whole);
      expect(d.pending).toBe(false);
    }
  });

  it('gives the same replies fed one character at a time', () => {
    const d = new ReplyDecoder();
    const got: Reply[] = [];
    for (const ch of session) got.push(...d.push(ch));
    expect(got).toEqual(whole);
  });

  it('is pending inside a reply and inside a line', () => {
    const d = new ReplyDecoder();
    expect(d.push('1002-device1 Device\n')).toEqual([]);
    expect(d.pending).toBe(true);
    expect(d.push(' bfd1 BFD\n0000')).toEqual([]);
    expect(d.pending).toBe(true);
    expect(d.push(' \n')).toHaveLength(1);
    expect(d.pending).toBe(false);
  });

  it("hands '+' lines (BIRD's log echo) to onAsync, outside the reply they interrupt", () => {
    const said: string[] = [];
    const d = new ReplyDecoder({ onAsync: (t) => said.push(t) });
    const got = d.push('1002-a\n+2026-12-03 <INFO> Enabling protocol x\n b\n0000 \n');
    expect(said).toEqual(['2026-12-03 <INFO> Enabling protocol x']);
    expect(got).toEqual([
      {
        code: 0,
        text: '',
        lines: [
          { code: 1002, text: 'a' },
          { code: 1002, text: 'b' },
          { code: 0, text: '' },
        ],
      },
    ]);
  });

  it('refuses what is not BIRD syntax', () => {
    for (const bad of ['hello', '123 x', '12345-x', '\tvia x', '0001x']) {
      expect(() => decodeLine(bad), bad).toThrow(BirdProtocolError);
    }
    expect(() => new ReplyDecoder().push(' continuation first\n')).toThrow(/without a reply code/);
    expect(() => decodeReplies('1002-unfinished\n')).toThrow(/ends inside a reply/);
    try {
      decodeLine('garbage');
    } catch (e) {
      expect((e as BirdProtocolError).code).toBe('BIRD_PROTOCOL');
    }
  });
});

describe('encoding', () => {
  const line = fc.record({
    code: fc.integer({ min: 0, max: 9999 }),
    text: fc.string({ maxLength: 40 }).filter((s) => !s.includes('\n') && !s.includes('\r')),
  });
  const reply = fc
    .array(line, { minLength: 1, maxLength: 12 })
    .map((lines): Reply => ({ code: lines.at(-1)!.code, text: lines.at(-1)!.text, lines }));

  it('decode(encode(r)) is r, for any reply', () => {
    fc.assert(
      fc.property(reply, (r) => {
        expect(decodeReplies(encodeReply(r))).toEqual([r]);
      }),
      { numRuns: 2000 },
    );
  });

  it('any chunking of several encoded replies decodes to them', () => {
    fc.assert(
      fc.property(
        fc.array(reply, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (rs, cuts) => {
          const text = rs.map(encodeReply).join('');
          const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const d = new ReplyDecoder();
          const got: Reply[] = [];
          let at = 0;
          for (const p of [...points, text.length]) {
            got.push(...d.push(text.slice(at, p)));
            at = p;
          }
          expect(got).toEqual(rs);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("writes a run of one code as BIRD does: the code once, then ' ' lines", () => {
    expect(
      encodeReply({
        code: 0,
        text: '',
        lines: [
          { code: 2002, text: 'Name' },
          { code: 1002, text: 'a' },
          { code: 1002, text: 'b' },
          { code: 0, text: '' },
        ],
      }),
    ).toBe('2002-Name\n1002-a\n b\n0000 \n');
  });

  it('commands: one line, at most BIRD’s length', () => {
    expect(encodeCommand('show protocols')).toBe('show protocols\n');
    expect(() => encodeCommand('show\nprotocols')).toThrow(BirdProtocolError);
    expect(encodeCommand('x'.repeat(MAX_COMMAND_LENGTH))).toHaveLength(MAX_COMMAND_LENGTH + 1);
    expect(() => encodeCommand('x'.repeat(MAX_COMMAND_LENGTH + 1))).toThrow(/at most 4093/);
  });
});
