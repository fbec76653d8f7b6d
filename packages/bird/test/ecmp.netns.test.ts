// The package against the real BIRD 2, in namespaces on the host: a router
// running BIRD with BGP + BFD and ECMP into its kernel, two directors each
// running the BIRD our writer wrote under our supervisor, driven by our
// client. What counts is the router's kernel table (`ip route`), polled
// with a deadline, never what our client says about itself.
import { readlinkSync } from 'node:fs';
import { until } from '@lvs-ha/lab';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BirdReplyError, vipProtocolName } from '../src/index.js';
import { describeWithBird } from './support/needs.js';
import { type RoutedLab, routedLab, waitEstablished, waitNextHops } from './support/routing.js';

const VIP = '203.0.113.10';
const VIP2 = '203.0.113.11';
const name = vipProtocolName(VIP);

function log(line: string): void {
  process.stderr.write(`[bird ecmp] ${line}\n`);
}

describeWithBird(['root', 'netns'], 'BGP + BFD + ECMP: directors announce VIPs to a router', () => {
  let lab: RoutedLab;

  beforeAll(async () => {
    lab = await routedLab({ directors: 2, vips: [VIP, VIP2] });
    for (const d of lab.directors)
      log(`${d.address}: BGP established in ${(await waitEstablished(d)).toFixed(0)} ms`);
  }, 60_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  it('each BIRD runs as bird itself (ip netns exec execs in place, so --pdeathsig holds)', () => {
    for (const p of [lab.routerBird, ...lab.directors.map((d) => d.bird)]) {
      expect(readlinkSync(`/proc/${p.pid}/exe`)).toMatch(/\/bird$/);
      expect(p.diesWithUs).toBe(true);
    }
  });

  it('the VIPs start disabled: nothing announced', async () => {
    const [d1] = lab.directors;
    const rows = await d1!.client.showProtocols();
    expect(rows.find((r) => r.name === name)).toMatchObject({ proto: 'Static', state: 'down' });
    await waitNextHops(lab.router, VIP, (h) => h.length === 0, { deadlineMs: 1000 });
  });

  it("enable: the router's kernel routes the VIP via that director; disable: withdrawn", async () => {
    const d1 = lab.directors[0]!;
    let t = performance.now();
    expect(await d1.client.enable(name)).toBe(true);
    const up = await waitNextHops(lab.router, VIP, (h) => h.join() === d1.address, {
      since: t,
      what: 'announce',
    });
    log(`enable → router kernel has ${VIP} via ${d1.address}: ${up.toFixed(0)} ms`);
    // a second enable changes nothing and says so (0010)
    expect(await d1.client.enable(name)).toBe(false);
    // BIRD's own view on the router agrees with its kernel
    const [route] = await lab.routerClient.routes({ for: VIP });
    expect(route?.paths.map((p) => p.nexthops[0]?.via)).toEqual([d1.address]);

    t = performance.now();
    expect(await d1.client.disable(name)).toBe(true);
    const down = await waitNextHops(lab.router, VIP, (h) => h.length === 0, { since: t, what: 'withdraw' });
    log(`disable → ${VIP} gone from the router's kernel: ${down.toFixed(0)} ms`);
    expect(await d1.client.disable(name)).toBe(false);
    expect(up).toBeLessThan(2000);
    expect(down).toBeLessThan(2000);
  });

  it('one VIP enabled does not announce the other', async () => {
    const d1 = lab.directors[0]!;
    await d1.client.enable(vipProtocolName(VIP2));
    await waitNextHops(lab.router, VIP2, (h) => h.join() === d1.address);
    expect(await lab.routerClient.routes({ for: VIP })).toEqual([]);
    await d1.client.disable(vipProtocolName(VIP2));
    await waitNextHops(lab.router, VIP2, (h) => h.length === 0);
  });

  it('a protocol BIRD does not have is a typed refusal (8003), not a silent no-op', async () => {
    const e = await lab.directors[0]!.client.enable('vip4_198_51_100_99').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BirdReplyError);
    expect((e as BirdReplyError).code).toBe('BIRD_NO_PROTOCOLS_MATCH');
    expect((e as BirdReplyError).replyCode).toBe(8003);
  });

  it('both directors enabled: two next hops (ECMP) in the router kernel', async () => {
    const t = performance.now();
    for (const d of lab.directors) await d.client.enable(name);
    const both = lab.directors.map((d) => d.address).sort();
    const ms = await waitNextHops(lab.router, VIP, (h) => h.join() === both.join(), {
      since: t,
      what: 'ECMP',
    });
    log(`both enabled → 2 next hops in ${ms.toFixed(0)} ms`);
    // BFD sessions come up right after BGP's: poll them
    const want = JSON.stringify(both.map((a) => [a, 'Up']));
    const states = async () =>
      JSON.stringify((await lab.routerClient.bfdSessions()).map((s) => [s.address, s.state]).sort());
    await until('both BFD sessions up', states, 5000, {
      everyMs: 50,
      holds: (s) => s === want,
      detail: (s) => s,
    });
  });

  it("SIGKILL of a director's BIRD: its next hop leaves the router's kernel in < 1 s", async () => {
    const [d1, d2] = lab.directors as [RoutedLab['directors'][0], RoutedLab['directors'][0]];
    const t = performance.now();
    d2.bird.kill('SIGKILL');
    const ms = await waitNextHops(lab.router, VIP, (h) => h.join() === d1.address, {
      since: t,
      deadlineMs: 5000,
      what: 'after SIGKILL',
    });
    log(`SIGKILL of ${d2.address}'s BIRD → its next hop gone in ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(1000);
    const exit = await d2.bird.exited;
    expect(exit.signal).toBe('SIGKILL');
    // the router's BFD session to it is down too
    const bfd = await lab.routerClient.bfdSessions();
    expect(bfd.find((s) => s.address === d2.address)?.state).not.toBe('Up');
  });

  it('a director comes back: disabled again (the config says so) until enabled', async () => {
    const d2 = lab.directors[1]!;
    await lab.restart(d2);
    await waitEstablished(d2);
    // established but not announcing: still only d1
    await new Promise((r) => setTimeout(r, 500));
    expect((await lab.routerClient.routes({ for: VIP }))[0]?.paths).toHaveLength(1);
    await d2.client.enable(name);
    const both = lab.directors.map((d) => d.address).sort();
    await waitNextHops(lab.router, VIP, (h) => h.join() === both.join(), { what: 'after restart' });
  });

  it('a silent link cut (all packets dropped, link up): BFD drops the next hop in < 1.5 s, hold time 9 s', async () => {
    const [d1, d2] = lab.directors as [RoutedLab['directors'][0], RoutedLab['directors'][0]];
    const cut = [
      'add table inet lvs_cut',
      'add chain inet lvs_cut in { type filter hook input priority -300; policy drop; }',
      'add chain inet lvs_cut out { type filter hook output priority -300; policy drop; }',
    ].join('\n');
    const t = performance.now();
    await d2.ns.exec(['nft', '-f', '-'], { input: `${cut}\n`, check: true });
    const ms = await waitNextHops(lab.router, VIP, (h) => h.join() === d1.address, {
      since: t,
      deadlineMs: 8000,
      what: 'after the cut',
    });
    log(
      `silent cut of ${d2.address} → its next hop gone in ${ms.toFixed(0)} ms (BFD 100 ms × 3; BGP hold 9 s)`,
    );
    expect(ms).toBeLessThan(1500);
    // heal: the director's BIRD reconnects (error wait time 1 s) and the VIP comes back, still enabled
    const heal = performance.now();
    await d2.ns.exec(['nft', 'delete', 'table', 'inet', 'lvs_cut'], { check: true });
    const back = await waitNextHops(lab.router, VIP, (h) => h.length === 2, {
      since: heal,
      deadlineMs: 30_000,
      what: 'after healing',
    }).catch(async (e) => {
      log(`router: ${JSON.stringify(await lab.routerClient.showProtocols())}`);
      log(`director: ${JSON.stringify(await d2.client.showProtocols())}`);
      log(`router stderr: ${lab.routerBird.stderr.slice(-1500)}`);
      throw e;
    });
    log(`cut healed → 2 next hops again in ${back.toFixed(0)} ms`);
  }, 60_000);

  it('stop(): SIGTERM, BIRD closes its sessions and the router withdraws at once', async () => {
    const [d1, d2] = lab.directors as [RoutedLab['directors'][0], RoutedLab['directors'][0]];
    await d2.client.close();
    const t = performance.now();
    const exit = await d2.bird.stop();
    const ms = await waitNextHops(lab.router, VIP, (h) => h.join() === d1.address, {
      since: t,
      deadlineMs: 5000,
    });
    log(
      `stop() of ${d2.address}'s BIRD → next hop gone in ${ms.toFixed(0)} ms (exit ${exit.code ?? exit.signal})`,
    );
    expect(exit.code).toBe(0);
    expect(ms).toBeLessThan(1000);
    await lab.restart(d2);
  });
});
