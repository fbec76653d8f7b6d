// The configuration writer: what it writes, what it refuses, and the real
// BIRD's verdict on what it writes (`bird -p -c FILE`).
import { describe, expect, it } from 'vitest';
import {
  BirdConfigError,
  checkConfig,
  type DirectorBirdConfig,
  neighborProtocolName,
  vipProtocolName,
  writeDirectorConfig,
} from '../src/index.js';
import { describeWithBird } from './support/needs.js';

const base: DirectorBirdConfig = {
  routerId: '192.0.2.11',
  localAs: 64513,
  neighbors: [{ address: '192.0.2.1', as: 64512 }],
  vips: ['203.0.113.10'],
};

function refused(config: Partial<DirectorBirdConfig>): BirdConfigError {
  try {
    writeDirectorConfig({ ...base, ...config });
  } catch (e) {
    expect(e).toBeInstanceOf(BirdConfigError);
    expect((e as BirdConfigError).code).toBe('BIRD_CONFIG_INVALID');
    return e as BirdConfigError;
  }
  throw new Error(`accepted: ${JSON.stringify(config)}`);
}

describe('names', () => {
  it('a VIP protocol is named after the canonical address', () => {
    expect(vipProtocolName('203.0.113.10')).toBe('vip4_203_0_113_10');
    expect(vipProtocolName('2001:DB8:0:0::10')).toBe('vip6_2001_db8__10');
    expect(neighborProtocolName('192.0.2.1')).toBe('up4_192_0_2_1');
    expect(() => vipProtocolName('203.0.113.300')).toThrow(BirdConfigError);
  });
});

describe('writeDirectorConfig', () => {
  it('router id, device, BFD, one BGP session per neighbor, one disabled static per VIP', () => {
    const w = writeDirectorConfig({
      ...base,
      neighbors: [
        { address: '192.0.2.1', as: 64512 },
        { address: '192.0.2.2', as: 64512, name: 'core2', sourceAddress: '192.0.2.11' },
      ],
      vips: ['203.0.113.10', '203.0.113.11'],
    });
    expect(w.bgpProtocols).toEqual(['up4_192_0_2_1', 'core2']);
    expect([...w.vipProtocols]).toEqual([
      ['203.0.113.10', 'vip4_203_0_113_10'],
      ['203.0.113.11', 'vip4_203_0_113_11'],
    ]);
    expect(w.bfdProtocol).toBe('lvs_bfd');
    expect(w.text).toContain('router id 192.0.2.11;\n');
    expect(w.text).toContain('protocol device {\n}');
    expect(w.text).toContain('    min rx interval 100 ms;\n    min tx interval 100 ms;\n');
    expect(w.text).toContain('    multiplier 3;\n');
    expect(w.text).toContain(
      [
        'protocol bgp core2 {',
        '  description "upstream 192.0.2.2";',
        '  local 192.0.2.11 as 64513;',
        '  neighbor 192.0.2.2 as 64512;',
        '  hold time 9;',
        '  connect delay time 1;',
        '  connect retry time 5;',
        '  error wait time 1, 30;',
        '  bfd on;',
        '  ipv4 {',
        '    import none;',
        '    export where source = RTS_STATIC && proto ~ "vip4_*";',
        '  };',
        '}',
      ].join('\n'),
    );
    expect(w.text).toContain(
      [
        'protocol static vip4_203_0_113_11 {',
        '  disabled;',
        '  description "VIP 203.0.113.11";',
        '  ipv4;',
        '  route 203.0.113.11/32 blackhole;',
        '}',
      ].join('\n'),
    );
    // Nothing reaches the director's own kernel table.
    expect(w.text).not.toMatch(/protocol kernel/);
  });

  it('IPv6 VIPs are /128 routes carried by the IPv6 sessions', () => {
    const w = writeDirectorConfig({
      ...base,
      neighbors: [...base.neighbors, { address: 'fe80::1', as: 64512, interface: 'eth0' }],
      vips: ['203.0.113.10', '2001:db8::10'],
    });
    expect(w.text).toContain('  neighbor fe80::1%eth0 as 64512;');
    expect(w.text).toContain('  ipv6;\n  route 2001:db8::10/128 blackhole;');
    expect(w.text).toContain('export where source = RTS_STATIC && proto ~ "vip6_*";');
  });

  it('no BFD, other timers, a log file', () => {
    const w = writeDirectorConfig({
      ...base,
      bfd: false,
      holdTime: 30,
      keepaliveTime: 10,
      connectDelayTime: 0,
      errorWaitTime: [5, 60],
      log: { file: '/var/log/lvs-ha/bird.log' },
    });
    expect(w.bfdProtocol).toBeUndefined();
    expect(w.text).not.toMatch(/bfd/);
    expect(w.text).toContain('  hold time 30;\n  keepalive time 10;\n  connect delay time 0;');
    expect(w.text).toContain('log "/var/log/lvs-ha/bird.log" all;');
  });

  it('refuses, naming the field', () => {
    expect(refused({ routerId: '2001:db8::1' }).where).toBe('routerId');
    expect(refused({ routerId: '0.0.0.0' }).where).toBe('routerId');
    expect(refused({ localAs: 0 }).where).toBe('localAs');
    expect(refused({ localAs: 4294967296 }).where).toBe('localAs');
    expect(refused({ neighbors: [] }).where).toBe('neighbors');
    expect(refused({ neighbors: [{ address: 'router1', as: 64512 }] }).where).toBe('neighbors[0].address');
    expect(refused({ neighbors: [{ address: '192.0.2.1', as: 64512.5 }] }).where).toBe('neighbors[0].as');
    expect(
      refused({
        neighbors: [
          { address: '192.0.2.1', as: 64512 },
          { address: '192.0.2.1', as: 64512 },
        ],
      }).where,
    ).toBe('neighbors[1].address');
    expect(refused({ neighbors: [{ address: '192.0.2.1', as: 64512, name: 'bad-name' }] }).where).toBe(
      'neighbors[0].name',
    );
    expect(refused({ neighbors: [{ address: '192.0.2.1', as: 64512, name: 'all' }] }).where).toBe(
      'neighbors[0].name',
    );
    expect(
      refused({ neighbors: [{ address: '192.0.2.1', as: 64512, sourceAddress: '2001:db8::11' }] }).where,
    ).toBe('neighbors[0].sourceAddress');
    expect(refused({ neighbors: [{ address: '192.0.2.1', as: 64512, password: 'a"b' }] }).where).toBe(
      'neighbors[0].password',
    );
    expect(refused({ neighbors: [{ address: '192.0.2.1', as: 64512, interface: 'eth0' }] }).where).toBe(
      'neighbors[0].interface',
    );
    expect(refused({ vips: ['203.0.113.10', '203.0.113.010'] }).where).toBe('vips[1]');
    expect(refused({ vips: ['203.0.113.10', '203.0.113.10'] }).where).toBe('vips[1]');
    expect(refused({ vips: ['2001:db8::10'] }).message).toMatch(/no IPv6 neighbor would carry it/);
    expect(refused({ holdTime: 2 }).where).toBe('holdTime');
    expect(refused({ keepaliveTime: 9 }).where).toBe('keepaliveTime');
    expect(refused({ bfd: { intervalMs: 0 } }).where).toBe('bfd.intervalMs');
    expect(refused({ bfd: { multiplier: 256 } }).where).toBe('bfd.multiplier');
    expect(refused({ errorWaitTime: [10, 5] }).where).toBe('errorWaitTime[1]');
    expect(refused({ log: { file: 'a\nb' } }).where).toBe('log.file');
  });
});

