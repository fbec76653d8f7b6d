import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseLdirectordCfStrict, resolveLdirectordDefaults } from '@lvs-ha/ha-config';
import type { TableService } from '@lvs-ha/ipvs';
import { describe, expect, it } from 'vitest';
import { directorTable, type RealHealth } from '../src/index.js';

const resolve = (text: string) => resolveLdirectordDefaults(parseLdirectordCfStrict(text));
const seed = resolve(
  readFileSync(fileURLToPath(new URL('../../../examples/seed/ha.d/ldirectord.cf', import.meta.url)), 'utf8'),
);
const health =
  (up: Record<string, boolean | undefined>): RealHealth =>
  (_v, r) =>
    up[`${r.address}:${r.port}`];

/** A table as the kernel would report it, from the parts the Director looks at. */
function kernel(
  services: { key: Partial<TableService>; dests: [string, number, number][] }[],
): TableService[] {
  return services.map(
    ({ key, dests }) =>
      ({
        family: 'inet',
        scheduler: 'wrr',
        ...key,
        destinations: dests.map(([address, port, weight]) => ({ address, port, weight, forward: 'gate' })),
      }) as unknown as TableService,
  );
}

describe("directorTable: the seed's ldirectord.cf", () => {
  it('both real servers up: the DR service with both at weight 5, wrr, no fallback', () => {
    const t = directorTable(seed, health({ '12.3.4.100:80': true, '12.3.4.101:80': true }));
    expect(t.services).toEqual([
      {
        protocol: 'tcp',
        address: '12.3.4.50',
        port: 80,
        scheduler: 'wrr',
        destinations: [
          { address: '12.3.4.100', port: 80, forward: 'gate', weight: 5 },
          { address: '12.3.4.101', port: 80, forward: 'gate', weight: 5 },
        ],
      },
    ]);
    expect(t.status[0]).toMatchObject({ up: ['12.3.4.100:80', '12.3.4.101:80'], quiescent: [], out: [] });
    expect(t.status[0]?.fallback).toBeUndefined();
  });

  it('one down (quiescent = no, the default): it leaves the table', () => {
    const t = directorTable(seed, health({ '12.3.4.100:80': false, '12.3.4.101:80': true }));
    expect(t.services[0]?.destinations).toEqual([
      { address: '12.3.4.101', port: 80, forward: 'gate', weight: 5 },
    ]);
    expect(t.status[0]).toMatchObject({ up: ['12.3.4.101:80'], out: ['12.3.4.100:80'] });
  });

  it('all down: the fallback server carries the service, weight 1', () => {
    const t = directorTable(seed, health({ '12.3.4.100:80': false, '12.3.4.101:80': false }));
    expect(t.services[0]?.destinations).toEqual([
      { address: '127.0.0.1', port: 80, forward: 'gate', weight: 1 },
    ]);
    expect(t.status[0]?.fallback).toBe('127.0.0.1:80');
  });

  it('before the first check, a real server already carrying traffic keeps its place; one absent waits', () => {
    const current = kernel([
      { key: { protocol: 'tcp', address: '12.3.4.50', port: 80 }, dests: [['12.3.4.100', 80, 5]] },
    ]);
    const t = directorTable(seed, health({}), current);
    expect(t.services[0]?.destinations).toEqual([
      { address: '12.3.4.100', port: 80, forward: 'gate', weight: 5 },
    ]);
    // Nothing in the table yet and nothing checked: the fallback, as ldirectord's start does.
    expect(directorTable(seed, health({})).services[0]?.destinations).toEqual([
      { address: '127.0.0.1', port: 80, forward: 'gate', weight: 1 },
    ]);
  });
});

describe('directorTable: quiescent, readdquiescent, the service settings', () => {
  const cf = `
checktimeout = 3
fallback = 192.0.2.99:80 gate
virtual = 192.0.2.50:443
	real = 192.0.2.21:443 masq 2
	real = 192.0.2.22:443 masq 3
	quiescent = yes
	scheduler = rr
	persistent = 600
	netmask = 255.255.255.0
	fallback = 192.0.2.98:443 masq
virtual = 7
	real = 192.0.2.23 ipip 4
	scheduler = sh
	protocol = fwm
virtual6 = [2001:db8::50]:80
	real6 = [2001:db8::21]:80 gate 1
	protocol = udp
	service = dns
`;
  const config = resolve(cf);

  it('a quiesced real server stays with weight 0 while it is in the table', () => {
    const current = kernel([
      {
        key: { protocol: 'tcp', address: '192.0.2.50', port: 443 },
        dests: [
          ['192.0.2.21', 443, 2],
          ['192.0.2.22', 443, 3],
        ],
      },
    ]);
    const t = directorTable(config, health({ '192.0.2.21:443': false, '192.0.2.22:443': true }), current);
    expect(t.services[0]).toEqual({
      protocol: 'tcp',
      address: '192.0.2.50',
      port: 443,
      scheduler: 'rr',
      persistent: 600,
      netmask: '255.255.255.0',
      destinations: [
        { address: '192.0.2.21', port: 443, forward: 'masq', weight: 0 },
        { address: '192.0.2.22', port: 443, forward: 'masq', weight: 3 },
      ],
    });
    expect(t.status[0]).toMatchObject({ up: ['192.0.2.22:443'], quiescent: ['192.0.2.21:443'] });
  });

  it('a down real server not in the table is not added with weight 0, unless readdquiescent = yes', () => {
    const down = health({ '192.0.2.21:443': false, '192.0.2.22:443': true });
    expect(directorTable(config, down).services[0]?.destinations.map((d) => d.address)).toEqual([
      '192.0.2.22',
    ]);
    const readd = resolve(`readdquiescent = yes\n${cf}`);
    expect(directorTable(readd, down).services[0]?.destinations).toContainEqual({
      address: '192.0.2.21',
      port: 443,
      forward: 'masq',
      weight: 0,
    });
  });

  it('all quiesced: the virtual service falls back to its own fallback (masq), the quiesced ones stay at 0', () => {
    const current = kernel([
      {
        key: { protocol: 'tcp', address: '192.0.2.50', port: 443 },
        dests: [
          ['192.0.2.21', 443, 2],
          ['192.0.2.22', 443, 3],
        ],
      },
    ]);
    const t = directorTable(config, health({ '192.0.2.21:443': false, '192.0.2.22:443': false }), current);
    expect(t.services[0]?.destinations).toEqual([
      { address: '192.0.2.21', port: 443, forward: 'masq', weight: 0 },
      { address: '192.0.2.22', port: 443, forward: 'masq', weight: 0 },
      { address: '192.0.2.98', port: 443, forward: 'masq', weight: 1 },
    ]);
  });

  it('a firewall-mark service and an IPv6 UDP service get their keys; the global fallback is IPv4 only', () => {
    const t = directorTable(config, health({ '192.0.2.23:0': true, '2001:db8::21:80': false }));
    expect(t.services[1]).toEqual({
      fwmark: 7,
      family: 'inet',
      scheduler: 'sh',
      destinations: [{ address: '192.0.2.23', port: 0, forward: 'ipip', weight: 4 }],
    });
    expect(t.services[2]).toEqual({
      protocol: 'udp',
      address: '2001:db8::50',
      port: 80,
      scheduler: 'wrr',
      destinations: [],
    });
    expect(t.status[2]).toMatchObject({ out: ['[2001:db8::21]:80'] });
    expect(t.status[2]?.fallback).toBeUndefined();
  });
});
