// IPaddr's "which interface takes this VIP" rule, on hand-made link and
// address lists (the netns tests check it against a real kernel).
import { describe, expect, it } from 'vitest';
import { type Address, IFF, type Link, parseIp, pickInterface } from '../src/index.js';

const link = (index: number, name: string, flags = IFF.UP | IFF.LOWER_UP): Link => ({
  index,
  name,
  mac: '02:00:5e:00:53:01',
  flags,
  up: (flags & IFF.UP) !== 0,
  lowerUp: (flags & IFF.LOWER_UP) !== 0,
  loopback: (flags & IFF.LOOPBACK) !== 0,
  mtu: 1500,
});
const addr = (index: number, cidr: string, scope: Address['scope'] = 'universe'): Address => {
  const [ip = '', len = ''] = cidr.split('/');
  const address = parseIp(ip);
  return {
    interface: `if${index}`,
    index,
    family: address.family,
    address,
    prefixLength: Number(len),
    label: undefined,
    broadcast: undefined,
    scope,
    flags: 0,
    secondary: false,
    tentative: false,
    dadFailed: false,
  };
};

describe('pickInterface', () => {
  const links = [link(1, 'lo', IFF.UP | IFF.LOOPBACK), link(2, 'eth0'), link(3, 'eth1'), link(4, 'eth2', 0)];

  it('takes the interface whose subnet holds the VIP, longest prefix first', () => {
    const addrs = [addr(2, '192.0.2.10/16'), addr(3, '192.0.2.20/24')];
    const r = pickInterface(parseIp('192.0.2.50'), links, addrs);
    expect(r?.link.name).toBe('eth1');
    expect(r?.prefixLength).toBe(24);
    expect(r?.via.address.text).toBe('192.0.2.20');
  });

  it('breaks ties by the lower interface index', () => {
    const addrs = [addr(3, '192.0.2.20/24'), addr(2, '192.0.2.10/24')];
    expect(pickInterface(parseIp('192.0.2.50'), links, addrs)?.link.name).toBe('eth0');
  });

  it('ignores loopback, down links, host routes, host/link scope and the other family', () => {
    const addrs = [
      addr(1, '192.0.2.1/24'),
      addr(4, '192.0.2.4/24'),
      addr(2, '192.0.2.50/32'),
      addr(3, '192.0.2.3/24', 'host'),
      addr(2, '2001:db8::1/64'),
    ];
    expect(pickInterface(parseIp('192.0.2.50'), links, addrs)).toBeUndefined();
    expect(pickInterface(parseIp('2001:db8::50'), links, addrs)?.link.name).toBe('eth0');
    expect(pickInterface(parseIp('2001:db8:1::50'), links, addrs)).toBeUndefined();
  });
});
