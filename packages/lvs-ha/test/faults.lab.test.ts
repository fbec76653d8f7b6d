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
// 3. autoreload and SIGHUP on the holder: a weight changed and a real
//    server added, then removed: exactly those operations reach the kernel,
//    untouched entries keep their counters; a broken edit changes nothing.
// 4. connection sync: a long download through the VIP survives a SIGKILL of
//    the holder (the standby's backup sync daemon knew the connection); as a
//    control, with the standby's backup daemon stopped, the same kill breaks it.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BackgroundProcess, Lab, labLdirectordCf, seedTopology, until } from '@lvs-ha/lab';
import { describeWithLab, guestPerFile } from '@lvs-ha/lab/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { builtCli, startArgv } from './support/built-cli.js';

const VIP = seedTopology.vip;
const TABLE = `-A -t ${VIP}:80 -s wrr\n-a -t ${VIP}:80 -r 192.0.2.21:80 -g -w 5\n-a -t ${VIP}:80 -r 192.0.2.22:80 -g -w 5\n`;
const HA_CF =
  'keepalive 500ms\ndeadtime 4\nwarntime 2\ninitdead 8\nbcast eth1\nauto_failback on\nnode load1 load2\n';
const sharedGuest = guestPerFile();
/** /stream: 60 lines, one every 200 ms (12 s); anything else: mod_status's title, as the checks expect. */
const STREAM_SERVER = `
require('node:http').createServer((req, res) => {
  if (req.url !== '/stream') return res.end('Apache Server Status for ' + process.env.RS + '\\n');
  let n = 0;
  const t = setInterval(() => {
    res.write(process.env.RS + ' line ' + ++n + ' ' + 'x'.repeat(1000) + '\\n');
    if (n === 60) { clearInterval(t); res.end(); }
  }, 200);
  res.on('close', () => clearInterval(t));
}).listen(80);
`;

