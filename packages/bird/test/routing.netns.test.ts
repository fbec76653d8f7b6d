// BirdRouting, what a director's health loop talks to, against the real
// BIRD 2 in namespaces: the router's kernel table follows announce() and
// withdraw(); BIRD killed under it is restarted and the wanted VIPs are
// announced again; a `configure` behind its back is repaired by resync();
// stop() withdraws before BIRD goes.
import { join } from 'node:path';
import { until } from '@lvs-ha/lab';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BirdArgumentError, BirdClient, BirdRouting, type RoutingEvent } from '../src/index.js';
import { describeWithBird } from './support/needs.js';
import { directorConfig, type RouterLab, routerLab, waitNextHops } from './support/routing.js';

const VIP = '203.0.113.30';
const VIP2 = '203.0.113.31';

function log(line: string): void {
  process.stderr.write(`[bird routing] ${line}\n`);
}

describeWithBird(['root', 'netns'], 'BirdRouting: the announcements a director wants, kept in BIRD', () => {
  let lab: RouterLab;
  const routings: BirdRouting[] = [];
  const events: RoutingEvent[][] = [];

  beforeAll(async () => {
    lab = await routerLab(2);
    for (const [i, host] of lab.hosts.entries()) {
      const seen: RoutingEvent[] = [];
      events.push(seen);
      routings.push(
        await BirdRouting.start({
          config: directorConfig(host.address, [VIP, VIP2]),
          dir: join(lab.dir, `routing${i + 1}`),
          wrap: ['ip', 'netns', 'exec', host.ns.name],
          onEvent: (e) => seen.push(e),
        }),
      );
    }
    // every session Established, BFD up
    for (const r of routings) {
      await until(
        'sessions Established, BFD up',
        async () => (await r.status()).sessions.every((s) => s.bgpState === 'Established' && s.bfd === 'Up'),
        20_000,
      );
    }
  }, 60_000);

  afterAll(async () => {
    for (const r of routings) await r.stop().catch(() => undefined);
    await lab?.destroy();
  });

  it('status(): the BGP session with its BFD state, every VIP withdrawn', async () => {
    const s = await routings[0]!.status();
    expect(s.running).toBe(true);
    expect(s.sessions).toEqual([
      {
        name: 'up4_192_0_2_1',
        neighbor: '192.0.2.1',
        state: 'up',
        bgpState: 'Established',
        info: 'Established',
        bfd: 'Up',
      },
    ]);
    expect(s.vips).toEqual([
      { vip: VIP, protocol: 'vip4_203_0_113_30', wanted: false, announced: false },
      { vip: VIP2, protocol: 'vip4_203_0_113_31', wanted: false, announced: false },
    ]);
  });

  it("announce/withdraw on both directors: the router's kernel follows (one, two, one, none)", async () => {
    const [a, b] = lab.hosts.map((h) => h.address) as [string, string];
    await routings[0]!.announce(VIP);
    await waitNextHops(lab.router, VIP, (h) => h.join() === a);
    await routings[1]!.announce(VIP);
    await waitNextHops(lab.router, VIP, (h) => h.join() === [a, b].sort().join());
    await routings[0]!.withdraw(VIP);
    await waitNextHops(lab.router, VIP, (h) => h.join() === b);
    await routings[1]!.setAnnounced([]);
    await waitNextHops(lab.router, VIP, (h) => h.length === 0);
    expect(events[0]!.filter((e) => e.type === 'announced' || e.type === 'withdrawn')).toEqual([
      { type: 'announced', vip: VIP },
      { type: 'withdrawn', vip: VIP },
    ]);
    // asking twice is no change and no event
    await routings[1]!.withdraw(VIP);
    expect(events[1]!.filter((e) => e.type === 'withdrawn')).toHaveLength(1);
  });

  it('a VIP that is not in the configuration is refused', async () => {
    expect(() => routings[0]!.announce('198.51.100.7')).toThrow(BirdArgumentError);
    expect(() => routings[0]!.announce('not-an-address')).toThrow(BirdArgumentError);
  });

  it('BIRD SIGKILLed: the next hop goes, BirdRouting restarts BIRD and announces the VIP again', async () => {
    const r = routings[0]!;
    const a = lab.hosts[0]!.address;
    await r.announce(VIP2);
    await waitNextHops(lab.router, VIP2, (h) => h.join() === a);
    const before = (await r.status()).pid!;
    const t = performance.now();
    process.kill(before, 'SIGKILL');
    const gone = await waitNextHops(lab.router, VIP2, (h) => h.length === 0, { since: t, deadlineMs: 5000 });
    const back = await waitNextHops(lab.router, VIP2, (h) => h.join() === a, {
      since: t,
      deadlineMs: 20_000,
    });
    log(
      `SIGKILL of BIRD: next hop gone in ${gone.toFixed(0)} ms, restarted and announced again ${back.toFixed(0)} ms after the kill`,
    );
    const s = await r.status();
    expect(s.pid).not.toBe(before);
    expect(s.restarts).toBe(1);
    expect(s.vips.find((v) => v.vip === VIP2)).toMatchObject({ wanted: true, announced: true });
    expect(events[0]!.map((e) => e.type)).toEqual(
      expect.arrayContaining(['exited', 'restarting', 'started']),
    );
  });

  it('someone runs `configure` (VIPs back to disabled): resync() announces them again', async () => {
    const r = routings[0]!;
    const a = lab.hosts[0]!.address;
    const client = await BirdClient.connect(r.socketPath);
    await client.configure();
    await client.close();
    await waitNextHops(lab.router, VIP2, (h) => h.length === 0, { deadlineMs: 5000 });
    await r.resync();
    await waitNextHops(lab.router, VIP2, (h) => h.join() === a, { deadlineMs: 5000 });
  });

  it('stop(): withdraws first, then BIRD exits cleanly; no restart', async () => {
    const r = routings[0]!;
    const t = performance.now();
    const exit = await r.stop();
    const ms = await waitNextHops(lab.router, VIP2, (h) => h.length === 0, { since: t, deadlineMs: 5000 });
    log(`stop(): VIP withdrawn from the router's kernel ${ms.toFixed(0)} ms after the call`);
    expect(exit?.code).toBe(0);
    expect(events[0]!.at(-2)).toEqual({ type: 'withdrawn', vip: VIP2 });
    expect(events[0]!.at(-1)?.type).toBe('exited');
    await new Promise((res) => setTimeout(res, 500));
    expect(events[0]!.at(-1)?.type).toBe('exited');
    expect(r.running).toBe(false);
  });
});