describeWithBird([], 'the real BIRD accepts what the writer writes (bird -p)', () => {
  const variants: [string, DirectorBirdConfig][] = [
    ['one router, one VIP', base],
    [
      'two routers, IPv4 and IPv6, passwords, multihop, a port',
      {
        ...base,
        neighbors: [
          { address: '192.0.2.1', as: 64512, password: 's3cret' },
          { address: '198.51.100.1', as: 64514, multihop: 2, sourceAddress: '192.0.2.11', port: 1179 },
          { address: '2001:db8::1', as: 64512, sourceAddress: '2001:db8::11' },
          { address: 'fe80::1', as: 64512, interface: 'eth0' },
        ],
        vips: ['203.0.113.10', '203.0.113.11', '2001:db8:10::10'],
      },
    ],
    ['no BFD, syslog, no VIP yet', { ...base, bfd: false, log: 'syslog', vips: [] }],
    ['4-byte AS, slow BFD', { ...base, localAs: 4200000001, bfd: { intervalMs: 300, multiplier: 5 } }],
    [
      '200 VIPs',
      {
        ...base,
        vips: Array.from({ length: 200 }, (_, i) => `203.0.113.${i % 250}`).filter(
          (v, i, a) => a.indexOf(v) === i,
        ),
      },
    ],
  ];

  it.each(variants)('%s', async (_name, config) => {
    await checkConfig({ text: writeDirectorConfig(config).text });
  });

  it("and BIRD's refusal of a broken file is a BirdConfigError at BIRD's file:line:column", async () => {
    const text = writeDirectorConfig(base).text.replace('blackhole', 'nowhere');
    const e = await checkConfig({ text }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BirdConfigError);
    expect((e as BirdConfigError).where).toMatch(/bird\.conf:\d+:\d+$/);
    expect((e as BirdConfigError).message).toMatch(/syntax error/);
  });
});
