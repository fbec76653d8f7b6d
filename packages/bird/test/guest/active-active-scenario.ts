// Active/active in the qemu guest (kernel IPVS), one run per invocation,
// JSON on stdout: a router running BIRD 2 (ECMP into its kernel), three
// directors each announcing the VIP with BirdRouting and serving it with
// IPVS direct routing (VIP on lo, ARP suppressed, the same three real
// servers added in the same order), three real servers (VIP on lo) that
// answer every line with their name, and a client behind the router
// holding 90 TCP connections. Director 3's BIRD is SIGKILLed; the router
// moves its flows to the other two; each connection is asked again.
//
//   node --import tsx active-active-scenario.ts [mh|rr] [sloppy|no-sloppy]
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { hostRunner, Netns, veth } from '@lvs-ha/lab';
import { BirdRouting } from '../../src/index.js';
import { directorConfig, routerLab, waitNextHops } from '../support/routing.js';

const scheduler = process.argv[2] ?? 'mh';
const sloppy = (process.argv[3] ?? 'sloppy') === 'sloppy';
const VIP = '203.0.113.60';
const FLOWS = 90;
const log = (l: string) => process.stderr.write(`[scenario] ${l}\n`);

const lab = await routerLab(6);
const directors = lab.hosts.slice(0, 3);
const reals = lab.hosts.slice(3);
const client = await Netns.create('client');
const routings: BirdRouting[] = [];
let clientProc: ChildProcess | undefined;
try {
  await veth(lab.router, 'c0', client, 'eth0');
  await lab.router.addAddress('c0', '198.51.100.1/24', ['brd', '+']);
  await lab.router.sysctl('net.ipv4.ip_forward', '1');
  await client.addAddress('eth0', '198.51.100.2/24', ['brd', '+']);
  await client.ip(['route', 'add', 'default', 'via', '198.51.100.1']);

  const suppressArp = (ns: Netns) =>
    ns.sh(
      'sysctl -q -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 ' +
        `net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2 && ip addr add ${VIP}/32 dev lo && ` +
        'ip route add default via 192.0.2.1',
    );
  for (const [i, rs] of reals.entries()) {
    await suppressArp(rs.ns);
    await rs.ns.start([
      'socat',
      'TCP-LISTEN:80,fork,reuseaddr',
      `SYSTEM:while read l; do echo rs${i + 1}; done`,
    ]);
  }
  for (const d of directors) {
    await suppressArp(d.ns);
    const flags = scheduler === 'mh' ? ' -b mh-port' : '';
    // The same real servers in the same order on every director: the same Maglev table.
    await d.ns.sh(
      `sysctl -q -w net.ipv4.vs.sloppy_tcp=${sloppy ? 1 : 0} && ipvsadm -A -t ${VIP}:80 -s ${scheduler}${flags} && ` +
        reals.map((r) => `ipvsadm -a -t ${VIP}:80 -r ${r.address}:80 -g -w 1`).join(' && '),
    );
  }
  for (const [i, d] of directors.entries()) {
    routings.push(
      await BirdRouting.start({
        config: directorConfig(d.address, [VIP]),
        dir: join(lab.dir, `routing${i + 1}`),
        wrap: ['ip', 'netns', 'exec', d.ns.name],
        restart: false,
      }),
    );
  }
  const t0 = performance.now();
  const deadline = t0 + 60_000;
  while (
    !(await Promise.all(routings.map((r) => r.status()))).every(
      (s) => s.sessions[0]?.bgpState === 'Established',
    )
  ) {
    if (performance.now() > deadline) throw new Error('BGP sessions not established');
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const r of routings) await r.announce(VIP);
  const all = directors.map((d) => d.address).sort();
  await waitNextHops(lab.router, VIP, (h) => h.join() === all.join(), { deadlineMs: 30_000 });
  log(`3 next hops after ${(performance.now() - t0).toFixed(0)} ms`);

  clientProc = spawn(
    'ip',
    [
      'netns',
      'exec',
      client.name,
      process.execPath,
      fileURLToPath(new URL('./flow-client.mjs', import.meta.url)),
      VIP,
      '80',
      String(FLOWS),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: clientProc.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error('the client exited');
    return JSON.parse(r.value) as { phase: string; ports: number[]; names: string[] };
  };
  const open = await next();
  const connsOn = async () =>
    Promise.all(
      directors.map(async (d) => {
        const r = await hostRunner.exec(['ip', 'netns', 'exec', d.ns.name, 'ipvsadm', '-Lnc'], {
          check: true,
        });
        return r.stdout.split('\n').filter((l) => /ESTABLISHED/.test(l) && l.includes(`${VIP}:80`)).length;
      }),
    );
  const before = await connsOn();
  log(`flows per director before: ${before.join(', ')}`);

  // Pin the VIP's route to each director in turn (the other two withdraw):
  // every connection must keep its real server whichever director carries it.
  const pins: { director: string; names: string[] }[] = [];
  for (const [i, d] of directors.entries()) {
    for (const [j, r] of routings.entries()) await (i === j ? r.announce(VIP) : r.withdraw(VIP));
    await waitNextHops(lab.router, VIP, (h) => h.join() === d.address, { deadlineMs: 10_000 });
    clientProc.stdin!.write('ping\n');
    pins.push({ director: d.address, names: (await next()).names });
    log(
      `pinned to ${d.address}: ${pins.at(-1)!.names.filter((n, k) => n !== open.names[k]).length} connections changed`,
    );
  }
  for (const r of routings) await r.announce(VIP);
  await waitNextHops(lab.router, VIP, (h) => h.join() === all.join(), { deadlineMs: 10_000 });

  const t = performance.now();
  const pid = (await routings[2]!.status()).pid!;
  process.kill(pid, 'SIGKILL');
  const two = directors
    .slice(0, 2)
    .map((d) => d.address)
    .sort();
  const gone = await waitNextHops(lab.router, VIP, (h) => h.join() === two.join(), {
    since: t,
    deadlineMs: 10_000,
  });
  log(`director 3's BIRD SIGKILLed: its next hop gone in ${gone.toFixed(0)} ms`);

  clientProc.stdin!.write('ping\n');
  const ping = await next();
  const after = await connsOn();
  log(`flows per director after: ${after.join(', ')}`);
  clientProc.stdin!.write('exit\n');
  process.stdout.write(
    `${JSON.stringify({ scheduler, sloppy, nextHopGoneMs: gone, before, after, open: open.names, pins, ping: ping.names })}\n`,
  );
} finally {
  clientProc?.kill('SIGKILL');
  for (const r of routings) await r.stop().catch(() => undefined);
  await client.destroy();
  await lab.destroy();
}
