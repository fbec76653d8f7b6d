// ActiveNode's health loop against real connect checks (listeners on
// loopback), the ipvs package's fake kernel, and a routing that records
// what it is told beside the kernel's table at that moment: the first
// announcement after every real server's first check, the withdrawal at the
// last real server's down before the table quiesces it, the announcement
// one check interval after a real server is back, and at the stop the
// withdrawal first, then BIRD, then the table.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDirectorConfig } from '@lvs-ha/bird';
import { Ipvs } from '@lvs-ha/ipvs';
import { until } from '@lvs-ha/lab';
import { afterEach, expect, it } from 'vitest';
import { FakeKernel } from '../../ipvs/test/helpers/fake-kernel.js';
import { ActiveNode, type ActiveRouting, loadActiveConfig } from '../src/index.js';

const VIP = '203.0.113.60';

async function listen(port = 0): Promise<Server & { port: number }> {
  const s = createServer((c) => c.destroy());
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
  return Object.assign(s, { port: (s.address() as { port: number }).port });
}
const closed = (s: Server) => new Promise<void>((r) => s.close(() => r()));

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** until() as this test uses it: 8 s unless said, every 20 ms. */
const soon = (what: string, pred: () => Promise<boolean> | boolean, ms = 8000) =>
  until(what, pred, ms, { everyMs: 20 });

it('announces after the first checks, withdraws before the table quiesces the last real server, announces again one interval after one is back, and withdraws first at the stop', async () => {
  const [a, b] = [await listen(), await listen()];
  cleanup.push(
    () => closed(a),
    () => closed(b),
  );
  const dir = mkdtempSync(join(tmpdir(), 'lvsha-active-node-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'ldirectord.cf'),
    `checkinterval=1\ncheckcount=1\nchecktimeout=1\nvirtual=${VIP}:80\n\treal=127.0.0.1:${a.port} gate\n\treal=127.0.0.1:${b.port} gate 2\n\tchecktype=connect\n`,
  );
  writeFileSync(join(dir, 'bgp.cf'), 'router-id 192.0.2.11\nlocal-as 64513\nneighbor 192.0.2.1 as 64512\n');
  const config = await loadActiveConfig(dir);
  expect(config.problems).toEqual([]);

  const kernel = new FakeKernel();
  const ipvs = await Ipvs.open({ transport: kernel });
  const weights = async () =>
    (await ipvs.getTable())[0]?.destinations.map((d) => `${d.port === a.port ? 'a' : 'b'}/${d.weight}`) ?? [];
  // what the routing was told, with the kernel's table at that moment
  const told: { what: string; at: number; table: string[] }[] = [];
  const wanted = new Set<string>();
  const note = async (what: string) => told.push({ what, at: Date.now(), table: await weights() });
  const routing: ActiveRouting = {
    written: writeDirectorConfig(config.bgp!),
    wanted,
    async announce(vip) {
      wanted.add(vip);
      await note(`announce ${vip}`);
    },
    async withdraw(vip) {
      wanted.delete(vip);
      await note(`withdraw ${vip}`);
    },
    async setAnnounced(vips) {
      wanted.clear();
      for (const v of vips) wanted.add(v);
      await note(`set [${[...wanted].join(' ')}]`);
    },
    async status() {
      return { running: true, pid: 1, restarts: 0, sessions: [], vips: [] };
    },
    async stop() {
      await note('stop');
      return undefined;
    },
  };
  const sysctls = new Map<string, string>();
  const onLo = new Set<string>();
  const node = new ActiveNode({
    config,
    node: 'director1',
    openIpvs: async () => ({
      getTable: () => ipvs.getTable(),
      reconcile: (...x) => ipvs.reconcile(...x),
      close() {},
    }),
    sysctl: {
      get: async (n) => sysctls.get(n) ?? '0',
      set: async (n, v) => {
        sysctls.set(n, v);
      },
    },
    interfaces: async () => ['eth0'],
    startRouting: async () => routing,
    addresses: {
      add: async (v) => {
        onLo.add(`${v.address}/${v.prefixLength} ${v.interface}`);
        return { changed: true };
      },
      remove: async (v) => {
        onLo.delete(`${v.address}/32 ${v.interface}`);
      },
    },
  });
  const lines: string[] = [];
  node.on('log', (l) => lines.push(l));
  cleanup.push(() => node.stop());
  cleanup.push(() => ipvs.close());

  await node.start();
  // the kernel set up as the mode needs
  expect([...onLo]).toEqual([`${VIP}/32 lo`]);
  expect(sysctls.get('net.ipv4.vs.sloppy_tcp')).toBe('1');
  expect(sysctls.get('net.ipv4.conf.eth0.arp_ignore')).toBe('1');
  expect((await ipvs.getTable())[0]).toMatchObject({ scheduler: 'mh' });
  // the first table came after both first checks: announced at once, with the full table
  await soon('announced', () => wanted.has(VIP));
  expect(told[0]).toMatchObject({ what: `announce ${VIP}`, table: ['a/1', 'b/2'] });

  // one down: still announced (quiesced, in its place); both down: withdrawn before the table quiesces the last one
  await closed(a);
  await soon('a quiesced', async () => (await weights()).join() === 'a/0,b/2');
  expect(wanted.has(VIP)).toBe(true);
  await closed(b);
  await soon('withdrawn', () => !wanted.has(VIP));
  const w = told.find((t) => t.what === `withdraw ${VIP}`);
  expect(w?.table).toEqual(['a/0', 'b/2']);
  await soon('b quiesced', async () => (await weights()).join() === 'a/0,b/0');

  // b back: announced one check interval after, never before its table is in the kernel
  const back = await listen(b.port);
  cleanup.push(() => closed(back));
  await soon('b up again', async () => (await weights()).join() === 'a/0,b/2');
  const upAt = Date.now();
  expect(wanted.has(VIP)).toBe(false);
  await soon('announced again', () => wanted.has(VIP), 5000);
  const again = told.at(-1) as (typeof told)[number];
  expect(again).toMatchObject({ what: `announce ${VIP}`, table: ['a/0', 'b/2'] });
  expect(again.at - upAt).toBeGreaterThanOrEqual(700);
  expect(lines).toContain(`bgp: ${VIP} has a real server up: announced in 1000 ms (one check interval)`);

  // the stop: withdrawn (the table still whole), BIRD stopped, then the table and the VIP on lo go
  await node.stop();
  const n = told.length;
  expect(told.slice(n - 2).map((t) => [t.what, t.table.join()])).toEqual([
    ['set []', 'a/0,b/2'],
    ['stop', 'a/0,b/2'],
  ]);
  expect(await ipvs.getTable()).toEqual([]);
  expect(onLo.size).toBe(0);
  expect(sysctls.get('net.ipv4.vs.sloppy_tcp')).toBe('0');
}, 30_000);
