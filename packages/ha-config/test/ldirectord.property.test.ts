// Property tests: generated valid configurations round-trip through the writer,
// and mutated or random text never makes the parser throw — only ConfigError
// problems come out. Run counts add up to well over 100,000 inputs.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  type EmailAlertStatus,
  type ForwardMethod,
  KERNEL_SCHEDULERS,
  type LdFallback,
  type LdirectordConfig,
  type LdReal,
  type LdSetting,
  type LdVirtual,
  type LdVirtualAddress,
  parseLdirectordCf,
  SERVICE_PORTS,
  writeLdirectordCf,
} from '../src/index.js';
import { expectSameValue } from './helpers.js';

const RUNS_ROUNDTRIP = 6_000;
const RUNS_MUTATED = 70_000;
const RUNS_RANDOM = 30_000;
// CPU-bound runs (~10 s each on an idle 2-core machine): on a busy one the
// default 30 s test timeout would fail them for being slow, not wrong.
const TIMEOUT = 120_000;

// ---------------------------------------------------------------------------
// Valid configurations

const safeChar = fc.constantFrom(
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-:@ '.split(''),
);
/** Text ldirectord can carry in a value: no '#', tab, quote or line break. */
const safeText = (min = 1) => fc.string({ unit: safeChar, minLength: min, maxLength: 24 });
const trimmedText = (min = 1) =>
  safeText(min)
    .map((s) => s.trim())
    .filter((s) => s.length >= min);
const token = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789._-'.split('')),
  minLength: 1,
  maxLength: 16,
});
const commentText = fc.string({ unit: fc.constantFrom(...'abc XYZ 019 #"=\t-'.split('')), maxLength: 30 });
const beforeLines = (allowBlank: boolean) =>
  fc.option(
    fc.array(
      allowBlank
        ? fc.oneof(
            fc.constant(''),
            commentText.map((c) => `#${c}`),
          )
        : commentText.map((c) => `\t#${c}`),
      {
        minLength: 1,
        maxLength: 3,
      },
    ),
    { nil: undefined },
  );
const emailAddress = fc.stringMatching(/^[a-z0-9.]{1,10}@[a-z0-9.]{1,10}$/);
const posInt = fc.integer({ min: 1, max: 1_000_000 });
const forward = fc.constantFrom<ForwardMethod>('gate', 'masq', 'ipip');
const port = fc.oneof(
  fc.integer({ min: 0, max: 65535 }).map(String),
  fc.constantFrom(...Object.keys(SERVICE_PORTS)),
);
const octet = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const ipv6 = fc.ipV6().map((a) => `[${a}]`);
const hostname = fc
  .array(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/), { minLength: 1, maxLength: 3 })
  .map((p) => `${p.join('.')}.example`);

const fallbackArb = (six: boolean) =>
  fc.record(
    { host: six ? ipv6 : fc.oneof(ipv4, hostname), port, forward },
    { requiredKeys: ['host'] },
  ) as fc.Arbitrary<LdFallback>;

const emailStatus: fc.Arbitrary<EmailAlertStatus[]> = fc.oneof(
  fc.constant<EmailAlertStatus[]>(['none']),
  fc.uniqueArray(fc.constantFrom<EmailAlertStatus>('all', 'starting', 'running', 'stopping', 'reloading'), {
    minLength: 1,
    maxLength: 5,
  }),
);

function setting<T>(value: fc.Arbitrary<T>, inVirtual: boolean): fc.Arbitrary<LdSetting<T>> {
  return fc.record({ value, before: beforeLines(!inVirtual) }).map(({ value, before }) => {
    const s: LdSetting<T> = { value };
    if (before) s.before = before;
    return s;
  });
}
/** Numbers can carry a trailing comment on every line. */
function numberSetting(value: fc.Arbitrary<number>, inVirtual: boolean): fc.Arbitrary<LdSetting<number>> {
  return fc.tuple(setting(value, inVirtual), fc.option(commentText, { nil: undefined })).map(([s, c]) => {
    if (c !== undefined) s.comment = c;
    return s;
  });
}

/**
 * A record whose keys are each present one time in three. Configs stay small,
 * so generating, writing and parsing one is cheap, and thousands of runs
 * still meet every key many times (fc.record's optional keys are there 5 times in 6).
 */
