// The seed's network in the lab's qemu guest (real kernel IPVS), one boot for
// the file. First `lvs-ha director` on load1: the seed's own ldirectord.cf
// (addresses moved to the documentation range, checkinterval 1), real
// servers answering /server-status, a client sending requests to the VIP;
// the table follows the real servers' health the way ldirectord's does, and
// the traffic with it. Then `lvs-ha start` on load1 and load2: the seed's
// ha.cf/haresources pair; load1 dies, load2 takes the VIP and the table
// over; load1 comes back and takes them back (auto_failback on).
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BackgroundProcess, describeWithLab, Guest, Lab, seedTopology, tsxLoader } from '@lvs-ha/lab';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';

vi.setConfig({ testTimeout: 180_000 });

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
// tsx maps the @lvs-ha packages to their sources inside the guest (no build needed).
const env = { TSX_TSCONFIG_PATH: fileURLToPath(new URL('guest.tsconfig.json', import.meta.url)) };
const seedCf = readFileSync(
  fileURLToPath(new URL('../../../examples/seed/ha.d/ldirectord.cf', import.meta.url)),
  'utf8',
);

let booted: Promise<Guest> | undefined;
function sharedGuest(): Promise<Guest> {
  booted ??= Guest.boot({ log: (l) => process.stderr.write(`[lab] ${l}\n`) });
  return booted;
}
afterAll(async () => {
  if (booted) await (await booted.catch(() => undefined))?.shutdown();
});

/** The seed's ldirectord.cf, on the lab's addresses, checked every second. */
const labCf = () =>
  seedCf
    .replace('checkinterval = 5', 'checkinterval = 1')
    .replaceAll('12.3.4.50', '192.0.2.50')
    .replace('12.3.4.100', '192.0.2.21')
    .replace('12.3.4.101', '192.0.2.22')
    .replace('logfile = "local0"', '');

