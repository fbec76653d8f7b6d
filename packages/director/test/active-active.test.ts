// activeActiveLdirectord: the ldirectord.cf of an active/active director
// (mh, quiesced real servers in file order, no fallback) and what the file
// asks against it, at its lines; healthyVips: what the health loop announces.
import { parseLdirectordCfStrict, resolveLdirectordDefaults } from '@lvs-ha/ha-config';
import { describe, expect, it } from 'vitest';
import { ACTIVE_ACTIVE_FLAGS, activeActiveLdirectord, directorTable, healthyVips } from '../src/index.js';

const resolve = (text: string) => resolveLdirectordDefaults(parseLdirectordCfStrict(text));
const FILE = '/etc/ha.d/ldirectord.cf';

const PLAIN = `checktimeout=1
checkinterval=2
virtual=203.0.113.60:80
	real=192.0.2.21:80 gate
	real=192.0.2.22:80 gate 3
	real=192.0.2.23:80 gate
	checktype=connect
virtual=203.0.113.60:443
	real=192.0.2.21:443 gate
	checktype=connect
virtual=203.0.113.61:53
	protocol=udp
	real=192.0.2.21:53 gate
`;

describe('activeActiveLdirectord', () => {
  it('forces mh with mh-fallback,mh-port, quiescent and readdquiescent, and names each virtual service’s VIP', () => {
    const a = activeActiveLdirectord(resolve(PLAIN), FILE);
    expect(a.problems).toEqual([]);
    expect(a.vips).toEqual(['203.0.113.60', '203.0.113.61']);
    expect([...a.vipOf]).toEqual([
      ['tcp:203.0.113.60:80', '203.0.113.60'],
      ['tcp:203.0.113.60:443', '203.0.113.60'],
      ['udp:203.0.113.61:53', '203.0.113.61'],
    ]);
    for (const v of a.config.virtuals) {
      expect(v.scheduler.value).toBe('mh');
      expect(v.schedflags.value).toBe(ACTIVE_ACTIVE_FLAGS);
      expect(v.quiescent.value).toBe(true);
      expect(v.fallback.value).toBeNull();
    }
    expect(a.config.global.readdquiescent.value).toBe(true);
  });

  it('the first table (no check yet) has every real server at weight 0, in the file order; a failed one is quiesced, not deleted', () => {
    const a = activeActiveLdirectord(resolve(PLAIN), FILE);
    const first = directorTable(a.config, () => undefined);
    expect(first.services[0]).toMatchObject({
      scheduler: 'mh',
      schedulerFlags: ['mh-fallback', 'mh-port'],
      destinations: [
        { address: '192.0.2.21', weight: 0 },
        { address: '192.0.2.22', weight: 0 },
        { address: '192.0.2.23', weight: 0 },
      ],
    });
    const up = directorTable(a.config, () => true, first.services as never);
    expect(up.services[0]?.destinations.map((d) => [d.address, d.weight])).toEqual([
      ['192.0.2.21', 1],
      ['192.0.2.22', 3],
      ['192.0.2.23', 1],
    ]);
    const one = directorTable(a.config, (_v, r) => r.address !== '192.0.2.22', up.services as never);
    expect(one.services[0]?.destinations.map((d) => [d.address, d.weight])).toEqual([
      ['192.0.2.21', 1],
      ['192.0.2.22', 0],
      ['192.0.2.23', 1],
    ]);
    expect(one.status[0]).toMatchObject({ quiescent: ['192.0.2.22:80'], out: [] });
  });

  it('says at its line what the mode cannot do (errors) and what it overrides (warnings)', () => {
    const text = `quiescent=no
fallback=127.0.0.1:80
virtual=203.0.113.60:80
	real=192.0.2.21:80 gate
	real=192.0.2.22:80 masq
	scheduler=wrr
	schedflags=sh-port
	persistent=300
virtual=7
	real=192.0.2.21:80 gate
`;
    const a = activeActiveLdirectord(resolve(text), FILE);
    const said = a.problems.map(
      (p) => `${p.severity} ${p.line}: ${p.reason.split(':')[1]?.trim().split(' ')[0]}`,
    );
    expect(said).toEqual([
      'warning 1: quiescent',
      'error 6: scheduler',
      'warning 7: schedflags',
      'warning 2: the',
      'warning 8: persistent',
      'error 5: real=192.0.2.22',
      'error 9: virtual=7',
    ]);
    expect(a.problems.every((p) => p.file === FILE && p.message.startsWith(`${FILE}:`))).toBe(true);
    // the fwmark service is left out; the other keeps running as the mode makes it
    expect(a.config.virtuals.map((v) => v.id)).toEqual(['tcp:203.0.113.60:80']);
  });

  it('scheduler = mh and schedflags = mh-port,mh-fallback as given: nothing to say', () => {
    const a = activeActiveLdirectord(
      resolve(
        'virtual=203.0.113.60:80\n\treal=192.0.2.21:80 gate\n\tscheduler=mh\n\tschedflags=mh-port,mh-fallback\n',
      ),
      FILE,
    );
    expect(a.problems).toEqual([]);
  });
});

describe('healthyVips', () => {
  const vipOf = new Map([
    ['tcp:203.0.113.60:80', '203.0.113.60'],
    ['tcp:203.0.113.60:443', '203.0.113.60'],
    ['udp:203.0.113.61:53', '203.0.113.61'],
  ]);
  it('a VIP while one of its virtual services has a real server up', () => {
    const s = (up80: string[], up443: string[], up53: string[]) => [
      { id: 'tcp:203.0.113.60:80', up: up80 },
      { id: 'tcp:203.0.113.60:443', up: up443 },
      { id: 'udp:203.0.113.61:53', up: up53 },
    ];
    expect([...healthyVips(vipOf, s(['a'], [], []))]).toEqual(['203.0.113.60']);
    expect([...healthyVips(vipOf, s([], ['a'], ['b']))]).toEqual(['203.0.113.60', '203.0.113.61']);
    expect([...healthyVips(vipOf, s([], [], []))]).toEqual([]);
  });
  it("bgp.cf's own VIPs while any virtual service has one", () => {
    expect([...healthyVips(vipOf, [{ id: 'udp:203.0.113.61:53', up: ['x'] }], ['203.0.113.99'])]).toEqual([
      '203.0.113.61',
      '203.0.113.99',
    ]);
    expect([...healthyVips(vipOf, [{ id: 'udp:203.0.113.61:53', up: [] }], ['203.0.113.99'])]).toEqual([]);
  });
});
