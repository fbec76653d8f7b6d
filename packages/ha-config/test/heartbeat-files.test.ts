import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type ConfigError,
  parseAuthkeys,
  parseHaCf,
  parseHaresources,
  parseHeartbeatTime,
  writeAuthkeys,
  writeHaCf,
  writeHaresources,
} from '../src/index.js';
import { stripPositions } from './helpers.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const read = (...p: string[]) => readFileSync(join(fixtures, ...p), 'utf8');
const errorsOf = (problems: ConfigError[]) => problems.filter((p) => p.severity === 'error');

// The Debian samples are templates with every directive commented out: they
// parse, and the only thing missing is what the admin must fill in.
const isTemplate = (f: string) => f.startsWith('debian-sample');

describe('ha.cf', () => {
  it("reads the seed article's ha.cf", () => {
    const { value, problems } = parseHaCf(read('seed', 'ha.cf'));
    expect(problems).toEqual([]);
    expect(value.settings.media).toEqual([{ type: 'bcast', interface: 'eth1', port: 694, line: 1 }]);
    expect(value.settings.nodes).toEqual(['load1', 'load2']);
    expect(value.settings.autoFailback).toBe('on');
    expect(value.settings.keepaliveMs).toBe(1000);
    expect(value.settings.deadtimeMs).toBe(30000);
  });

  for (const f of readdirSync(join(fixtures, 'hacf'))) {
    it(`parses fixture ${f} and round-trips it`, () => {
      const text = read('hacf', f);
      const first = parseHaCf(text, { file: f });
      const errors = errorsOf(first.problems);
      if (isTemplate(f)) expect(errors.every((e) => e.code === 'MISSING_REQUIRED')).toBe(true);
      else expect(errors).toEqual([]);
      const again = parseHaCf(writeHaCf(first.value), { file: f });
      expect(stripPositions(again.value)).toEqual(stripPositions(first.value));
    });
  }

  it('reads times as Heartbeat does', () => {
    expect(parseHeartbeatTime('2')).toBe(2000);
    expect(parseHeartbeatTime('0.5')).toBe(500);
    expect(parseHeartbeatTime('500ms')).toBe(500);
    expect(parseHeartbeatTime('1500MS')).toBe(1500);
    expect(parseHeartbeatTime('2500us')).toBe(3);
    expect(parseHeartbeatTime('10msec')).toBe(10);
    expect(parseHeartbeatTime('2s')).toBeUndefined();
    expect(parseHeartbeatTime('fast')).toBeUndefined();
    const { value } = parseHaCf('keepalive 250ms\ndeadtime 1.5\nbcast eth0\nnode a\nauto_failback on\n');
    expect(value.settings.keepaliveMs).toBe(250);
    expect(value.settings.deadtimeMs).toBe(1500);
  });

  it('types every medium with the udpport in effect', () => {
    const { value, problems } = parseHaCf(
      'udpport 700\nbcast eth0 eth1\nmcast eth2 239.0.0.1 694 1 0\nucast eth3 192.0.2.2\nmcast6 eth0 ff12::1 694 1 0\nnode a b\nauto_failback off\n',
    );
    expect(problems).toEqual([]);
    expect(value.settings.media.map(({ line: _, ...m }) => m)).toEqual([
      { type: 'bcast', interface: 'eth0', port: 700 },
      { type: 'bcast', interface: 'eth1', port: 700 },
      { type: 'mcast', interface: 'eth2', group: '239.0.0.1', port: 694, ttl: 1, loop: false },
      { type: 'ucast', interface: 'eth3', peer: '192.0.2.2', port: 700 },
      { type: 'mcast6', interface: 'eth0', group: 'ff12::1', port: 694, hops: 1, loop: false },
    ]);
  });

  it('suggests the directive meant', () => {
    const [p] = parseHaCf('bcast eth0\nnode a\nauto_failback on\nkeepalve 2\n').problems;
    expect(p).toMatchObject({
      code: 'UNKNOWN_DIRECTIVE',
      line: 4,
      column: 1,
      hint: "did you mean 'keepalive'?",
    });
  });
});