describeWithLab(['guest'], 'lvs-ha director in the seed topology (qemu guest, real IPVS)', () => {
  let guest: Guest;
  let lab: Lab;
  let director: BackgroundProcess;
  const rs: Record<string, BackgroundProcess> = {};
  const serve = async (h: 'rs1' | 'rs2') => {
    rs[h] = await lab.host(h).serveHttp({ body: `Apache Server Status for ${h}\n` });
  };
  const table = () => lab.host('load1').ipvsadm(['-Sn']);
  const until = async (pred: (t: string) => boolean, ms = 60_000) => {
    const t0 = Date.now();
    for (;;) {
      const t = await table();
      if (pred(t)) return t;
      if (Date.now() - t0 > ms)
        throw new Error(`table never changed as expected; last:\n${t}${await director.output()}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  const served = async (n: number) =>
    (await lab.host('client').fetchMany('http://192.0.2.50/server-status', n)).map((r) => r.body.trim());

  beforeAll(async () => {
    guest = await sharedGuest();
    lab = await Lab.start(seedTopology, { runner: guest });
    await Promise.all([serve('rs1'), serve('rs2')]);
    await lab.host('load1').addVip();
    const file = join(guest.shareDir, 'ldirectord.cf');
    writeFileSync(file, labCf());
    director = await lab
      .host('load1')
      .ns.start(['node', '--import', tsxLoader(), cli, 'director', '--config', file], {
        env,
      });
  }, 400_000);
  afterAll(async () => {
    await director?.stop().catch(() => {});
    await lab?.stop();
  });

  it("makes the seed's service and the client's requests reach both real servers", async () => {
    const t = await until((x) => x.includes('192.0.2.21:80') && x.includes('192.0.2.22:80'));
    expect(t).toBe(
      '-A -t 192.0.2.50:80 -s wrr\n-a -t 192.0.2.50:80 -r 192.0.2.21:80 -g -w 5\n-a -t 192.0.2.50:80 -r 192.0.2.22:80 -g -w 5\n',
    );
    const bodies = await served(10);
    expect(bodies.filter((b) => b.endsWith('rs1')).length).toBe(5);
    expect(bodies.filter((b) => b.endsWith('rs2')).length).toBe(5);
  });

  it('takes a dead real server out, falls back when both are dead, and brings them back', async () => {
    await rs.rs1?.stop();
    await until((x) => !x.includes('192.0.2.21:80'));
    expect(await served(4)).toEqual(Array(4).fill('Apache Server Status for rs2'));
    await rs.rs2?.stop();
    const fallback = await until((x) => x.includes('127.0.0.1:80'));
    expect(fallback).toBe('-A -t 192.0.2.50:80 -s wrr\n-a -t 192.0.2.50:80 -r 127.0.0.1:80 -g -w 1\n');
    expect(await lab.host('load1').ipvsadm(['-Ln'])).toMatch(/-> 127\.0\.0\.1:80 +Route +1 /);
    await serve('rs1');
    const back = await until((x) => x.includes('192.0.2.21:80') && !x.includes('127.0.0.1:80'));
    expect(back).toBe('-A -t 192.0.2.50:80 -s wrr\n-a -t 192.0.2.50:80 -r 192.0.2.21:80 -g -w 5\n');
    const out = await director.output();
    expect(out).toMatch(/tcp:192\.0\.2\.50:80 real 192\.0\.2\.21:80 down \(refused: /);
    expect(out).toMatch(/delete real 192\.0\.2\.21:80 from 192\.0\.2\.50:80\/tcp/);
    expect(out).toMatch(/add real 127\.0\.0\.1:80 to 192\.0\.2\.50:80\/tcp \(gate, weight 1\)/);
  });

  it('SIGTERM: the virtual service is removed (cleanstop) and the command says stopped', async () => {
    await director.stop();
    expect(await table()).toBe('');
    expect(await director.output()).toMatch(/delete virtual 192\.0\.2\.50:80\/tcp\nstopped\n$/);
  });
});

describeWithLab(
  ['guest'],
  'lvs-ha start on load1 and load2: fail-over and fail-back (qemu guest, real IPVS)',
  () => {
    let guest: Guest;
    let lab: Lab;
    const node: Record<string, BackgroundProcess> = {};
    const dirs: Record<string, string> = {};
    /** The node the test killed (its exit is expected). */
    let dead: string | undefined;
    const start = async (name: 'load1' | 'load2') => {
      node[name] = await lab
        .host(name)
        .ns.start(
          [
            'node',
            '--import',
            tsxLoader(),
            cli,
            'start',
            '--config-dir',
            dirs[name] as string,
            '--node',
            name,
          ],
          {
            env,
          },
        );
    };
    const holds = async (name: string) => {
      const addr = await lab.host(name).ipAddr();
      const table = await lab.host(name).ipvsadm(['-Sn']);
      return { vip: addr.includes('192.0.2.50/32'), table };
    };
    const full =
      '-A -t 192.0.2.50:80 -s wrr\n-a -t 192.0.2.50:80 -r 192.0.2.21:80 -g -w 5\n-a -t 192.0.2.50:80 -r 192.0.2.22:80 -g -w 5\n';
    const until = async (what: string, pred: () => Promise<boolean>, ms = 90_000) => {
      const t0 = Date.now();
      while (!(await pred())) {
        for (const [n, p] of Object.entries(node))
          if (n !== dead && !(await p.running()))
            throw new Error(`lvs-ha start on ${n} exited: ${await p.output()}`);
        if (Date.now() - t0 > ms)
          throw new Error(
            `${what} never happened; load1: ${await node.load1?.output()}\nload2: ${await node.load2?.output()}`,
          );
        await new Promise((r) => setTimeout(r, 250));
      }
      return Date.now() - t0;
    };
    const served = async (n: number) =>
      (await lab.host('client').fetchMany('http://192.0.2.50/server-status', n)).map((r) => r.body.trim());

    beforeAll(async () => {
      guest = await sharedGuest();
      lab = await Lab.start(seedTopology, { runner: guest });
      await lab.host('rs1').serveHttp({ body: 'Apache Server Status for rs1\n' });
      await lab.host('rs2').serveHttp({ body: 'Apache Server Status for rs2\n' });
      // The seed's files, on the lab's addresses, with quicker Heartbeat timings.
      for (const name of ['load1', 'load2']) {
        const dir = join(guest.shareDir, `ha.d-${name}`);
        mkdirSync(dir, { recursive: true });
        writeFileSync(
          join(dir, 'ha.cf'),
          'keepalive 500ms\ndeadtime 4\nwarntime 2\ninitdead 8\nbcast eth1\nauto_failback on\nnode load1 load2\n',
        );
        writeFileSync(join(dir, 'authkeys'), 'auth 1\n1 sha1 lvs-ha-lab-secret\n');
        chmodSync(join(dir, 'authkeys'), 0o600);
        writeFileSync(join(dir, 'haresources'), 'load1 192.0.2.50/32/eth0 ldirectord::ldirectord.cf\n');
        writeFileSync(join(dir, 'ldirectord.cf'), labCf());
        dirs[name] = dir;
      }
      await Promise.all([start('load1'), start('load2')]);
    }, 400_000);
    afterAll(async () => {
      for (const p of Object.values(node)) await p.stop().catch(() => {});
      await lab?.stop();
    });

    it("load1 takes its group: the VIP and the seed's table; the client is served by both real servers", async () => {
      await until('load1 holding the VIP and the full table, load2 nothing', async () => {
        const [a, b] = [await holds('load1'), await holds('load2')];
        return a.vip && a.table === full && !b.vip && b.table === '';
      });
      // Neither thought the other dead while they started (a stall longer than deadtime would).
      expect(await node.load1?.output()).not.toMatch(/node load2 dead/);
      expect(await node.load2?.output()).not.toMatch(/node load1 dead/);
      const bodies = await served(10);
      expect(bodies.filter((b) => b.endsWith('rs1')).length).toBe(5);
      expect(bodies.filter((b) => b.endsWith('rs2')).length).toBe(5);
    });

    it('load1 dies (killed, links cut): load2 takes the VIP and the table over and the client is served again', async () => {
      dead = 'load1';
      await lab.host('load1').killAll('KILL');
      await lab.cut('load1', 'front');
      await lab.cut('load1', 'back');
      const tookMs = await until('load2 holding the VIP and the full table', async () => {
        const h = await holds('load2');
        return h.vip && h.table === full;
      });
      process.stderr.write(`[lvs-ha lab] load1 killed -> load2 holds VIP and table in ${tookMs} ms\n`);
      const bodies = await served(10);
      expect(bodies.filter((b) => b.endsWith('rs1')).length).toBe(5);
      expect(bodies.filter((b) => b.endsWith('rs2')).length).toBe(5);
      const out = await node.load2?.output();
      expect(out).toMatch(/node load1 dead/);
      expect(out).toMatch(/acquire foreign \(mach_down\): 192\.0\.2\.50\/32\/eth0/);
      expect(out).toMatch(/vip 192\.0\.2\.50\/32\/eth0 up on eth0/);
    });

    it('load1 comes back (rebooted: no VIP, empty table): auto_failback gives it its group again', async () => {
      await lab.host('load1').ns.exec(['ip', 'addr', 'del', '192.0.2.50/32', 'dev', 'eth0']);
      await lab.host('load1').ipvsadm(['-C']);
      await lab.restore('load1', 'front');
      await lab.restore('load1', 'back');
      await start('load1');
      dead = undefined;
      await until('load1 holding the VIP and the table again, load2 nothing', async () => {
        const [a, b] = [await holds('load1'), await holds('load2')];
        return a.vip && a.table === full && !b.vip && b.table === '';
      });
      const bodies = await served(4);
      expect(bodies.length).toBe(4);
      expect(await node.load2?.output()).toMatch(/release foreign/);
    });
  },
);
