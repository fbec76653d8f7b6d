// The routing half of active/active on the host (no IPVS here): three
// directors hold the VIP on `lo` with ARP suppressed and announce it with
// the BIRD this package writes; a client behind the router opens 90 TCP
// flows to the VIP; the router's kernel hashes them over the three next
// hops by 5-tuple (fib_multipath_hash_policy=1). Each director answers
// with its own name, so the client sees where each flow went.
//
// Not tested here: that one 5-tuple always takes the same director. In this
// lab it does not: with policy 1 Linux's fib_multipath_hash() takes the
// packet's own L4 hash when it has one, and a packet from a local socket
// carries that socket's random txhash across the veth, so two connections
// with the same ports may take different directors (a NIC's RSS hash of the
// 5-tuple would not). That is the case the directors' `mh` scheduler is for.
import { Netns, veth } from '@lvs-ha/lab';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { vipProtocolName } from '../src/index.js';
import { describeWithBird } from './support/needs.js';
import { type RoutedLab, routedLab, waitEstablished, waitNextHops } from './support/routing.js';

const VIP = '203.0.113.40';
const FLOWS = 90;

function log(line: string): void {
  process.stderr.write(`[bird flows] ${line}\n`);
}

describeWithBird(
  ['root', 'netns'],
  'ECMP over three directors: flows spread, a dead director is routed around',
  () => {
    let lab: RoutedLab;
    let client: Netns;

    /** Opens `FLOWS` TCP connections from distinct source ports; returns the directors that answered, by count. */
    async function spread(firstPort: number): Promise<Map<string, number>> {
      const script = `for i in $(seq 1 ${FLOWS}); do socat -u -t 0.1 -T 2 TCP:${VIP}:80,sourceport=$((${firstPort} + i)),connect-timeout=2 - || echo FAILED; done`;
      const r = await client.sh(script, { timeoutMs: 120_000 });
      const counts = new Map<string, number>();
      for (const line of r.stdout.split('\n').filter(Boolean)) counts.set(line, (counts.get(line) ?? 0) + 1);
      return counts;
    }

    beforeAll(async () => {
      lab = await routedLab({ directors: 3, vips: [VIP] });
      client = await Netns.create('client');
      await veth(lab.router, 'c0', client, 'eth0');
      await lab.router.addAddress('c0', '198.51.100.1/24', ['brd', '+']);
      await lab.router.sysctl('net.ipv4.ip_forward', '1');
      await client.addAddress('eth0', '198.51.100.2/24', ['brd', '+']);
      await client.ip(['route', 'add', 'default', 'via', '198.51.100.1']);
      for (const [i, d] of lab.directors.entries()) {
        // the VIP on lo, never answered for by ARP (the routers send to the director's own address)
        await d.ns.sysctl('net.ipv4.conf.all.arp_ignore', '1');
        await d.ns.sysctl('net.ipv4.conf.all.arp_announce', '2');
        await d.ns.addAddress('lo', `${VIP}/32`);
        await d.ns.ip(['route', 'add', 'default', 'via', '192.0.2.1']);
        await d.ns.start([
          'socat',
          `TCP-LISTEN:80,bind=${VIP},fork,reuseaddr`,
          `SYSTEM:echo director${i + 1}`,
        ]);
        await waitEstablished(d);
      }
    }, 90_000);

    afterAll(async () => {
      await client?.destroy();
      await lab?.destroy();
    });

    it('three directors enabled: 3 next hops; 90 flows reach all three', async () => {
      const t = performance.now();
      for (const d of lab.directors) await d.client.enable(vipProtocolName(VIP));
      const all = lab.directors.map((d) => d.address).sort();
      const ms = await waitNextHops(lab.router, VIP, (h) => h.join() === all.join(), { since: t });
      log(`3 directors enabled → 3 next hops in ${ms.toFixed(0)} ms`);
      const counts = await spread(20000);
      log(`${FLOWS} flows: ${JSON.stringify(Object.fromEntries(counts))}`);
      expect(counts.has('FAILED')).toBe(false);
      expect([...counts.keys()].sort()).toEqual(['director1', 'director2', 'director3']);
      for (const n of counts.values()) expect(n).toBeGreaterThan(FLOWS / 3 / 3);
    });

    it("director3's BIRD SIGKILLed: its next hop goes in < 1 s and new flows reach only the other two", async () => {
      const d3 = lab.directors[2]!;
      const t = performance.now();
      d3.bird.kill('SIGKILL');
      const rest = lab.directors.slice(0, 2).map((d) => d.address);
      const ms = await waitNextHops(lab.router, VIP, (h) => h.join() === rest.join(), {
        since: t,
        deadlineMs: 5000,
      });
      log(`SIGKILL of director3's BIRD → 2 next hops in ${ms.toFixed(0)} ms`);
      expect(ms).toBeLessThan(1000);
      const counts = await spread(30000);
      log(`${FLOWS} flows after: ${JSON.stringify(Object.fromEntries(counts))}`);
      expect([...counts.keys()].sort()).toEqual(['director1', 'director2']);
    });

    it('a director withdrawing (disable) takes no new flows; the others take them all', async () => {
      await lab.directors[1]!.client.disable(vipProtocolName(VIP));
      await waitNextHops(lab.router, VIP, (h) => h.join() === lab.directors[0]!.address);
      const counts = await spread(40000);
      expect(Object.fromEntries(counts)).toEqual({ director1: FLOWS });
    });
  },
);
