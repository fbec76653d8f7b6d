import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ConfigErrors,
  type LdirectordConfig,
  parseLdirectordCf,
  parseLdirectordCfStrict,
  resolveLdirectordDefaults,
  writeLdirectordCf,
} from '../src/index.js';
import { stripPositions } from './helpers.js';

const dir = join(import.meta.dirname, 'fixtures', 'ldirectord');
const read = (name: string) => readFileSync(join(dir, name), 'utf8');
const goodFixtures = readdirSync(dir).filter((f) => f.endsWith('.cf'));

describe('ldirectord.cf fixtures', () => {
  it('has the seed, the Debian sample and at least 12 more', () => {
    expect(goodFixtures).toContain('seed.cf');
    expect(goodFixtures).toContain('debian-sample.cf');
    expect(goodFixtures.length).toBeGreaterThanOrEqual(14);
    // The Debian sample is the file the package ships, unchanged.
    expect(read('debian-sample.cf')).toBe(
      readFileSync('/usr/share/doc/ldirectord/examples/ldirectord.cf', 'utf8'),
    );
  });

  for (const f of goodFixtures) {
    it(`${f} parses without errors and round-trips`, () => {
      const text = read(f);
      const r = parseLdirectordCf(text, { file: f });
      expect(r.problems.filter((p) => p.severity === 'error')).toEqual([]);
      for (const p of r.problems) expect(p).toBeInstanceOf(ConfigError);
      expect(r.value.virtuals.length).toBeGreaterThan(0);
      const written = writeLdirectordCf(r.value);
      const again = parseLdirectordCf(written, { file: f });
      expect(again.problems.filter((p) => p.severity === 'error')).toEqual([]);
      expect(stripPositions(again.value)).toEqual(stripPositions(r.value));
      // Writing is stable after the first normalisation.
      expect(writeLdirectordCf(again.value)).toBe(written);
      // Every comment line of the source survives.
      const comments = text.split(/\r?\n/).filter((l) => /^\s*#/.test(l));
      for (const c of comments) expect(written.split('\n')).toContain(c);
    });
  }
});

describe('parseLdirectordCf: the seed', () => {
  const r = parseLdirectordCf(read('seed.cf'), { file: 'ldirectord.cf' });
  const v = r.value.virtuals[0];
  it('reads globals with positions', () => {
    expect(r.value.settings.logfile).toMatchObject({ value: 'local0', line: 1, column: 1 });
    expect(r.value.settings.checkinterval?.value).toBe(5);
    expect(r.value.settings.autoreload?.value).toBe(true);
  });
  it('reads the virtual service and its real servers', () => {
    expect(v?.address).toEqual({ kind: 'address', host: '12.3.4.50', port: '80' });
    expect(v?.line).toBe(7);
    expect(v?.reals.map((x) => [x.host, x.port, x.forward, x.weight, x.line])).toEqual([
      ['12.3.4.100', '80', 'gate', 5, 8],
      ['12.3.4.101', '80', 'gate', 5, 9],
    ]);
    expect(v?.settings.fallback?.value).toEqual({ host: '127.0.0.1', port: '80', forward: 'gate' });
    expect(v?.settings.checktype?.value).toBe(4);
    expect(v?.settings.request?.value).toBe('/server-status');
    expect(v?.settings.negotiatetimeout?.value).toBe(20);
  });
  it('resolves the defaults ldirectord 4.12 applies', () => {
    const d = resolveLdirectordDefaults(r.value, { hostname: 'lb1' });
    expect(d.global.quiescent).toEqual({ value: false, source: 'default', explicit: false });
    expect(d.global.checkinterval).toMatchObject({ value: 5, explicit: true, line: 3 });
    expect(d.global.logfile.value).toBe('local0');
    expect(d.global.cleanstop.value).toBe(true);
    const rv = d.virtuals[0];
    expect(rv?.id).toBe('tcp:12.3.4.50:80');
    expect(rv?.service).toEqual({ value: 'http', source: 'port', explicit: false });
    expect(rv?.checktype).toMatchObject({ value: 4, explicit: true });
    // checktimeout falls back to the virtual's negotiatetimeout (ld_setup).
    expect(rv?.checktimeout).toEqual({ value: 20, source: 'derived', explicit: false });
    expect(rv?.negotiatetimeout.value).toBe(20);
    expect(rv?.checkinterval).toEqual({ value: 5, source: 'global', explicit: false });
    expect(rv?.failurecount).toEqual({ value: 1, source: 'default', explicit: false });
    expect(rv?.quiescent.value).toBe(false);
    expect(rv?.reals.map((x) => [x.address, x.port, x.weight.value, x.request.value])).toEqual([
      ['12.3.4.100', '80', 5, '/server-status'],
      ['12.3.4.101', '80', 5, '/server-status'],
    ]);
  });
});

describe('parseLdirectordCf: features', () => {
  it('expands A->B ranges and keeps the written form', () => {
    const r = parseLdirectordCf(read('range-thresholds.cf'));
    const reals = r.value.virtuals[0]?.reals ?? [];
    expect(reals[0]).toMatchObject({
      host: '10.20.0.1',
      rangeEnd: '10.20.0.24',
      weight: 10,
      lowerThreshold: 200,
      upperThreshold: 400,
    });
    expect(reals[0]?.addresses).toHaveLength(24);
    expect(reals[0]?.addresses[23]).toBe('10.20.0.24');
    expect(reals[1]).toMatchObject({
      request: '/status',
      receive: 'alive',
      lowerThreshold: 50,
      upperThreshold: 100,
    });
    expect(reals[2]).toMatchObject({
      port: '8080',
      forward: 'masq',
      request: '/health.html',
      receive: 'alive',
      upperThreshold: 100,
    });
    expect(reals[3]?.weight).toBe(0);
    expect(reals[3]?.port).toBeUndefined();
    expect(writeLdirectordCf(r.value)).toContain('real = 10.20.0.1->10.20.0.24:80 gate 10 l:200 u:400');
    const d = resolveLdirectordDefaults(r.value);
    expect(d.virtuals[0]?.reals).toHaveLength(27);
    expect(d.virtuals[0]?.reals[26]).toMatchObject({ address: '10.20.1.3', port: '80' });
  });

  it('reads firewall marks, virtual6 and the protocol defaults', () => {
    const fw = resolveLdirectordDefaults(parseLdirectordCf(read('fwmark.cf')).value);
    expect(fw.virtuals[0]?.address).toEqual({ kind: 'fwmark', mark: 1 });
    expect(fw.virtuals[0]?.protocol.value).toBe('fwm');
    expect(fw.virtuals[1]?.protocol).toEqual({ value: 'fwm', source: 'derived', explicit: false });
    expect(fw.virtuals[1]?.service.value).toBe('none');
    // Global fallback without a port gets the virtual's.
    expect(fw.virtuals[0]?.fallback).toMatchObject({
      value: { host: '127.0.0.1', port: '80', forward: 'gate' },
      source: 'global',
    });
    const v6 = parseLdirectordCf(read('ipv6.cf'));
    expect(v6.value.virtuals[0]).toMatchObject({
      ipv6: true,
      address: { host: '[2001:db8:10::80]', port: '80' },
    });
    expect(v6.value.virtuals[0]?.settings.netmask?.value).toBe('64');
    const d6 = resolveLdirectordDefaults(v6.value);
    expect(d6.virtuals[0]?.fallback.value).toEqual({ host: '[::1]', port: '80', forward: 'gate' });
    expect(d6.virtuals[2]?.fallback.value).toBeNull();
    const dns = resolveLdirectordDefaults(parseLdirectordCf(read('dns-udp.cf')).value);
    expect(dns.virtuals.map((v) => v.id)).toEqual(['udp:198.51.100.53:53', 'tcp:198.51.100.53:53']);
    const udp = resolveLdirectordDefaults(
      parseLdirectordCf('virtual = 192.0.2.1:53\n\treal = 192.0.2.2 gate\n').value,
    );
    expect(udp.virtuals[0]?.protocol).toEqual({ value: 'udp', source: 'port', explicit: false });
    expect(udp.virtuals[0]?.service.value).toBe('dns');
  });

  it('applies ftp login defaults only for an explicit service, as 4.12 does', () => {
    const d = resolveLdirectordDefaults(
      parseLdirectordCf(
        'virtual = 192.0.2.1:21\n\treal = 192.0.2.2 gate\n\tservice = ftp\nvirtual = 192.0.2.1:2121\n\treal = 192.0.2.2 gate\n',
      ).value,
      { hostname: 'lb1' },
    );
    expect(d.virtuals[0]?.login.value).toBe('anonymous');
    expect(d.virtuals[0]?.passwd.value).toBe('ldirectord@lb1');
    expect(d.virtuals[1]?.login.value).toBe('');
  });

  it('timeouts default to each other, then to 5 and 30', () => {
    const base = 'virtual = 192.0.2.1:80\n\treal = 192.0.2.2 gate\n';
    const none = resolveLdirectordDefaults(parseLdirectordCf(base).value).virtuals[0];
    expect([none?.checktimeout.value, none?.negotiatetimeout.value]).toEqual([5, 30]);
    const g = resolveLdirectordDefaults(parseLdirectordCf(`negotiatetimeout = 12\n${base}`).value)
      .virtuals[0];
    expect([g?.checktimeout.value, g?.negotiatetimeout.value]).toEqual([12, 12]);
    const both = resolveLdirectordDefaults(
      parseLdirectordCf(`checktimeout = 3\n${base}\tnegotiatetimeout = 9\n`).value,
    ).virtuals[0];
    expect([both?.checktimeout.value, both?.negotiatetimeout.value]).toEqual([9, 9]);
  });

  it('keeps tabs/spaces rules: a tab counts as 4 spaces, 3 spaces end the section', () => {
    expect(parseLdirectordCf('virtual = 192.0.2.1:80\n    real = 192.0.2.2 gate\n').problems).toEqual([]);
    expect(parseLdirectordCf('virtual = 192.0.2.1:80\n  \treal = 192.0.2.2 gate\n').problems).toEqual([]);
    const p = parseLdirectordCf('virtual = 192.0.2.1:80\n   real = 192.0.2.2 gate\n').problems;
    expect(p.map((x) => [x.line, x.code])).toEqual([[2, 'SYNTAX']]);
  });

  it('warns about CRLF and a per-virtual checkinterval without fork', () => {
    const r = parseLdirectordCf(read('crlf-windows.cf'));
    expect(r.problems.map((p) => [p.severity, p.line])).toEqual([['warning', 1]]);
    expect(r.value.settings.logfile?.value).toBe('local0');
    const ftp = parseLdirectordCf(read('ftp-masq.cf'));
    expect(ftp.problems).toEqual([]);
    const nofork = parseLdirectordCf(
      'virtual = 192.0.2.1:80\n\treal = 192.0.2.2 gate\n\tcheckinterval = 3\n',
    );
    expect(nofork.problems.map((p) => [p.severity, p.line, p.column])).toEqual([['warning', 3, 2]]);
  });

  it('flags an unknown scheduler as a warning only', () => {
    const r = parseLdirectordCf('virtual = 192.0.2.1:80\n\treal = 192.0.2.2 gate\n\tscheduler = twos\n');
    expect(r.problems.map((p) => [p.severity, p.code, p.line])).toEqual([['warning', 'BAD_VALUE', 3]]);
    expect(r.value.virtuals[0]?.settings.scheduler?.value).toBe('twos');
    const typo = parseLdirectordCf('virtual = 192.0.2.1:80\n\treal = 192.0.2.2 gate\n\tscheduler = wrrr\n');
    expect(typo.problems[0]?.hint).toBe('did you mean wrr?');
  });

  it('the strict form throws ConfigErrors listing every error', () => {
    expect(() => parseLdirectordCfStrict(read('bad/typos.cf'), { file: 'typos.cf' })).toThrow(ConfigErrors);
    try {
      parseLdirectordCfStrict(read('bad/typos.cf'), { file: 'typos.cf' });
    } catch (e) {
      expect((e as ConfigErrors).errors).toHaveLength(5);
      expect((e as ConfigErrors).errors[0]?.message).toBe(
        'typos.cf:1:1: unknown directive "checktimout" (did you mean checktimeout?)',
      );
    }
    expect(parseLdirectordCfStrict(read('seed.cf')).virtuals).toHaveLength(1);
  });
});

describe('writeLdirectordCf', () => {
  it('writes a config built in code, with globals before the virtuals', () => {
    const cfg: LdirectordConfig = {
      settings: { checktimeout: { value: 3 }, quiescent: { value: true, comment: ' zero weight, keep' } },
      execute: [],
      trailer: [],
      virtuals: [
        {
          ipv6: false,
          address: { kind: 'address', host: '192.0.2.10', port: '80' },
          reals: [
            { ipv6: false, host: '198.51.100.1', port: '80', forward: 'gate', weight: 2, addresses: [] },
          ],
          settings: {
            scheduler: { value: 'wlc' },
            quiescent: { value: false, comment: 'x' },
            request: { value: '/a' },
          },
        },
      ],
    };
    const text = writeLdirectordCf(cfg);
    expect(text).toBe(
      [
        'checktimeout = 3',
        '# zero weight, keep',
        'quiescent = yes',
        '',
        'virtual = 192.0.2.10:80',
        '\treal = 198.51.100.1:80 gate 2',
        '\tscheduler = wlc',
        // No blank before '#': ldirectord compares yes/no with the whole cut line.
        '\tquiescent = no#x',
        '\trequest = "/a"',
        '',
      ].join('\n'),
    );
    const back = parseLdirectordCf(text);
    expect(back.problems).toEqual([]);
    expect(back.value.virtuals[0]?.settings.quiescent).toMatchObject({ value: false, comment: 'x' });
  });

  it('refuses a checktype number too large to write back', () => {
    const r = parseLdirectordCf(
      'virtual = 192.0.2.10:80\n\treal = 198.51.100.1:80 gate\n\tchecktype = 99999999999999999999\n',
    );
    expect(r.problems.map((p) => [p.line, p.code])).toEqual([[3, 'OUT_OF_RANGE']]);
    expect(r.value.virtuals[0]?.settings.checktype).toBeUndefined();
  });

  it('refuses IPv4 addresses with leading zeros, which inet_aton reads as octal', () => {
    const r = parseLdirectordCf('virtual = 192.0.2.10:80\n\treal = 198.51.100.010:80 gate\n');
    expect(r.problems.map((p) => [p.line, p.code, p.hint])).toEqual([
      [2, 'BAD_VALUE', 'drop the leading zeros: inet_aton reads 010 as octal (8)'],
    ]);
  });

  it('keeps comments where ldirectord 4.12 reads them, and emailalert as read_emailalert does', () => {
    // Inside a virtual the line is cut at '#': the comment after a yes/no stays on its line.
    const inVirtual = 'virtual = 192.0.2.10:80\n\treal = 192.0.2.2 gate\n\tquiescent = yes#on purpose\n';
    const r1 = parseLdirectordCf(inVirtual);
    expect(r1.problems).toEqual([]);
    expect(writeLdirectordCf(r1.value)).toBe(inVirtual);
    // logfile = "(.*)" ignores what follows the closing quote; emailalert takes the whole line.
    const r2 = parseLdirectordCf('logfile = "/var/log/ld.log"# main log\nemailalert = "ops@example.org"#\n');
    expect(r2.value.settings.logfile).toMatchObject({ value: '/var/log/ld.log', comment: ' main log' });
    expect(r2.problems.map((p) => [p.line, p.code, p.severity])).toEqual([[2, 'BAD_VALUE', 'error']]);
    // Quotes keep the blanks that `=\s*` would eat; trailing blanks are part of the address.
    const r3 = parseLdirectordCf('emailalert = "  ops@example.org"\n');
    expect(r3.value.settings.emailalert?.value).toBe('  ops@example.org');
    expect(writeLdirectordCf(r3.value)).toBe('emailalert = "  ops@example.org"\n');
    const r4 = parseLdirectordCf('emailalert = ops@example.org  \n');
    expect(r4.value.settings.emailalert?.value).toBe('ops@example.org  ');
    expect(r4.problems.map((p) => p.severity)).toEqual(['warning']);
  });

  it('refuses values ldirectord could not read back', () => {
    const cfg = parseLdirectordCf('virtual = 192.0.2.1:80\n\treal = 192.0.2.2 gate\n').value;
    const v = cfg.virtuals[0] as NonNullable<(typeof cfg.virtuals)[0]>;
    v.settings.receive = { value: 'issue #42' };
    expect(() => writeLdirectordCf(cfg)).toThrow(/cuts virtual section lines at "#"/);
    v.settings.receive = { value: 'a\nb' };
    expect(() => writeLdirectordCf(cfg)).toThrow(ConfigError);
  });
});
