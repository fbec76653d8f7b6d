// `lvs-ha lab`: brings the seed's network up (client, load1, load2, rs1,
// rs2; in a qemu guest with kernel IPVS when this machine's kernel has
// none), sets up the seed's service by hand (VIP on load1, wrr, direct
// routing, Apache with mod_status on the real servers), prints a short
// guided tour, and tears everything down.
import type { Guest, Lab } from '@lvs-ha/lab';
import type { CliCommand, CliIo } from '../cli-main.js';

const HELP = `usage: lvs-ha lab [--requests N] [--hold SECONDS]

Brings the seed topology up and shows it: addresses, the IPVS table, client
requests to the VIP and which real server answered, the VIP moving to load2.
Needs root; boots a qemu guest (Debian's kernel) when this kernel has no IPVS.

  --requests N     client requests to send to the VIP (default 12)
  --hold SECONDS   keep the lab up this long before tearing it down (default 0)
`;

interface LabOptions {
  requests: number;
  holdSeconds: number;
}

function parseArgs(args: readonly string[]): LabOptions | string {
  const o: LabOptions = { requests: 12, holdSeconds: 0 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = args[i + 1];
    const int = (name: string, max: number) => {
      const n = Number(value);
      if (value === undefined || !Number.isInteger(n) || n < 0 || n > max) {
        throw new Error(`${name} needs an integer from 0 to ${max}, got ${value ?? 'nothing'}`);
      }
      i++;
      return n;
    };
    try {
      if (a === '--requests') o.requests = int('--requests', 1000);
      else if (a === '--hold') o.holdSeconds = int('--hold', 86_400);
      else return `unknown option ${a}`;
    } catch (e) {
      return (e as Error).message;
    }
  }
  return o;
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

async function tour(o: LabOptions, io: CliIo): Promise<number> {
  const lab = await import('@lvs-ha/lab');
  const caps = await lab.capabilities();
  if (!caps.root || !caps.netns || (!caps.hostIpvs && !caps.guest)) {
    io.stderr(
      `lvs-ha lab: this machine cannot run the lab:\n${caps.reasons.map((r) => `  - ${r}`).join('\n')}\n`,
    );
    return 1;
  }
  const started = Date.now();
  const say = (s: string) => io.stdout(`${s}\n`);
  let guest: Guest | undefined;
  let seed: Lab | undefined;
  const servers: { stop(): Promise<void> }[] = [];
  try {
    if (!caps.hostIpvs) {
      say('This kernel has no IPVS: booting a qemu guest with Debian’s kernel (host root shared read-only)…');
      guest = await lab.Guest.boot({ log: (l) => say(`  ${l}`) });
    }
    const where = guest ? `in the guest (${guest.kernel})` : 'on this machine';
    seed = await lab.Lab.start(lab.seedTopology, guest ? { runner: guest } : {});
    const vip = lab.seedTopology.vip;
    say(`\n1. The seed's network ${where}: one namespace per host, a bridge per segment.`);
    for (const h of seed.hosts) say(`  ${h.name} (${h.spec.role})\n${indent(await h.ipAddr())}`);

    say('\n2. Apache (Debian, with mod_status) on the real servers; rs1 and rs2 hold the VIP on lo');
    say('   with arp_ignore=1 and arp_announce=2, so only the director answers ARP for it.');
    for (const name of ['rs1', 'rs2']) servers.push(await seed.host(name).startApache());
    const check = await seed.host('load1').fetch('http://192.0.2.21/server-status');
    say(
      `   load1 -> GET http://192.0.2.21/server-status: ${check.status}, "Apache Server Status" ${check.body.includes('Apache Server Status') ? 'found' : 'MISSING'}`,
    );

    say(`\n3. load1 takes the VIP ${vip} (with gratuitous ARP) and gets the seed's service by hand:`);
    const load1 = seed.host('load1');
    await load1.addVip();
    await load1.ipvsadm(['-A', '-t', `${vip}:80`, '-s', 'wrr']);
    for (const rs of ['192.0.2.21', '192.0.2.22']) {
      await load1.ipvsadm(['-a', '-t', `${vip}:80`, '-r', `${rs}:80`, '-g', '-w', '5']);
    }
    say(`   $ ipvsadm -Ln   (on load1)\n${indent(await load1.ipvsadm(['-Ln']))}`);

    const client = seed.host('client');
    const ask = async (n: number) => {
      const replies = await client.fetchMany(`http://${vip}/`, n);
      const counts: Record<string, number> = {};
      for (const r of replies) counts[r.body.trim()] = (counts[r.body.trim()] ?? 0) + 1;
      return Object.entries(counts)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ');
    };
    if (o.requests > 0) {
      say(`\n4. The client sends ${o.requests} requests to http://${vip}/ (a new connection each):`);
      say(`   answered by ${await ask(o.requests)}`);
      say(`   $ ipvsadm -Ln --stats   (OutPkts stays 0: with direct routing replies bypass the director)`);
      await new Promise((r) => setTimeout(r, 2200)); // IPVS folds per-CPU counters in every 2 s
      say(indent(await load1.ipvsadm(['-Ln', '--stats'])));
    }

    const vipMac = async () => (await client.arpCache()).find((n) => n.address === vip)?.mac ?? '(none)';
    say(`\n5. The VIP moves by hand: load1 drops it, load2 takes it and announces it.`);
    say(`   client's ARP entry for ${vip}: ${await vipMac()} (load1 is ${await load1.mac()})`);
    const load2 = seed.host('load2');
    await load2.ipvsadm(['-A', '-t', `${vip}:80`, '-s', 'wrr']);
    for (const rs of ['192.0.2.21', '192.0.2.22']) {
      await load2.ipvsadm(['-a', '-t', `${vip}:80`, '-r', `${rs}:80`, '-g', '-w', '5']);
    }
    await load1.delVip();
    await load2.addVip();
    say(`   client's ARP entry for ${vip}: ${await vipMac()} (load2 is ${await load2.mac()})`);
    if (o.requests > 0) say(`   ${o.requests} more requests: answered by ${await ask(o.requests)}`);

    if (o.holdSeconds > 0) {
      say(
        `\nHolding the lab up for ${o.holdSeconds} s (namespaces: ${seed.hosts.map((h) => h.ns.name).join(' ')}).`,
      );
      await new Promise((r) => setTimeout(r, o.holdSeconds * 1000));
    }
    return 0;
  } finally {
    for (const s of servers) await s.stop().catch(() => {});
    await seed?.stop();
    await guest?.shutdown();
    say(`\nTorn down. The tour took ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  }
}

export const labCommand: CliCommand = {
  summary:
    'bring the seed topology up (qemu guest when the kernel has no IPVS), show a guided tour, tear it down',
  async run(args, io) {
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout(HELP);
      return 0;
    }
    const o = parseArgs(args);
    if (typeof o === 'string') {
      io.stderr(`lvs-ha lab: ${o}\n${HELP}`);
      return 2;
    }
    try {
      return await tour(o, io);
    } catch (e) {
      io.stderr(`lvs-ha lab: ${(e as Error).message}\n`);
      return 1;
    }
  },
};
