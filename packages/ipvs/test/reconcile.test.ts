import { describe, expect, it } from 'vitest';
import { type DesiredService, IPVS_CMD, Ipvs, planReconcile } from '../src/index.js';
import { FakeKernel } from './helpers/fake-kernel.js';
import { tableOf } from './helpers/table.js';

const web = { protocol: 'tcp', address: '192.0.2.50', port: 80 } as const;
const desired = (weight1 = 5): DesiredService[] => [
  {
    ...web,
    scheduler: 'wrr',
    destinations: [
      { address: '192.0.2.21', port: 80, weight: weight1 },
      { address: '192.0.2.22', port: 80, weight: 5 },
    ],
  },
  {
    fwmark: 7,
    scheduler: 'rr',
    persistent: 300,
    destinations: [{ address: '2001:db8::21', port: 0, forward: 'ipip' }],
  },
];

describe('planReconcile (pure)', () => {
  it('plans nothing when the table is already as desired', () => {
    expect(planReconcile(tableOf(desired()), desired())).toEqual([]);
  });

  it('changes one weight with one edit', () => {
    expect(planReconcile(tableOf(desired()), desired(2))).toEqual([
      { op: 'edit-destination', service: web, destination: { address: '192.0.2.21', port: 80, weight: 2 } },
    ]);
  });

  it('builds from empty: services first, then real servers', () => {
    expect(planReconcile([], desired()).map((o) => o.op)).toEqual([
      'add-service',
      'add-service',
      'add-destination',
      'add-destination',
      'add-destination',
    ]);
  });

  it('edits the service only when its settings change; adds and removes real servers', () => {
    const want = desired();
    const [first] = want;
    if (!first) throw new Error('no service');
    first.scheduler = 'lc';
    first.destinations = [
      { address: '192.0.2.22', port: 80, weight: 5 },
      { address: '192.0.2.23', port: 80 },
    ];
    expect(planReconcile(tableOf(desired()), want)).toEqual([
      { op: 'edit-service', service: { ...web, scheduler: 'lc' } },
      { op: 'delete-destination', service: web, destination: { address: '192.0.2.21', port: 80 } },
      { op: 'add-destination', service: web, destination: { address: '192.0.2.23', port: 80 } },
    ]);
  });

  it('leaves services it does not own alone and deletes its own stale ones', () => {
    const current = tableOf([
      ...desired(),
      { protocol: 'udp', address: '192.0.2.60', port: 53, destinations: [] },
      { protocol: 'tcp', address: '192.0.2.61', port: 25, destinations: [] },
    ]);
    const owned = (s: { address?: string }) => s.address !== '192.0.2.60';
    expect(planReconcile(current, desired(), { owned })).toEqual([
      { op: 'delete-service', service: { protocol: 'tcp', address: '192.0.2.61', port: 25 } },
    ]);
  });

  it('treats address spellings and defaults as the kernel does (no spurious edits)', () => {
    const current = tableOf(desired());
    const same: DesiredService[] = [
      {
        protocol: 'tcp',
        address: '192.0.2.50',
        port: 80,
        scheduler: 'wrr',
        destinations: [
          { address: '192.0.2.22', port: 80, weight: 5, forward: 'gate', upperThreshold: 0 },
          { address: '192.0.2.21', port: 80, weight: 5 },
        ],
      },
      {
        fwmark: 7,
        family: 'inet',
        scheduler: 'rr',
        persistent: 300,
        netmask: '255.255.255.255',
        destinations: [{ address: '2001:0db8:0::21', port: 0, forward: 'ipip', tunnelType: 'ipip' }],
      },
    ];
    expect(planReconcile(current, same)).toEqual([]);
  });
});

describe('Ipvs.reconcile over a fake kernel', () => {
  it('reaches the desired table and sends exactly one change message for a weight change', async () => {
    const kernel = new FakeKernel();
    const ipvs = await Ipvs.open({ transport: kernel });
    const first = await ipvs.reconcile(desired());
    expect(first.errors).toEqual([]);
    expect(first.operations).toHaveLength(5);
    const table = await ipvs.getTable();
    expect(planReconcile(table, desired())).toEqual([]);
    kernel.received.length = 0;
    const r = await ipvs.reconcile(desired(9), { current: table });
    expect(r.operations).toHaveLength(1);
    expect(kernel.received).toEqual([{ cmd: IPVS_CMD.SET_DEST, flags: expect.any(Number) }]);
    ipvs.close();
  });
});
