import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatList, formatSave, ParseError, parseSave } from '../src/index.js';
import { tableOf } from './helpers/table.js';

// Captured from the real ipvsadm v1.31 in the lab guest (kernel 6.1); the
// guest test checks the same equality live.
const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');
const info = { version: '1.2.1', versionCode: 0x010201, connTableSize: 4096 };

describe('ipvsadm -S format', () => {
  it.each(['ipvsadm-1.31-Sn.txt', 'ipvsadm-1.31-Sn-2.txt'])(
    'reads %s and writes it back identically',
    (name) => {
      const text = fixture(name);
      expect(formatSave(tableOf(parseSave(text)))).toBe(text);
    },
  );

  it('sorts like ipvsadm whatever order the kernel lists in', () => {
    const text = fixture('ipvsadm-1.31-Sn-2.txt');
    const table = tableOf(parseSave(text)).reverse();
    for (const s of table) s.destinations.reverse();
    expect(formatSave(table)).toBe(text);
  });

  it('fills in what ipvsadm -R would: scheduler wlc, weight 1, the service port, -p 360', () => {
    expect(parseSave('-A -t 192.0.2.50:80\n-a -t 192.0.2.50:80 -r 192.0.2.21\n-A -f 3 -p\n')).toEqual([
      {
        protocol: 'tcp',
        address: '192.0.2.50',
        port: 80,
        destinations: [{ address: '192.0.2.21', port: 80 }],
      },
      { fwmark: 3, family: 'inet', persistent: 360, destinations: [] },
    ]);
    expect(formatSave(tableOf(parseSave('-A -t 192.0.2.50:80\n-a -t 192.0.2.50:80 -r 192.0.2.21\n')))).toBe(
      '-A -t 192.0.2.50:80 -s wlc\n-a -t 192.0.2.50:80 -r 192.0.2.21:80 -g -w 1\n',
    );
  });

  it.each([
    ['-X -t 192.0.2.1:80', 1, /unknown command/],
    ['-A -t 192.0.2.1:80\n-a -t 192.0.2.1:80 -r www.example.org:80', 2, /numeric/],
    ['-a -t 192.0.2.1:80 -r 192.0.2.2:80', 1, /before its service/],
    ['-A -t 192.0.2.1:80 -s', 1, /needs a value/],
    ['-A -s rr', 1, /no virtual service/],
    ['-A -t 192.0.2.1:80 --frobnicate', 1, /unknown option/],
  ])('refuses %j at line %i', (text, line, why) => {
    const e = (() => {
      try {
        parseSave(text);
      } catch (err) {
        return err as ParseError;
      }
    })();
    expect(e).toBeInstanceOf(ParseError);
    expect(e?.line).toBe(line);
    expect(e?.message).toMatch(why);
  });
});

describe('ipvsadm -Ln listing', () => {
  const table = () => {
    const t = tableOf(parseSave(fixture('ipvsadm-1.31-Sn-2.txt')));
    const rs = t[0]?.destinations[1];
    if (rs) Object.assign(rs, { upperThreshold: 100, lowerThreshold: 10 });
    return t;
  };
  it.each([
    ['default', 'ipvsadm-1.31-Ln-2.txt'],
    ['stats', 'ipvsadm-1.31-Ln-stats-2.txt'],
    ['rate', 'ipvsadm-1.31-Ln-rate-2.txt'],
    ['thresholds', 'ipvsadm-1.31-Ln-thresholds-2.txt'],
  ] as const)('--%s matches ipvsadm', (format, name) => {
    expect(formatList(table(), info, { format })).toBe(fixture(name));
  });

  it('--tun-info matches ipvsadm', () => {
    expect(formatList(tableOf(parseSave(fixture('ipvsadm-1.31-Sn.txt'))), info, { format: 'tun-info' })).toBe(
      fixture('ipvsadm-1.31-Ln-tun-info.txt'),
    );
  });

  it('shortens large counters with K/M/G/T unless --exact', () => {
    const [svc] = tableOf(parseSave('-A -t 192.0.2.50:80 -s rr\n'));
    if (!svc) throw new Error('no service');
    svc.stats64 = {
      conns: 99_999_999,
      inPackets: 123_456_789,
      outPackets: 12_345_678_901,
      inBytes: 5_000_000_000_000,
      outBytes: 7e14,
      cps: 0,
      inPps: 0,
      outPps: 0,
      inBps: 0,
      outBps: 0,
    };
    const [, , , line] = formatList([svc], info, { format: 'stats' }).split('\n');
    expect(line).toBe('TCP  192.0.2.50:80                99999999  123456K   12345M    5000G     700T');
    const [, , , exact] = formatList([svc], info, { format: 'stats', exact: true }).split('\n');
    expect(exact).toBe(
      'TCP  192.0.2.50:80                99999999 123456789 12345678901 5000000000000 700000000000000',
    );
  });
});
