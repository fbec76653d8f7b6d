// The faults that need kernel IPVS, in the lab's qemu guest on the seed's
// network: `lvs-ha start` on load1 and load2 from the seed's haresources
// and ldirectord.cf (one config directory each), Apache-like real servers.
// After each fault the invariant is read from outside, from every
// director's addresses and IPVS table (`ip addr`, `ipvsadm -Sn` in its
// namespace), never by asking lvs-ha: exactly one live director holds the
// VIP, its table is the seed's, the other's table is empty, and the client
// is answered by both real servers.
// 1. load2's ldirectord.cf is broken by an edit, then load1 dies (killed,
//    links cut): load2 takes over with the last good configuration it read
//    at start (a takeover into a VIP with no table would be a black hole).
// 2. load1 is restarted after its SIGKILL without a reboot (VIP and table
//    still there, links back): it takes them down before it joins
//    (Heartbeat's verifyallidle), then auto_failback gives its group back.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BackgroundProcess, Lab, labLdirectordCf, seedTopology, tsxLoader } from '@lvs-ha/lab';
import { describeWithLab, guestPerFile } from '@lvs-ha/lab/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const env = { TSX_TSCONFIG_PATH: fileURLToPath(new URL('guest.tsconfig.json', import.meta.url)) };
const VIP = seedTopology.vip;
const TABLE = `-A -t ${VIP}:80 -s wrr\n-a -t ${VIP}:80 -r 192.0.2.21:80 -g -w 5\n-a -t ${VIP}:80 -r 192.0.2.22:80 -g -w 5\n`;
const HA_CF =
  'keepalive 500ms\ndeadtime 4\nwarntime 2\ninitdead 8\nbcast eth1\nauto_failback on\nnode load1 load2\n';
const sharedGuest = guestPerFile();