function sparseRecord<T extends Record<string, unknown>>(
  shape: {
    [K in keyof T]: fc.Arbitrary<T[K]>;
  },
): fc.Arbitrary<Partial<T>> {
  const keys = Object.keys(shape) as (keyof T)[];
  const values = keys.map((k) =>
    fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: shape[k] }),
  );
  return fc.tuple(...values).map((vs) => {
    const out: Partial<T> = {};
    vs.forEach((v, i) => {
      if (v !== undefined) out[keys[i] as keyof T] = v as T[keyof T];
    });
    return out;
  });
}

const globalSettings = sparseRecord({
  checktimeout: numberSetting(posInt, false),
  negotiatetimeout: numberSetting(posInt, false),
  checkinterval: numberSetting(posInt, false),
  failurecount: numberSetting(posInt, false),
  fallback: setting(fallbackArb(false), false),
  fallback6: setting(fallbackArb(true), false),
  fallbackcommand: setting(trimmedText(), false),
  autoreload: setting(fc.boolean(), false),
  callback: setting(safeText(0), false),
  logfile: setting(safeText(), false),
  fork: setting(fc.boolean(), false),
  supervised: setting(fc.boolean(), false),
  quiescent: setting(fc.boolean(), false),
  readdquiescent: setting(fc.boolean(), false),
  cleanstop: setting(fc.boolean(), false),
  emailalert: setting(emailAddress, false),
  emailalertfreq: numberSetting(fc.integer({ min: 0, max: 100000 }), false),
  emailalertstatus: setting(emailStatus, false),
  emailalertfrom: setting(trimmedText(), false),
  smtp: setting(token, false),
  maintenancedir: setting(trimmedText(), false),
});

// Every arbitrary is built once, up front: building them inside `chain` for
// each run (fc.stringMatching parses its regex every time) cost ~50 ms a config.
// Indices (virtual i, real j) only pick addresses, so they are applied by `map`
// when the config is assembled.
const realShape = fc.record({
  kind: fc.constantFrom('ip', 'ip', 'range', 'name'),
  span: fc.integer({ min: 0, max: 6 }),
  port: fc.option(port, { nil: undefined }),
  forward,
  weight: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
  check: fc.option(fc.tuple(safeText(0), safeText(0)), { nil: undefined }),
  lower: fc.option(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { nil: undefined }),
  upper: fc.option(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { nil: undefined }),
  comment: fc.option(commentText, { nil: undefined }),
  before: beforeLines(false),
});
type RealShape = typeof realShape extends fc.Arbitrary<infer R> ? R : never;

function realAt(g: RealShape, six: boolean, vi: number, ri: number): LdReal {
  const r: LdReal = { ipv6: six, host: '', forward: g.forward, addresses: [] };
  if (six) {
    r.host = `[2001:db8:${vi.toString(16)}::${(ri + 1).toString(16)}]`;
    r.addresses = [r.host];
  } else if (g.kind === 'name') {
    r.host = `rs${ri}.v${vi}.example`;
    r.addresses = [r.host];
  } else {
    const base = `10.${vi}.${ri}.`;
    r.host = `${base}1`;
    if (g.kind === 'range') {
      r.rangeEnd = `${base}${1 + g.span}`;
      r.addresses = Array.from({ length: g.span + 1 }, (_, i) => `${base}${1 + i}`);
    } else r.addresses = [r.host];
  }
  if (g.port !== undefined) r.port = g.port;
  if (g.weight !== undefined) r.weight = g.weight;
  if (g.check) {
    r.request = `/${g.check[0]}`;
    r.receive = g.check[1];
  }
  if (g.lower !== undefined) r.lowerThreshold = g.lower;
  if (g.upper !== undefined) r.upperThreshold = g.upper;
  if (g.comment !== undefined) r.comment = g.comment;
  if (g.before) r.before = g.before;
  return r;
}