describe('authkeys', () => {
  it("reads the seed article's authkeys and refuses group/other access like Heartbeat", () => {
    const ok = parseAuthkeys(read('seed', 'authkeys'), { mode: 0o600 });
    expect(ok.problems).toEqual([]);
    expect(ok.value).toMatchObject({
      auth: 1,
      keys: [{ index: 1, method: 'sha1', key: 'long_random_password' }],
      mode: 0o600,
    });
    const loose = parseAuthkeys(read('seed', 'authkeys'), { mode: 0o644, file: '/etc/ha.d/authkeys' });
    expect(loose.problems).toHaveLength(1);
    expect(loose.problems[0]).toMatchObject({ code: 'INSECURE_PERMISSIONS', file: '/etc/ha.d/authkeys' });
    expect(loose.problems[0]!.message).toContain('0644');
  });

  for (const f of readdirSync(join(fixtures, 'authkeys'))) {
    it(`parses fixture ${f} and round-trips it`, () => {
      const first = parseAuthkeys(read('authkeys', f), { file: f });
      const errors = errorsOf(first.problems);
      if (isTemplate(f)) expect(errors.map((e) => e.code)).toEqual(['MISSING_REQUIRED']);
      else {
        expect(errors).toEqual([]);
        const again = parseAuthkeys(writeAuthkeys(first.value), { file: f });
        expect(stripPositions(again.value)).toEqual(stripPositions(first.value));
      }
    });
  }
});

describe('haresources', () => {
  it("reads the seed article's haresources", () => {
    const { value, problems } = parseHaresources(read('seed', 'haresources'));
    expect(problems).toEqual([]);
    expect(value.groups).toHaveLength(1);
    expect(value.groups[0]).toMatchObject({
      node: 'load1',
      resources: [
        {
          kind: 'ipaddr',
          agent: 'IPaddr',
          address: '12.3.4.50',
          prefix: 32,
          interface: 'eth0',
          line: 1,
          column: 7,
        },
        { kind: 'script', name: 'ldirectord', args: [], column: 25 },
      ],
    });
  });

  it('joins continuation lines and keeps each resource position', () => {
    const { value, problems } = parseHaresources(read('haresources', 'continuation.haresources'));
    expect(problems).toEqual([]);
    const [g] = value.groups;
    expect(g!.resources.map((r) => [r.kind, r.line])).toEqual([
      ['ipaddr', 2],
      ['script', 3],
      ['script', 4],
    ]);
    expect(g!.resources[0]).toMatchObject({ broadcast: '192.168.1.255', prefix: 24 });
    expect(g!.resources[1]).toMatchObject({
      name: 'Filesystem',
      args: ['/dev/drbd0', '/var/lib/mysql', 'ext4'],
    });
  });

  it('reads a dotted netmask as a prefix', () => {
    const { value } = parseHaresources(read('haresources', 'netmask-dotted.haresources'));
    expect(value.groups[0]!.resources[0]).toMatchObject({
      agent: 'IPaddr',
      address: '203.0.113.10',
      prefix: 24,
    });
  });

  for (const f of readdirSync(join(fixtures, 'haresources'))) {
    it(`parses fixture ${f} and round-trips it`, () => {
      const first = parseHaresources(read('haresources', f), { file: f });
      expect(errorsOf(first.problems)).toEqual([]);
      const again = parseHaresources(writeHaresources(first.value), { file: f });
      expect(stripPositions(again.value)).toEqual(stripPositions(first.value));
    });
  }
});

describe('bad input is reported at the right line', () => {
  const parsers: Record<string, (t: string, f: string) => ConfigError[]> = {
    '.ha.cf': (t, file) => parseHaCf(t, { file }).problems,
    '.authkeys': (t, file) => parseAuthkeys(t, { file }).problems,
    '.haresources': (t, file) => parseHaresources(t, { file }).problems,
  };
  for (const f of readdirSync(join(fixtures, 'bad')).filter((n) => !n.startsWith('ldirectord'))) {
    it(f, () => {
      const text = read('bad', f);
      // The first line lists what the file gets wrong: "# expect: LINE CODE, ...".
      const expected = /^# expect: (.*)$/m
        .exec(text)![1]!
        .split(',')
        .map((s) => s.trim().split(' '))
        .map(([line, code]) => ({ line: Number(line), code }));
      const parse = Object.entries(parsers).find(([ext]) => f.endsWith(ext))![1];
      const got = errorsOf(parse(text, f)).map((p) => ({ line: p.line, code: p.code }));
      expect(got).toEqual(expect.arrayContaining(expected));
      expect(got).toHaveLength(expected.length);
      for (const p of parse(text, f)) expect(p.file).toBe(f);
    });
  }
});
