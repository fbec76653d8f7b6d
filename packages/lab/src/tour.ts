// The guided tour of the seed's network that `lvs-ha lab` prints: the
// topology, Apache with mod_status on the real servers, the seed's service
// set up by hand on load1 (wrr, gate, weight 5 each, as its ldirectord.cf),
// client requests and which real server answered, the counters, and the VIP
// moving to load2. Here (not in the command) so a lab test runs it.
import { capabilitiesSync } from './capabilities.js';
import { LabError } from './errors.js';
import { Guest, type GuestBootOptions } from './guest.js';
import type { Runner } from './runner.js';
import { Lab, type LabHost, seedTopology } from './topology.js';

export interface TourOptions {
  /** Client requests to the VIP in each round (default 12). */
  requests?: number;
  /** Keep the lab up this long before tearing it down (default 0). */
  holdSeconds?: number;
  /** Where to run: default this machine when its kernel has IPVS, else a guest booted (and shut down) by the tour. */
  runner?: Runner;
  guest?: GuestBootOptions;
  /** Receives the tour, a line at a time. */
  say: (line: string) => void;
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

async function addSeedService(director: LabHost, vip: string): Promise<void> {
  await director.ipvsadm(['-A', '-t', `${vip}:80`, '-s', 'wrr']);
  for (const rs of ['192.0.2.21', '192.0.2.22']) {
    await director.ipvsadm(['-a', '-t', `${vip}:80`, '-r', `${rs}:80`, '-g', '-w', '5']);
  }
}

/** Runs the tour; everything it started is torn down when it returns or throws. */
export async function seedTour(o: TourOptions): Promise<void> {
  const say = o.say;
  const requests = o.requests ?? 12;
  const started = Date.now();
  let guest: Guest | undefined;
  let runner = o.runner;
  let lab: Lab | undefined;
  const servers: { stop(): Promise<void> }[] = [];
  try {
    if (!runner) {
      const caps = capabilitiesSync();
      if (!caps.root || !caps.netns || (!caps.hostIpvs && !caps.guest)) {
        throw new LabError('NOT_SUPPORTED', `this machine cannot run the lab: ${caps.reasons.join('; ')}`);
      }
      if (!caps.hostIpvs) {
        say(
          'This kernel has no IPVS: booting a qemu guest with Debian’s kernel (host root shared read-only)…',
        );
        guest = await Guest.boot({ log: (l) => say(`  ${l}`), ...o.guest });
      }
      runner = guest;
    }
    lab = await Lab.start(seedTopology, runner ? { runner } : {});
    const where = lab.runner instanceof Guest ? `in the guest (${lab.runner.kernel})` : 'on this machine';
    const vip = seedTopology.vip;
    say(`\n1. The seed's network ${where}: one namespace per host, a bridge per segment.`);
    for (const h of lab.hosts) say(`  ${h.name} (${h.spec.role})\n${indent(await h.ipAddr())}`);

    say('\n2. Apache (Debian, with mod_status) on the real servers; rs1 and rs2 hold the VIP on lo');
    say('   with arp_ignore=1 and arp_announce=2, so only the director answers ARP for it.');
    for (const name of ['rs1', 'rs2']) servers.push(await lab.host(name).startApache());
    for (const rs of ['192.0.2.21', '192.0.2.22']) {
      const check = await lab.host('load1').fetch(`http://${rs}/server-status`);
      const found = check.body.includes('Apache Server Status') ? 'found' : 'MISSING';
      say(`   load1 -> GET http://${rs}/server-status: ${check.status}, "Apache Server Status" ${found}`);
    }

    say(`\n3. load1 takes the VIP ${vip} (with gratuitous ARP) and gets the seed's service by hand:`);
    const load1 = lab.host('load1');
    await load1.addVip();
    await addSeedService(load1, vip);
    say(`   $ ipvsadm -Ln   (on load1)\n${indent(await load1.ipvsadm(['-Ln']))}`);

    const client = lab.host('client');
    const ask = async (n: number) => {
      const replies = await client.fetchMany(`http://${vip}/`, n);
      const counts: Record<string, number> = {};
      for (const r of replies) counts[r.body.trim()] = (counts[r.body.trim()] ?? 0) + 1;
      return Object.entries(counts)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ');
    };
    if (requests > 0) {
      say(`\n4. The client sends ${requests} requests to http://${vip}/ (a new connection each):`);
      say(`   answered by ${await ask(requests)}`);
      say('   $ ipvsadm -Ln --stats   (OutPkts stays 0: with direct routing replies bypass the director)');
      await new Promise((r) => setTimeout(r, 2200)); // IPVS folds its per-CPU counters in every 2 s
      say(indent(await load1.ipvsadm(['-Ln', '--stats'])));
    }

    const vipMac = async () => (await client.arpCache()).find((n) => n.address === vip)?.mac ?? '(none)';
    say('\n5. The VIP moves by hand: load1 drops it, load2 takes it and announces it.');
    say(`   client's ARP entry for ${vip}: ${await vipMac()} (load1 is ${await load1.mac()})`);
    const load2 = lab.host('load2');
    await addSeedService(load2, vip);
    await load1.delVip();
    await load2.addVip();
    say(`   client's ARP entry for ${vip}: ${await vipMac()} (load2 is ${await load2.mac()})`);
    if (requests > 0) say(`   ${requests} more requests: answered by ${await ask(requests)}`);

    if ((o.holdSeconds ?? 0) > 0) {
      say(
        `\nHolding the lab up for ${o.holdSeconds} s (namespaces: ${lab.hosts.map((h) => h.ns.name).join(' ')}).`,
      );
      await new Promise((r) => setTimeout(r, (o.holdSeconds ?? 0) * 1000));
    }
  } finally {
    for (const s of servers) await s.stop().catch(() => {});
    await lab?.stop();
    await guest?.shutdown();
    say(`\nTorn down. The tour took ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  }
}