function virtualSettingsArb(six: boolean, fwmark: boolean) {
  return sparseRecord({
    checktype: setting(
      fc.oneof(
        fc.constantFrom('connect', 'negotiate', 'ping', 'off', 'on', 'external', 'external-perl'),
        fc.nat(1000),
      ),
      true,
    ),
    service: setting(
      fc.constantFrom(
        'dns',
        'ftp',
        'http',
        'https',
        'http_proxy',
        'ldap',
        'mysql',
        'none',
        'pgsql',
        'radius',
        'sip',
        'smtp',
        'simpletcp',
      ),
      true,
    ),
    checkcommand: setting(trimmedText(), true),
    checkport: numberSetting(fc.integer({ min: 1, max: 65535 }), true),
    request: setting(
      safeText(0).map((s) => `/${s}`),
      true,
    ),
    receive: setting(safeText(), true),
    httpmethod: setting(fc.constantFrom('GET', 'HEAD'), true),
    virtualhost: setting(trimmedText(), true),
    login: setting(safeText(), true),
    passwd: setting(safeText(), true),
    database: setting(safeText(), true),
    secret: setting(safeText(), true),
    load: setting(safeText(), true),
    scheduler: setting(fc.constantFrom(...KERNEL_SCHEDULERS), true),
    persistent: numberSetting(fc.integer({ min: 0, max: 86400 }), true),
    schedflags: setting(token, true),
    netmask: setting(six ? fc.integer({ min: 1, max: 128 }).map(String) : ipv4, true),
    protocol: setting(fwmark ? fc.constant('fwm') : fc.constantFrom('tcp', 'udp'), true),
    ops: setting(fc.boolean(), true),
    monitorfile: setting(trimmedText(), true),
    servicename: setting(trimmedText(0), true),
    comment: setting(trimmedText(0), true),
    checktimeout: numberSetting(posInt, true),
    negotiatetimeout: numberSetting(posInt, true),
    checkinterval: numberSetting(posInt, true),
    failurecount: numberSetting(posInt, true),
    fallback: setting(fallbackArb(six), true),
    fallbackcommand: setting(trimmedText(), true),
    quiescent: setting(fc.boolean(), true),
    emailalert: setting(emailAddress, true),
    emailalertfreq: numberSetting(fc.integer({ min: 0, max: 100000 }), true),
    emailalertstatus: setting(emailStatus, true),
    cleanstop: setting(fc.boolean(), true),
    smtp: setting(token, true),
  }) as fc.Arbitrary<LdVirtual['settings']>;
}

/** A virtual service without its index: address and reals are placed by `virtualAt`. */
const virtualShape = fc.oneof(
  ...[false, true].flatMap((six) =>
    [false, true].map((fwmark) =>
      fc.record({
        six: fc.constant(six),
        fwmark: fc.constant(fwmark),
        port,
        before: beforeLines(true),
        comment: fc.option(commentText, { nil: undefined }),
        settings: virtualSettingsArb(six, fwmark),
        reals: fc.array(realShape, { maxLength: 4 }),
      }),
    ),
  ),
);
type VirtualShape = typeof virtualShape extends fc.Arbitrary<infer V> ? V : never;

function virtualAt(g: VirtualShape, vi: number): LdVirtual {
  const address: LdVirtualAddress = g.fwmark
    ? { kind: 'fwmark', mark: vi + 1 }
    : { kind: 'address', host: g.six ? `[2001:db8:ffff::${vi + 1}]` : `192.0.2.${vi + 1}`, port: g.port };
  const reals = g.reals.map((r, ri) => realAt(r, g.six, vi, ri));
  const v: LdVirtual = { ipv6: g.six, address, reals, settings: g.settings };
  // A written virtual always follows a blank line (the writer adds one otherwise).
  v.before = g.before ? ['', ...g.before] : [''];
  if (g.comment !== undefined) v.comment = g.comment;
  return v;
}

const configArb: fc.Arbitrary<LdirectordConfig> = fc
  .record({
    settings: globalSettings,
    execute: fc.array(setting(trimmedText(0), false), { maxLength: 2 }),
    virtuals: fc.array(virtualShape, { maxLength: 4 }),
    trailer: fc.array(
      fc.oneof(
        fc.constant(''),
        commentText.map((c) => `#${c}`),
      ),
      { maxLength: 2 },
    ),
  })
  .map(
    ({ settings, execute, virtuals, trailer }): LdirectordConfig => ({
      settings: settings as LdirectordConfig['settings'],
      execute,
      virtuals: virtuals.map(virtualAt),
      trailer,
    }),
  );

