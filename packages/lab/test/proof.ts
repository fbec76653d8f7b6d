// The lab's proof, run inside the guest (see guest.test.ts, which boots it
// once): the seed's IPVS service set up by hand with ipvsadm, direct routing
// and NAT, and the VIP moved from load1 to load2 by hand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BackgroundProcess,
  Lab,
  type LabHost,
  type Runner,
  seedTopology,
  type Topology,
} from '../src/index.js';

const VIP = seedTopology.vip;
const SERVICE = `${VIP}:80`;

/** The service line of `ipvsadm -Ln --stats --exact -t SERVICE`: connections, packets and bytes. */
export function serviceStats(text: string): { conns: number; inPkts: number; outPkts: number } {
  const m = /^TCP\s+\S+\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(text);
  if (!m) throw new Error(`no service line in:\n${text}`);
  return { conns: Number(m[1]), inPkts: Number(m[2]), outPkts: Number(m[3]) };
}

/**
 * The service's counters once the kernel has folded its per-CPU counters in
 * (the IPVS estimator does that every 2 s): read until `conns` reaches
 * `atLeast` or 6 s pass, then return what the kernel says.
 */
async function settledStats(director: LabHost, atLeast: number) {
  const read = async () => serviceStats(await director.ipvsadm(['-Ln', '--stats', '--exact', '-t', SERVICE]));
  const deadline = Date.now() + 6000;
  let stats = await read();
  while (stats.conns < atLeast && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    stats = await read();
  }
  return stats;
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** Captures, on the client, the Ethernet source of every packet coming from port 80. */
async function captureReplies(client: LabHost): Promise<{ stop(): Promise<{ mac: string; ip: string }[]> }> {
  const dump = await client.start(['tcpdump', '-i', 'eth0', '-e', '-n', '-l', '-U', 'tcp and src port 80']);
  for (let i = 0; i < 100 && !(await dump.output()).includes('listening on'); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    async stop() {
      await new Promise((r) => setTimeout(r, 300));
      const out = await dump.output();
      await dump.stop();
      // 12:00:00.000000 aa:bb:cc:dd:ee:ff > 11:22:33:44:55:66, ethertype IPv4 (0x0800), length 66: 192.0.2.50.80 > ...
      return [
        ...out.matchAll(
          /^\S+ ([0-9a-f:]{17}) > [0-9a-f:]{17}, ethertype IPv4 .*?: (\d+\.\d+\.\d+\.\d+)\.80 > /gm,
        ),
      ].map((m) => ({ mac: m[1]!, ip: m[2]! }));
    },
  };
}

export function proofSuite(getRunner: () => Promise<Runner>): void {
  describe('direct routing (the seed: VIP on load1, wrr 3:1)', () => {
    let lab: Lab;
    const servers: BackgroundProcess[] = [];
    beforeAll(async () => {
      const t = Date.now();
      lab = await Lab.start(seedTopology, { runner: await getRunner() });
      // rs1 runs our Node server, rs2 Debian's Apache (with mod_status): both identify themselves.
      servers.push(await lab.host('rs1').serveHttp());
      servers.push(await lab.host('rs2').startApache());
      const load1 = lab.host('load1');
      await load1.addVip();
      await load1.ipvsadm(['-A', '-t', SERVICE, '-s', 'wrr']);
      await load1.ipvsadm(['-a', '-t', SERVICE, '-r', '192.0.2.21:80', '-g', '-w', '3']);
      await load1.ipvsadm(['-a', '-t', SERVICE, '-r', '192.0.2.22:80', '-g', '-w', '1']);
      process.stderr.write(`[lab] DR topology and services up in the guest in ${Date.now() - t} ms\n`);
    });
    afterAll(async () => {
      for (const s of servers) await s.stop().catch(() => {});
      await lab?.stop();
    });

    it('client requests to the VIP reach both real servers in wrr proportion, answered straight from them', async () => {
      const client = lab.host('client');
      const capture = await captureReplies(client);
      const replies = await client.fetchMany(`http://${VIP}/`, 40);
      const seen = await capture.stop();
      expect(replies.every((r) => r.status === 200)).toBe(true);
      expect(countBy(replies.map((r) => r.body.trim()))).toEqual({ rs1: 30, rs2: 10 });

      const load1 = lab.host('load1');
      const stats = await settledStats(load1, 40);
      expect(stats.conns).toBe(40);
      expect(stats.inPkts).toBeGreaterThanOrEqual(40 * 3);
      // Direct routing: the director never sees the responses.
      expect(stats.outPkts).toBe(0);
      // ...and the client receives them, from the VIP, in frames sent by the real servers themselves.
      const [rs1Mac, rs2Mac, load1Mac] = await Promise.all([
        lab.host('rs1').mac(),
        lab.host('rs2').mac(),
        load1.mac(),
      ]);
      expect(seen.length).toBeGreaterThanOrEqual(40 * 2);
      expect(new Set(seen.map((s) => s.ip))).toEqual(new Set([VIP]));
      expect(new Set(seen.map((s) => s.mac))).toEqual(new Set([rs1Mac, rs2Mac]));
      expect(seen.some((s) => s.mac === load1Mac)).toBe(false);
      // The kernel table as /proc shows it: the VIP in hex, wrr, two real servers routed (Route).
      const table = await load1.ipvsTable();
      expect(table).toMatch(/TCP\s+C0000232:0050 wrr/);
      expect(table.match(/-> C00002(15|16):0050\s+Route/g)).toHaveLength(2);
    });

    it("the seed's health check request works against Apache from the director", async () => {
      const status = await lab.host('load1').fetch('http://192.0.2.22/server-status');
      expect(status.status).toBe(200);
      expect(status.body).toContain('Apache Server Status');
    });

    it('moving the VIP from load1 to load2 by hand: the client follows', async () => {
      const [client, load1, load2] = [lab.host('client'), lab.host('load1'), lab.host('load2')];
      const [load1Mac, load2Mac] = await Promise.all([load1.mac(), load2.mac()]);
      const vipMac = async () => (await client.arpCache()).find((n) => n.address === VIP)?.mac;
      expect(await vipMac()).toBe(load1Mac);
      // load2 gets the same service (as the peer director would), then takes the VIP over.
      await load2.ipvsadm(['-A', '-t', SERVICE, '-s', 'wrr']);
      await load2.ipvsadm(['-a', '-t', SERVICE, '-r', '192.0.2.21:80', '-g', '-w', '3']);
      await load2.ipvsadm(['-a', '-t', SERVICE, '-r', '192.0.2.22:80', '-g', '-w', '1']);
      const before = (await settledStats(load1, 40)).conns;
      await load1.delVip();
      await load2.addVip(); // gratuitous ARP, twice, a second apart
      expect(await vipMac()).toBe(load2Mac);
      const replies = await client.fetchMany(`http://${VIP}/`, 8);
      expect(countBy(replies.map((r) => r.body.trim()))).toEqual({ rs1: 6, rs2: 2 });
      expect((await settledStats(load2, 8)).conns).toBe(8);
      expect((await settledStats(load1, before)).conns).toBe(before);
    });

    it('adds delay and loss with tc netem, clears them, and cuts a link (inside the guest)', async () => {
      const client = lab.host('client');
      await lab.netem('rs1', { delayMs: 100 });
      const slow = await client.exec(['ping', '-c', '1', '-W', '3', '192.0.2.21']);
      expect(Number(/time=([\d.]+) ms/.exec(slow.stdout)?.[1])).toBeGreaterThanOrEqual(190);
      await lab.netem('rs1', { lossPercent: 100 });
      expect((await client.exec(['ping', '-c', '2', '-i', '0.2', '-W', '1', '192.0.2.21'])).code).not.toBe(0);
      await lab.netem('rs1', {});
      expect((await client.exec(['ping', '-c', '1', '-W', '3', '192.0.2.21'])).code).toBe(0);
      await lab.cut('rs1');
      expect((await client.exec(['ping', '-c', '1', '-W', '1', '192.0.2.21'])).code).not.toBe(0);
      await lab.restore('rs1');
      expect((await client.exec(['ping', '-c', '1', '-W', '3', '192.0.2.21'])).code).toBe(0);
    });
  });

  describe('NAT (masquerading through load1)', () => {
    // The real servers only on the back-end segment, their gateway a floating
    // back-side address that the active director holds (here load1, by hand).
    const natTopology: Topology = {
      ...seedTopology,
      hosts: {
        client: seedTopology.hosts.client!,
        load1: seedTopology.hosts.load1!,
        rs1: { role: 'client', addresses: { back: '198.51.100.21/24' }, gateway: '198.51.100.1' },
        rs2: { role: 'client', addresses: { back: '198.51.100.22/24' }, gateway: '198.51.100.1' },
      },
    };
    let lab: Lab;
    const servers: BackgroundProcess[] = [];
    beforeAll(async () => {
      lab = await Lab.start(natTopology, { runner: await getRunner() });
      servers.push(await lab.host('rs1').serveHttp(), await lab.host('rs2').serveHttp());
      const load1 = lab.host('load1');
      await load1.addVip();
      await load1.ns.addAddress(load1.iface('back'), '198.51.100.1/24');
      await load1.ipvsadm(['-A', '-t', SERVICE, '-s', 'wrr']);
      await load1.ipvsadm(['-a', '-t', SERVICE, '-r', '198.51.100.21:80', '-m', '-w', '3']);
      await load1.ipvsadm(['-a', '-t', SERVICE, '-r', '198.51.100.22:80', '-m', '-w', '1']);
    });
    afterAll(async () => {
      for (const s of servers) await s.stop().catch(() => {});
      await lab?.stop();
    });

    it('client requests reach both real servers in wrr proportion, answers come back through the director', async () => {
      const client = lab.host('client');
      const capture = await captureReplies(client);
      const replies = await client.fetchMany(`http://${VIP}/`, 40);
      const seen = await capture.stop();
      expect(countBy(replies.map((r) => r.body.trim()))).toEqual({ rs1: 30, rs2: 10 });
      const load1 = lab.host('load1');
      const stats = await settledStats(load1, 40);
      expect(stats.conns).toBe(40);
      // NAT: every response passes the director, which rewrites its source to the VIP.
      expect(stats.outPkts).toBeGreaterThanOrEqual(40 * 2);
      const load1Mac = await load1.mac();
      expect(new Set(seen.map((s) => s.mac))).toEqual(new Set([load1Mac]));
      expect(new Set(seen.map((s) => s.ip))).toEqual(new Set([VIP]));
      expect(await load1.ipvsTable()).toMatch(/-> C6336415:0050\s+Masq\s+3/);
      // The real servers cannot be reached from the client directly.
      expect((await client.exec(['ping', '-c', '1', '-W', '1', '198.51.100.21'])).code).not.toBe(0);
    });
  });
}
