// The show commands' parsers on replies of the real BIRD 2.0.12.
import { describe, expect, it } from 'vitest';
import {
  BirdProtocolError,
  parseBfdSessions,
  parseProtocols,
  parseRoutes,
  parseStatus,
} from '../src/index.js';
import { fixture } from './support/fixtures.js';

describe('show protocols', () => {
  it('one row per protocol; "---" is no table', () => {
    const rows = parseProtocols(fixture('show-protocols'));
    expect(rows.map((r) => [r.name, r.proto, r.table, r.state])).toEqual([
      ['device1', 'Device', undefined, 'up'],
      ['bfd1', 'BFD', undefined, 'up'],
      ['upstream1', 'BGP', undefined, 'up'],
      ['vip_203_0_113_10', 'Static', 'master4', 'up'],
    ]);
    expect(rows[2]).toMatchObject({ since: '07:44:14.558', info: 'Established' });
    expect(rows[3]?.info).toBe('');
  });

  it("a BGP session that lost its peer: state start, info with BIRD's reason", () => {
    const rows = parseProtocols(fixture('router-show-protocols-after-kill'));
    expect(rows.find((r) => r.name === 'director2')).toMatchObject({
      proto: 'BGP',
      state: 'start',
      info: 'Active        Socket: Connection closed',
    });
    expect(rows.find((r) => r.name === 'directors')?.info).toBe('Passive');
  });

  it('all: BGP details and channels', () => {
    const rows = parseProtocols(fixture('show-protocols-all'));
    const bgp = rows.find((r) => r.name === 'upstream1');
    expect(bgp?.bgp).toEqual({
      state: 'Established',
      neighborAddress: '192.0.2.1',
      neighborAs: 64512,
      localAs: 64513,
      neighborId: '192.0.2.1',
      sourceAddress: '192.0.2.11',
      holdTimer: { left: expect.any(Number), hold: 9 },
    });
    expect(bgp?.channels).toEqual([
      {
        name: 'ipv4',
        state: 'UP',
        table: 'master4',
        routes: { imported: 0, exported: 1, preferred: 0 },
      },
    ]);
    const vip = rows.find((r) => r.name === 'vip_203_0_113_10');
    expect(vip?.bgp).toBeUndefined();
    expect(vip?.channels?.[0]).toMatchObject({
      state: 'UP',
      routes: { imported: 1, exported: 0, preferred: 1 },
    });
    // protocols without details (device, bfd) are rows all the same
    expect(rows.map((r) => r.name)).toEqual(['device1', 'bfd1', 'upstream1', 'vip_203_0_113_10']);
  });

  it('all of a session still waiting: Idle, no neighbor id', () => {
    const [row] = parseProtocols(fixture('show-protocols-all-bgp-waiting'));
    expect(row?.bgp).toEqual({
      state: 'Idle',
      neighborAddress: '192.0.2.99',
      neighborAs: 64512,
      localAs: 64513,
    });
  });

  it('the router side of a dynamic session: one route imported', () => {
    const [row] = parseProtocols(fixture('router-show-protocols-all-director'));
    expect(row?.bgp?.neighborAddress).toBe('192.0.2.12');
    expect(row?.channels?.[0]?.routes).toEqual({ imported: 1, exported: 0, preferred: 0 });
  });
});

describe('show bfd sessions', () => {
  it('rows under their protocol, intervals in seconds', () => {
    expect(parseBfdSessions(fixture('router-show-bfd-sessions'))).toEqual([
      {
        protocol: 'bfd1',
        address: '192.0.2.12',
        interface: 'br0',
        state: 'Up',
        since: '07:44:14.510',
        interval: 0.1,
        timeout: 0.3,
      },
      {
        protocol: 'bfd1',
        address: '192.0.2.11',
        interface: 'br0',
        state: 'Up',
        since: '07:44:14.443',
        interval: 0.1,
        timeout: 0.3,
      },
    ]);
  });

  it('a session whose peer died is Down', () => {
    const down = parseBfdSessions(fixture('router-show-bfd-sessions-down')).find(
      (s) => s.address === '192.0.2.12',
    );
    expect(down).toMatchObject({ state: 'Down', interval: 1, timeout: 0 });
  });
});

describe('show route', () => {
  it('a blackhole static route: a path without next hops', () => {
    expect(parseRoutes(fixture('show-route'))).toEqual([
      {
        table: 'master4',
        network: '203.0.113.10/32',
        paths: [
          {
            type: 'blackhole',
            protocol: 'vip_203_0_113_10',
            since: '07:44:38.566',
            primary: true,
            preference: 200,
            extra: '',
            nexthops: [],
          },
        ],
      },
    ]);
  });

  it('ECMP on the router: two BGP paths, each with its next hop; a device route', () => {
    const routes = parseRoutes(fixture('router-show-route-ecmp'));
    expect(routes.map((r) => r.network)).toEqual(['192.0.2.0/24', '203.0.113.10/32']);
    expect(routes[0]?.paths[0]?.nexthops).toEqual([{ interface: 'br0' }]);
    const vip = routes[1];
    expect(vip?.paths.map((p) => [p.protocol, p.primary, p.extra, p.nexthops])).toEqual([
      ['director1', true, '[AS64513i]', [{ via: '192.0.2.11', interface: 'br0' }]],
      ['director2', false, '[AS64513i]', [{ via: '192.0.2.12', interface: 'br0' }]],
    ]);
  });

  it('all: the attributes of each path', () => {
    const [route] = parseRoutes(fixture('router-show-route-for-all-ecmp'));
    expect(route?.paths).toHaveLength(2);
    expect(route?.paths[1]?.attributes).toEqual({
      Type: 'BGP univ',
      'BGP.origin': 'IGP',
      'BGP.as_path': '64513',
      'BGP.next_hop': '192.0.2.12',
      'BGP.local_pref': '100',
    });
  });

  it('an empty table is no routes', () => {
    expect(parseRoutes(fixture('show-route-empty'))).toEqual([]);
  });

  it('refuses a path line it cannot read', () => {
    expect(() =>
      parseRoutes({
        code: 0,
        text: '',
        lines: [
          { code: 1007, text: 'Table master4:' },
          { code: 1007, text: '203.0.113.10/32 nonsense' },
          { code: 0, text: '' },
        ],
      }),
    ).toThrow(BirdProtocolError);
  });
});

describe('show status', () => {
  it('version, router id, message', () => {
    const s = parseStatus(fixture('show-status'));
    expect(s).toMatchObject({
      version: '2.0.12',
      routerId: '192.0.2.11',
      message: 'Daemon is up and running',
    });
    expect(s.details['Last reboot']).toBe('2026-12-03 07:43:42.484');
  });
});