describe('ldirectord.cf property tests', () => {
  it(
    `${RUNS_ROUNDTRIP} generated valid configs round-trip without errors`,
    () => {
      fc.assert(
        fc.property(configArb, (cfg) => {
          const text = writeLdirectordCf(cfg);
          const r = parseLdirectordCf(text);
          const errors = r.problems.filter((p) => p.severity === 'error');
          if (errors.length > 0) throw new Error(`${errors.map((e) => e.message).join('\n')}\n---\n${text}`);
          expectSameValue(r.value, cfg);
          const again = writeLdirectordCf(r.value);
          if (again !== text) expect(again).toBe(text);
        }),
        { numRuns: RUNS_ROUNDTRIP },
      );
    },
    TIMEOUT,
  );

  // Seeds for mutation: every fixture, good and bad.
  const dir = join(import.meta.dirname, 'fixtures', 'ldirectord');
  const seeds = [
    ...readdirSync(dir)
      .filter((f) => f.endsWith('.cf'))
      .map((f) => readFileSync(join(dir, f), 'utf8')),
    ...readdirSync(join(dir, 'bad')).map((f) => readFileSync(join(dir, 'bad', f), 'utf8')),
  ];
  const pieces = [
    '\n',
    '\r\n',
    '\t',
    '    ',
    ' ',
    '#',
    '"',
    '=',
    ':',
    '->',
    ',',
    '[',
    ']',
    '<',
    '>',
    'l:',
    'u:',
    '0',
    '9',
    '65536',
    'virtual=',
    'virtual6=',
    'real=',
    'real6=',
    'gate',
    'masq',
    'ipip',
    'yes',
    'no',
    '\u2028',
    '\u0000',
    'é',
    '4294967296',
    '99999999999999999999',
    '192.0.2.1',
    '[2001:db8::1]',
    'fallback=',
    'checktype=',
    'supervised',
  ];
  const mutation = fc.oneof(
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom(...pieces) }),
    fc.record({ op: fc.constant('insertAny' as const), at: fc.nat(), text: fc.string({ maxLength: 6 }) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
    fc.record({ op: fc.constant('dupLine' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('swapLines' as const), at: fc.nat(), to: fc.nat() }),
  );
  type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;
  function mutate(text: string, muts: Mutation[]): string {
    let t = text;
    for (const m of muts) {
      const at = t.length === 0 ? 0 : m.at % (t.length + 1);
      if (m.op === 'insert' || m.op === 'insertAny') t = t.slice(0, at) + m.text + t.slice(at);
      else if (m.op === 'delete') t = t.slice(0, at) + t.slice(at + m.len);
      else {
        const lines = t.split('\n');
        const i = m.at % lines.length;
        if (m.op === 'dupLine') lines.splice(i, 0, lines[i] as string);
        else {
          const j = m.to % lines.length;
          [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
        }
        t = lines.join('\n');
      }
    }
    return t;
  }

  function checkAnyInput(text: string): void {
    const r = parseLdirectordCf(text, { file: 'fuzz.cf' });
    const lineCount = text.split('\n').length;
    for (const p of r.problems)
      if (!(p instanceof ConfigError) || !(p.line >= 0 && p.line <= lineCount)) {
        expect(p).toBeInstanceOf(ConfigError);
        expect(p.line).toBeGreaterThanOrEqual(0);
        expect(p.line).toBeLessThanOrEqual(lineCount);
      }
    // The writer may refuse a best-effort value, but only with a ConfigError;
    // a file without errors must round-trip.
    let written: string | undefined;
    try {
      written = writeLdirectordCf(r.value);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
    }
    if (written !== undefined && !r.problems.some((p) => p.severity === 'error')) {
      const again = parseLdirectordCf(written);
      const errors = again.problems.filter((p) => p.severity === 'error');
      if (errors.length > 0) expect(errors.map((e) => e.message)).toEqual([]);
      expectSameValue(again.value, r.value);
    }
  }

  it(
    `${RUNS_MUTATED} mutated fixtures give only ConfigErrors, and error-free ones round-trip`,
    () => {
      fc.assert(
        fc.property(
          fc.nat({ max: seeds.length - 1 }),
          fc.array(mutation, { minLength: 1, maxLength: 6 }),
          (i, muts) => {
            checkAnyInput(mutate(seeds[i] as string, muts));
          },
        ),
        { numRuns: RUNS_MUTATED },
      );
    },
    TIMEOUT,
  );

  it(
    `${RUNS_RANDOM} random texts give only ConfigErrors`,
    () => {
      const line = fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.array(fc.constantFrom(...pieces), { maxLength: 8 }).map((a) => a.join('')),
      );
      fc.assert(
        fc.property(fc.array(line, { maxLength: 12 }), (lines) => checkAnyInput(lines.join('\n'))),
        { numRuns: RUNS_RANDOM },
      );
    },
    TIMEOUT,
  );
});