describeWithLab(['guest'], 'lvs-ha start under faults that need IPVS (qemu guest, real kernel)', () => {
  let lab: Lab;
  let dir: string;
  const nodes: Record<string, BackgroundProcess> = {};
  const dead = new Set<string>();
  const servers: BackgroundProcess[] = [];

  const start = async (name: string) => {
    nodes[name] = await lab
      .host(name)
      .ns.start(startArgv(join(dir, name), name, `/tmp/lvs-ha-faults-${process.pid}-${name}.sock`));
  };
  /** Until a director started by start() says it joined. */
  const hasJoined = (name: string, ms: number) =>
    until(`${name} joined`, async () => (await nodes[name]?.output())?.includes(`started as ${name}`), ms, {
      everyMs: 250,
      detail: async () => (await nodes[name]?.output()) ?? '',
    });
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
  /** Polls the invariant until `holds`; meanwhile two live holders at any read fail at once. Resolves with the ms. */
  const soon = async (
    what: string,
    holds: (i: Awaited<ReturnType<typeof invariant>>) => boolean,
    ms: number,
  ) => {
    const read = async () => {
      const i = await invariant();
      for (const n of ['load1', 'load2'])
        if (!dead.has(n) && nodes[n] && !(await nodes[n].running()))
          throw new Error(`lvs-ha start on ${n} exited:\n${await outputs()}`);
      if (i.holders.length > 1)
        throw new Error(`split brain: ${i.holders.join(' and ')} both hold ${VIP}\n${await outputs()}`);
      return i;
    };
    const detail = async (i: unknown) => `last ${JSON.stringify(i)}\n${await outputs()}`;
    return (await until(what, read, ms, { everyMs: 250, holds, detail })).ms;
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
    builtCli();
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
    // real servers that answer the checks like Apache's mod_status, and /stream slowly (a long download)
    for (const rs of ['rs1', 'rs2'])
      servers.push(await lab.host(rs).ns.start(['node', '-e', STREAM_SERVER], { env: { RS: rs } }));
    await Promise.all([start('load1'), start('load2')]);
    // Node and tsx start under emulation in about 30 s
    await soon(
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
    const ms = await soon(
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
    // lvs-ha status (GET /status on its control socket, asked by a plain node one-liner: no tsx to start under emulation)
    // says what ipvsadm -Ln says, with the checks' view
    const ask = `require('http').get({socketPath:process.argv[1],path:'/status'},(r)=>{let b='';r.on('data',(d)=>b+=d);r.on('end',()=>process.stdout.write(b))});`;
    const answer = JSON.parse(
      (await lab.host('load2').exec(['node', '-e', ask, `/tmp/lvs-ha-faults-${process.pid}-load2.sock`]))
        .stdout,
    );
    const [v] = answer.ipvs[0].virtuals;
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
    expect(answer.vips).toEqual([`${VIP}/32/eth0`]);
  }, 120_000);

  it('load1 restarted after its SIGKILL without a reboot: its leftover VIP and table go before it joins, then it takes its group back', async () => {
    // load1 was killed, not rebooted: the VIP and the table it had are still there
    expect(await holds('load1')).toEqual({ vip: true, table: TABLE });
    writeFileSync(join(dir, 'load2', 'ldirectord.cf'), labLdirectordCf());
    await lab.restore('load1', 'front');
    await lab.restore('load1', 'back');
    await start('load1');
    // live again once it says it joined: before that it has not taken part, and its idle check runs first
    await hasJoined('load1', 180_000);
    const out1 = await nodes.load1!.output();
    const joined = out1.indexOf('started as load1');
    const idle = out1.indexOf(`Resource IPaddr ${VIP}/32/eth0 is active, and should not be!`);
    expect(idle).toBeGreaterThanOrEqual(0);
    expect(idle).toBeLessThan(joined);
    expect(out1).toMatch(/Resource ldirectord::ldirectord\.cf is active, and should not be!/);
    dead.delete('load1');
    await soon(
      'load1 holds the VIP and the table again, load2 nothing',
      (i) => i.holders[0] === 'load1' && i.state.load1?.table === TABLE && i.state.load2?.table === '',
      60_000,
    );
    expect(await served()).toEqual({ rs1: 5, rs2: 5 });
  }, 300_000);

  it('autoreload and SIGHUP: only the edited entries change in the kernel; a broken edit changes nothing', async () => {
    const file = join(dir, 'load1', 'ldirectord.cf');
    const base = labLdirectordCf();
    servers.push(
      await lab.host('rs2').serveHttp({ port: 8080, body: 'Apache Server Status for rs2:8080\n' }),
    );
    const stats = async () => lab.host('load1').ipvsadm(['-Ln', '--stats', '--exact']);
    const conns = (text: string, real: string) =>
      Number(new RegExp(`-> ${real.replace(/\./g, '\\.')} +(\\d+)`).exec(text)?.[1] ?? 0);
    // counters that must survive: traffic until both real servers have some
    const traffic = async () => {
      await served();
      return stats();
    };
    const { value: before } = await until('connections counted on load1 for both', traffic, 30_000, {
      everyMs: 0,
      holds: (t) => conns(t, '192.0.2.21:80') > 0 && conns(t, '192.0.2.22:80') > 0,
      detail: (t) => t,
    });
    const outBefore = (await nodes.load1!.output()).length;
    // autoreload (the seed's `autoreload = yes`, checkinterval 1): rs1's weight 5 -> 3, and rs2:8080 added
    writeFileSync(
      file,
      base
        .replace('real = 192.0.2.21:80 gate 5', 'real = 192.0.2.21:80 gate 3')
        .replace(
          '\treal = 192.0.2.22:80 gate 5\n',
          '\treal = 192.0.2.22:80 gate 5\n\treal = 192.0.2.22:8080 gate 2\n',
        ),
    );
    await soon(
      'the edit applied',
      (i) =>
        !!i.state.load1?.table.includes('-r 192.0.2.22:8080 -g -w 2') &&
        !!i.state.load1?.table.includes('-r 192.0.2.21:80 -g -w 3'),
      30_000,
    );
    const changes = (await nodes.load1!.output())
      .slice(outBefore)
      .split('\n')
      .filter((l) => /^(add|edit|delete) /.test(l));
    expect(changes.sort()).toEqual([
      `add real 192.0.2.22:8080 to ${VIP}:80/tcp (gate, weight 2)`,
      `edit real 192.0.2.21:80 of ${VIP}:80/tcp (gate, weight 3)`,
    ]);
    const after = await stats();
    // kept, not reset: a deleted and re-added entry would start again from 0 (nothing else sends meanwhile)
    for (const real of ['192.0.2.21:80', '192.0.2.22:80'])
      expect(conns(after, real)).toBeGreaterThanOrEqual(conns(before, real));
    // a broken edit: refused with file:line, nothing changes
    const outBroken = (await nodes.load1!.output()).length;
    writeFileSync(file, `${base}\tchecktype = bogus\n`);
    await until(
      'a refusal',
      async () => (await nodes.load1!.output()).slice(outBroken).includes('refused'),
      30_000,
      {
        everyMs: 250,
        detail: () => nodes.load1!.output(),
      },
    );
    const refusal = (await nodes.load1!.output()).slice(outBroken);
    expect(refusal).toMatch(/ldirectord\.cf:\d+:\d+: checktype must be/);
    expect(refusal).not.toMatch(/^(add|edit|delete) /m);
    expect((await holds('load1')).table).toContain('-r 192.0.2.22:8080 -g -w 2');
    // SIGHUP with the original file: rs1 back to 5, rs2:8080 removed
    writeFileSync(file, base);
    await lab.host('load1').exec(['kill', '-HUP', String(nodes.load1!.pid)]);
    await soon('the SIGHUP reload applied', (i) => i.state.load1?.table === TABLE, 30_000);
    expect(await served()).toEqual({ rs1: 5, rs2: 5 });
  }, 180_000);

  /** curl in the client namespace downloading /stream through the VIP: its exit code and the lines it got. */
  const download = async () =>
    lab
      .host('client')
      .ns.start([
        'sh',
        '-c',
        `f=$(mktemp); curl -sN --max-time 60 -o "$f" http://${VIP}/stream; c=$?; echo "$(wc -l < "$f") lines, curl $c"; rm -f "$f"`,
      ]);
  const failOver = async (from: 'load1' | 'load2', to: 'load1' | 'load2') => {
    dead.add(from);
    await lab.host(from).killAll('KILL');
    await lab.cut(from, 'front');
    await lab.cut(from, 'back');
    await soon(
      `${to} holds the VIP and the table`,
      (i) => i.holders[0] === to && i.state[to]?.table === TABLE,
      30_000,
    );
  };
  const reboot = async (name: 'load1' | 'load2') => {
    await lab.host(name).ns.exec(['ip', 'addr', 'del', `${VIP}/32`, 'dev', 'eth0']);
    await lab.host(name).ipvsadm(['-C']);
    await lab.restore(name, 'front');
    await lab.restore(name, 'back');
    await start(name);
    // Node and tsx start in about 30 s under emulation, several times that on a loaded machine
    await hasJoined(name, 400_000);
    dead.delete(name);
  };
  const finished = async (p: BackgroundProcess) => {
    await until('the download ended', async () => !(await p.running()), 70_000, { everyMs: 250 });
    return (await p.output()).trim();
  };

  it('connection sync: a download through the VIP survives a SIGKILL of the holder; without the backup daemon it does not', async () => {
    expect(await lab.host('load2').ipvsadm(['-L', '--daemon'])).toMatch(
      /backup sync daemon \(mcast=eth1, syncid=0/,
    );
    expect(await lab.host('load1').ipvsadm(['-L', '--daemon'])).toMatch(
      /master sync daemon \(mcast=eth1, syncid=0/,
    );
    // 1. with sync: the stream goes on through load2
    const first = await download();
    await new Promise((r) => setTimeout(r, 3000)); // the connection is synced after its first packets
    await failOver('load1', 'load2');
    expect(await finished(first)).toBe('60 lines, curl 0');
    // load1 back (rebooted): auto_failback gives it the group again
    await reboot('load1');
    await soon(
      'load1 holds again',
      (i) => i.holders[0] === 'load1' && i.state.load1?.table === TABLE,
      60_000,
    );
    await new Promise((r) => setTimeout(r, 2000));
    // 2. the control: the standby's backup daemon stopped, the same kill breaks the download
    await lab.host('load2').ipvsadm(['--stop-daemon', 'backup']);
    const second = await download();
    await new Promise((r) => setTimeout(r, 3000));
    await failOver('load1', 'load2');
    const broken = await finished(second);
    expect(broken).not.toBe('60 lines, curl 0');
    process.stderr.write(
      `[lvs-ha faults, guest] without sync the download ended with: ${broken.replace('\n', ', ')}\n`,
    );
  }, 900_000);
});