describeWithLab(['guest'], 'lvs-ha start under faults that need IPVS (qemu guest, real kernel)', () => {
  let lab: Lab;
  let dir: string;
  const nodes: Record<string, BackgroundProcess> = {};
  const dead = new Set<string>();
  const servers: BackgroundProcess[] = [];

  const start = async (name: string) => {
    nodes[name] = await lab
      .host(name)
      .ns.start(
        [
          'node',
          '--import',
          tsxLoader(),
          cli,
          'start',
          '--config-dir',
          join(dir, name),
          '--node',
          name,
          '--control',
          `/tmp/lvs-ha-faults-${process.pid}-${name}.sock`,
        ],
        { env },
      );
  };
  /** What a director holds, read from its namespace. */
  const holds = async (name: string) => {
    const h = lab.host(name);
    return { vip: (await h.ipAddr()).includes(`${VIP}/32`), table: await h.ipvsadm(['-Sn']) };
  };
  /** The invariant over the live directors: who has the VIP, and whether the holder's table is the seed's. */
  const invariant = async () => {
    const live = ['load1', 'load2'].filter((n) => !dead.has(n));
    const state = Object.fromEntries(await Promise.all(live.map(async (n) => [n, await holds(n)] as const)));
    const holders = live.filter((n) => state[n]?.vip);
    return { holders, state };
  };
  const outputs = async () =>
    (await Promise.all(Object.entries(nodes).map(async ([n, p]) => `--- ${n}\n${await p.output()}`))).join(
      '\n',
    );
  /** Polls `pred` with a deadline; meanwhile two live holders at any read fail at once. */
  const until = async (
    what: string,
    pred: (i: Awaited<ReturnType<typeof invariant>>) => boolean,
    ms: number,
  ) => {
    const t0 = Date.now();
    for (;;) {
      const i = await invariant();
      for (const n of ['load1', 'load2'])
        if (!dead.has(n) && nodes[n] && !(await nodes[n].running()))
          throw new Error(`lvs-ha start on ${n} exited:\n${await outputs()}`);
      if (i.holders.length > 1)
        throw new Error(`split brain: ${i.holders.join(' and ')} both hold ${VIP}\n${await outputs()}`);
      if (pred(i)) return Date.now() - t0;
      if (Date.now() - t0 > ms)
        throw new Error(`${what}: not within ${ms / 1000} s; last ${JSON.stringify(i)}\n${await outputs()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const served = async () => {
    const counts: Record<string, number> = {};
    for (const r of await lab.host('client').fetchMany(`http://${VIP}/server-status`, 10)) {
      const who = /rs[12]/.exec(r.body)?.[0] ?? `HTTP ${r.status}`;
      counts[who] = (counts[who] ?? 0) + 1;
    }
    return counts;
  };

  beforeAll(async () => {
    const guest = await sharedGuest();
    lab = await Lab.start(seedTopology, { runner: guest });
    dir = join(guest.shareDir, `faults-${process.pid}`);
    for (const name of ['load1', 'load2']) {
      const d = join(dir, name);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'ha.cf'), HA_CF);
      writeFileSync(join(d, 'authkeys'), 'auth 1\n1 sha1 lvs-ha-faults\n');
      chmodSync(join(d, 'authkeys'), 0o600);
      writeFileSync(join(d, 'haresources'), `load1 ${VIP}/32/eth0 ldirectord::ldirectord.cf\n`);
      writeFileSync(join(d, 'ldirectord.cf'), labLdirectordCf());
    }
    for (const rs of ['rs1', 'rs2'])
      servers.push(await lab.host(rs).serveHttp({ body: `Apache Server Status for ${rs}\n` }));
    await Promise.all([start('load1'), start('load2')]);
    // Node and tsx start under emulation in about 30 s
    await until(
      'load1 holds the VIP and the table, load2 nothing',
      (i) => i.holders[0] === 'load1' && i.state.load1?.table === TABLE && i.state.load2?.table === '',
      180_000,
    );
  }, 400_000);
  afterAll(async () => {
    for (const p of Object.values(nodes)) await p.stop().catch(() => {});
    for (const s of servers) await s.stop().catch(() => {});
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a broken ldirectord.cf at takeover: the new holder builds the table from the last good one', async () => {
    // an edit that ldirectord refuses (a check type it does not know), saved before the takeover
    writeFileSync(
      join(dir, 'load2', 'ldirectord.cf'),
      `${labLdirectordCf()}\nvirtual = ${VIP}:443\n\treal = 192.0.2.21:443 gate 5\n\tchecktype = bogus\n`,
    );
    dead.add('load1');
    await lab.host('load1').killAll('KILL');
    await lab.cut('load1', 'front');
    await lab.cut('load1', 'back');
    const ms = await until(
      'load2 holds the VIP and the whole table',
      (i) => i.holders[0] === 'load2' && i.state.load2?.table === TABLE,
      30_000,
    );
    process.stderr.write(
      `[lvs-ha faults, guest] broken ldirectord.cf at takeover: load2 serves ${ms} ms after the kill\n`,
    );
    const out = await nodes.load2!.output();
    expect(out).toMatch(/ldirectord\.cf:\d+:\d+: /);
    expect(out).toMatch(/has errors: starting with its last good configuration/);
    expect(await served()).toEqual({ rs1: 5, rs2: 5 });
    // the table was in the kernel before the VIP was announced, and never on the fallback
    expect(out.indexOf('add real 192.0.2.21:80')).toBeLessThan(out.indexOf(`vip ${VIP}/32/eth0 up`));
    expect(out).not.toMatch(/add real 127\.0\.0\.1:80/);
    // lvs-ha status (its control socket, asked by a plain node one-liner: no tsx to start under emulation)
    // says what ipvsadm -Ln says, with the checks' view
    const ask = `const s=require('net').connect(process.argv[1]);let b='';s.on('data',(d)=>b+=d);s.on('end',()=>process.stdout.write(b));s.write('{"op":"status"}\\n');`;
    const answer = JSON.parse(
      (await lab.host('load2').exec(['node', '-e', ask, `/tmp/lvs-ha-faults-${process.pid}-load2.sock`]))
        .stdout,
    );
    const [v] = answer.status.ipvs[0].virtuals;
    expect(v).toMatchObject({ service: `${VIP}:80/tcp`, scheduler: 'wrr', inKernel: true });
    expect(
      v.reals.map((r: { address: string; health: string; kernel?: { weight: number } }) => [
        r.address,
        r.health,
        r.kernel?.weight,
      ]),
    ).toEqual([
      ['192.0.2.21', 'up', 5],
      ['192.0.2.22', 'up', 5],
    ]);
    const ln = await lab.host('load2').ipvsadm(['-Ln']);
    expect(ln).toMatch(/-> 192\.0\.2\.21:80 +Route +5 /);
    expect(answer.status.vips).toEqual([`${VIP}/32/eth0`]);
  }, 120_000);

  it('load1 restarted after its SIGKILL without a reboot: its leftover VIP and table go before it joins, then it takes its group back', async () => {
    // load1 was killed, not rebooted: the VIP and the table it had are still there
    expect(await holds('load1')).toEqual({ vip: true, table: TABLE });
    writeFileSync(join(dir, 'load2', 'ldirectord.cf'), labLdirectordCf());
    await lab.restore('load1', 'front');
    await lab.restore('load1', 'back');
    await start('load1');
    // live again once it says it joined: before that it has not taken part, and its idle check runs first
    const t0 = Date.now();
    for (;;) {
      const out = await nodes.load1!.output();
      if (out.includes('started as load1')) break;
      if (Date.now() - t0 > 180_000) throw new Error(`load1 never joined:\n${out}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const out1 = await nodes.load1!.output();
    const joined = out1.indexOf('started as load1');
    const idle = out1.indexOf(`Resource IPaddr ${VIP}/32/eth0 is active, and should not be!`);
    expect(idle).toBeGreaterThanOrEqual(0);
    expect(idle).toBeLessThan(joined);
    expect(out1).toMatch(/Resource ldirectord::ldirectord\.cf is active, and should not be!/);
    dead.delete('load1');
    await until(
      'load1 holds the VIP and the table again, load2 nothing',
      (i) => i.holders[0] === 'load1' && i.state.load1?.table === TABLE && i.state.load2?.table === '',
      60_000,
    );
    expect(await served()).toEqual({ rs1: 5, rs2: 5 });
  }, 300_000);
});
