// Generated and mutated input thrown at the ha.cf, authkeys and haresources
// parsers: only ConfigErrors ever come out, and every valid generated file
// survives write → parse unchanged. 100,000 inputs per parser.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  parseAuthkeys,
  parseHaCf,
  parseHaresources,
  writeAuthkeys,
  writeHaCf,
  writeHaresources,
} from '../src/index.js';
import { expectSameValue } from './helpers.js';

const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
const iface = fc.stringMatching(/^(eth|ens|bond|br)[0-9]{1,2}$/);
const octet = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const comment = fc.option(fc.stringMatching(/^ [ -~]{0,20}$/), { nil: undefined });

// A valid ha.cf: udpport first, media, timings, nodes last — the manual's order.
const validHaCf = fc
  .record({
    udpport: fc.option(fc.integer({ min: 1, max: 65535 })),
    keepalive: fc.integer({ min: 1, max: 5000 }),
    bcast: fc.array(iface, { minLength: 1, maxLength: 3 }),
    ucast: fc.array(fc.tuple(iface, ipv4), { maxLength: 2 }),
    nodes: fc.uniqueArray(word, {
      minLength: 1,
      maxLength: 4,
      comparator: (a, b) => a.toLowerCase() === b.toLowerCase(),
    }),
    failback: fc.constantFrom('on', 'off', 'legacy'),
    ping: fc.array(ipv4, { maxLength: 2 }),
    comments: fc.array(comment, { minLength: 8, maxLength: 8 }),
  })
  .map((r) => {
    const lines: string[] = [];
    if (r.udpport !== null) lines.push(`udpport ${r.udpport}`);
    lines.push(`bcast ${r.bcast.join(' ')}`);
    for (const [i, p] of r.ucast) lines.push(`ucast ${i} ${p}`);
    lines.push(
      `keepalive ${r.keepalive}ms`,
      `deadtime ${r.keepalive * 4}ms`,
      `initdead ${r.keepalive * 8}ms`,
    );
    if (r.ping.length) lines.push(`ping ${r.ping.join(' ')}`);
    lines.push(`auto_failback ${r.failback}`, `node ${r.nodes.join(' ')}`);
    return (
      lines.map((l, i) => (r.comments[i] !== undefined ? `${l}\t#${r.comments[i]}` : l)).join('\n') + '\n'
    );
  });

const validAuthkeys = fc
  .record({
    keys: fc.uniqueArray(
      fc.record({
        index: fc.integer({ min: 0, max: 15 }),
        method: fc.constantFrom('crc', 'md5', 'sha1'),
        key: fc.stringMatching(/^[!-~]{1,40}$/),
      }),
      { minLength: 1, maxLength: 4, selector: (k) => k.index },
    ),
    pick: fc.nat(),
  })
  .map(({ keys, pick }) => {
    const auth = keys[pick % keys.length]!.index;
    const body = keys.map((k) =>
      k.method === 'crc' ? `${k.index} crc` : `${k.index} ${k.method} ${k.key.replaceAll('#', 'x')}`,
    );
    return `auth ${auth}\n${body.join('\n')}\n`;
  });

const validHaresources = fc
  .array(
    fc.record({
      node: word,
      ip: fc.tuple(ipv4, fc.option(fc.integer({ min: 0, max: 32 })), fc.option(iface)),
      agent: fc.constantFrom('', 'IPaddr::', 'IPaddr2::'),
      scripts: fc.uniqueArray(fc.tuple(word, fc.array(word, { maxLength: 2 })), {
        maxLength: 3,
        selector: ([name]) => name,
      }),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .map(
    (groups) =>
      groups
        .map((g, n) => {
          const [ip, prefix, dev] = g.ip;
          // Unique address and script names per group, as Heartbeat requires.
          const address = ip.split('.').slice(0, 3).concat(String(n)).join('.');
          let spec = address;
          if (prefix !== null) spec += `/${prefix}`;
          if (prefix !== null && dev !== null) spec += `/${dev}`;
          const scripts = g.scripts.map(([s, args]) => [`${s}${n}`, ...args].join('::'));
          return [g.node, `${g.agent}${spec}`, ...scripts].join(' ');
        })
        .join('\n') + '\n',
  );

/**
 * Character-level damage: delete, duplicate, insert bytes Heartbeat files never have.
 * Built once: a 'binary' string arbitrary maps every code point, ~1.1 million
 * Map entries, the first time fast-check shrinks one.
 */
const edits = fc.array(
  fc.tuple(fc.nat(), fc.constantFrom('del', 'dup', 'ins'), fc.string({ unit: 'binary', maxLength: 4 })),
  { minLength: 1, maxLength: 6 },
);
const mutated = (valid: fc.Arbitrary<string>) =>
  fc.tuple(valid, edits).map(([text, edits]) => {
    let t = text;
    for (const [at, op, s] of edits) {
      const i = t.length ? at % t.length : 0;
      if (op === 'del') t = t.slice(0, i) + t.slice(i + 1 + (at % 3));
      else if (op === 'dup') t = t.slice(0, i) + t.slice(i, i + 5) + t.slice(i);
      else t = t.slice(0, i) + s + t.slice(i);
    }
    return t;
  });

const anything = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 200 }),
);

function onlyConfigErrors(problems: unknown[]): boolean {
  return problems.every((p) => p instanceof ConfigError && p.line >= 1 && p.column >= 1);
}

// CPU-bound runs: on a busy machine the default 30 s test timeout would fail
// them for being slow, not wrong.
const TIMEOUT = 120_000;

const cases = [
  { name: 'ha.cf', parse: (t: string) => parseHaCf(t), write: writeHaCf, valid: validHaCf },
  { name: 'authkeys', parse: (t: string) => parseAuthkeys(t), write: writeAuthkeys, valid: validAuthkeys },
  {
    name: 'haresources',
    parse: (t: string) => parseHaresources(t),
    write: writeHaresources,
    valid: validHaresources,
  },
] as const;

describe.each(cases)('$name under generated input', ({ parse, write, valid }) => {
  it(
    'round-trips 20,000 valid generated files with no problems',
    () => {
      fc.assert(
        fc.property(valid, (text) => {
          const first = parse(text);
          const errors = first.problems.filter((p) => p.severity === 'error');
          if (errors.length > 0) expect(errors.map((e) => e.message)).toEqual([]);
          // biome-ignore lint/suspicious/noExplicitAny: the three writers take their own parser's value
          const again = parse((write as (v: any) => string)(first.value));
          expectSameValue(again.value, first.value);
        }),
        { numRuns: 20_000 },
      );
    },
    TIMEOUT,
  );

  it(
    'reports only ConfigErrors for 40,000 mutated files',
    () => {
      fc.assert(
        fc.property(mutated(valid), (text) => onlyConfigErrors(parse(text).problems)),
        { numRuns: 40_000 },
      );
    },
    TIMEOUT,
  );

  it(
    'reports only ConfigErrors for 40,000 random strings',
    () => {
      fc.assert(
        fc.property(anything, (text) => onlyConfigErrors(parse(text).problems)),
        { numRuns: 40_000 },
      );
    },
    TIMEOUT,
  );
});
