// Runtime weights and metrics against the kernel's own IPVS table, in the
// lab's qemu guest on the seed's network: `lvs-ha start` on load1 from the
// seed's haresources and ldirectord.cf (load2 is never started: it is dead
// after initdead and load1 holds the group), real servers answering the
// seed's check and /slow (5 s per answer), a client load of eight loops of
// requests through the VIP.
// - `lvs-ha drain 192.0.2.21:80 --wait` under that load: weight 0 in the
//   kernel (ipvsadm -Ln) while rs1 still has active connections, the CLI
//   returns once ActiveConn is 0, rs1 gets no new connection, and no
//   client request fails;
// - the override survives `lvs-ha reload`, SIGHUP and a health change (rs1
//   stopped: out of the table; back: in again at weight 0);
// - `lvs-ha undrain` restores ldirectord.cf's weight; `lvs-ha weight REAL 3`
//   shows in ipvsadm;
// - a scrape of /metrics equals what `ipvsadm -Ln --stats --exact`,
//   `--rate --exact` and `-Ln` say, read before and after it and equal
//   (the kernel folds its counters every 2 s), and what the node's /status
//   and its addresses say.
// The CLI is the built one (dist/cli.js: Node starts it in seconds under
// emulation, tsx takes half a minute); build before running this file.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BackgroundProcess, Lab, labLdirectordCf, seedTopology, until } from '@lvs-ha/lab';
import { describeWithLab, guestPerFile } from '@lvs-ha/lab/vitest';
import { afterAll, beforeAll, expect, it, onTestFinished } from 'vitest';
import { BUILT_CLI, builtCli, startArgv } from './support/built-cli.js';
import { sample } from './support/prom.js';

const cli = BUILT_CLI;
const VIP = seedTopology.vip;
const RS1 = '192.0.2.21:80';
const RS2 = '192.0.2.22:80';
const HA_CF =
  'keepalive 500ms\ndeadtime 4\nwarntime 2\ninitdead 6\nbcast eth1\nauto_failback on\nnode load1 load2\n';
const sharedGuest = guestPerFile();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The seed's check (mod_status' title) and /slow: answered after 5 s (long
 * enough that a loaded guest's ipvsadm still sees rs1's connections at weight 0). */
const REAL_SERVER = `
require('node:http').createServer((req, res) => {
  if (req.url === '/slow') return void setTimeout(() => res.end(process.env.RS + ' slow done\\n'), 5000);
  res.end('Apache Server Status for ' + process.env.RS + '\\n');
}).listen(80);
`;
/** Eight loops of GET /slow through the VIP until SIGTERM; then one JSON line: ok, failed, by real server, the errors. */
const CLIENT = `
const http = require('node:http');
let stop = false, ok = 0, failed = 0;
const by = {}, errors = [];
process.on('SIGTERM', () => { stop = true; });
const one = () => new Promise((done) => {
  let over = false;
  const fail = (why) => { if (over) return; over = true; failed++; errors.push(why); done(); };
  const req = http.get({ host: '${VIP}', port: 80, path: '/slow', agent: false, timeout: 20000 }, (res) => {
    let body = '';
    res.on('data', (d) => { body += d; });
    res.on('error', (e) => fail(e.message));
    res.on('end', () => {
      const rs = /rs[12]/.exec(body);
      if (res.statusCode !== 200 || !rs || !body.includes('slow done')) return fail('HTTP ' + res.statusCode + ' ' + body.slice(0, 60));
      if (over) return;
      over = true; ok++; by[rs[0]] = (by[rs[0]] || 0) + 1; done();
    });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => fail(e.message));
});
const loop = async () => { while (!stop) await one(); };
Promise.all(Array.from({ length: 8 }, loop)).then(() => {
  process.stdout.write(JSON.stringify({ ok, failed, by, errors: errors.slice(0, 10) }) + '\\n');
  process.exit(0);
});
`;
/** GET PATH on the control socket (a plain node one-liner: nothing to compile under emulation). */
const GET = `require('http').get({socketPath:process.argv[1],path:process.argv[2]},(r)=>{let b='';r.on('data',(d)=>b+=d);r.on('end',()=>process.stdout.write(b))});`;

/** ipvsadm -Ln: each real server's [weight, ActiveConn, InActConn]. */
function table(text: string): Record<string, [number, number, number]> {
  const out: Record<string, [number, number, number]> = {};
  for (const m of text.matchAll(/-> (\S+:\d+) +\w+ +(\d+) +(\d+) +(\d+)/g))
    out[m[1] as string] = [Number(m[2]), Number(m[3]), Number(m[4])];
  return out;
}

/** ipvsadm -Ln --stats --exact or --rate --exact: five numbers for the virtual service and each real server. */
function counters(text: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const m of text.matchAll(/^(?:TCP +|UDP +| +-> )(\S+:\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+)/gm))
    out[m[1] as string] = m.slice(2, 7).map(Number);
  return out;
}

describeWithLab(['guest'], 'drain, runtime weights and metrics against the kernel (qemu guest)', () => {
  let lab: Lab;
  let dir: string;
  let node: BackgroundProcess | undefined;
  const servers: Record<string, BackgroundProcess> = {};
  const sock = `/tmp/lvs-ha-drain-${process.pid}.sock`;

  const load1 = () => lab.host('load1');
  const ln = async () => table(await load1().ipvsadm(['-Ln']));
  const lvsHa = async (...args: string[]) => {
    const r = await load1().exec(['node', cli, ...args, '--control', sock]);
    return { code: r.code, out: `${r.stdout}${r.stderr}` };
  };
  const get = async (path: string) => (await load1().exec(['node', '-e', GET, sock, path])).stdout;
  /** until() on ipvsadm -Ln, giving up if lvs-ha start exits. */
  const soon = (what: string, holds: (t: ReturnType<typeof table>) => boolean, ms = 30_000) =>
    until(what, ln, ms, {
      everyMs: 200,
      holds,
      guard: async () => {
        if (!(await node?.running())) throw new Error(`lvs-ha start exited:\n${await node?.output()}`);
      },
      detail: async (t) => `ipvsadm: ${JSON.stringify(t)}\n${await node?.output()}`,
    });
  const startServer = async (rs: string) => {
    servers[rs] = await lab.host(rs).ns.start(['node', '-e', REAL_SERVER], { env: { RS: rs } });
  };

  beforeAll(async () => {
    builtCli();
    const guest = await sharedGuest();
    lab = await Lab.start(seedTopology, { runner: guest });
    dir = join(guest.shareDir, `drain-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'ha.cf'), HA_CF);
    writeFileSync(join(dir, 'authkeys'), 'auth 1\n1 sha1 lvs-ha-drain\n');
    chmodSync(join(dir, 'authkeys'), 0o600);
    writeFileSync(join(dir, 'haresources'), `load1 ${VIP}/32/eth0 ldirectord::ldirectord.cf\n`);
    writeFileSync(join(dir, 'ldirectord.cf'), labLdirectordCf());
    await Promise.all([startServer('rs1'), startServer('rs2')]);
    node = await load1().ns.start(startArgv(dir, 'load1', sock));
    // initdead, then the group: both real servers in at weight 5
    await soon('load1 holds the table', (t) => t[RS1]?.[0] === 5 && t[RS2]?.[0] === 5, 180_000);
  }, 400_000);
  afterAll(async () => {
    await node?.stop().catch(() => {});
    for (const s of Object.values(servers)) await s.stop().catch(() => {});
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('drain --wait under a client load: weight 0 at once, returns when ActiveConn is 0, no request fails', async () => {
    const client = await lab.host('client').ns.start(['node', '-e', CLIENT]);
    // a failed assertion must not leave the load running into the metrics test
    onTestFinished(() => client.stop().catch(() => {}));
    // the load reaches rs1: it has active connections to drain
    await soon('rs1 has active connections', (t) => (t[RS1]?.[1] ?? 0) > 0, 60_000);
    const t0 = Date.now();
    const drain = lvsHa('drain', RS1, '--wait', '--timeout', '60');
    // meanwhile, from outside: the weight is 0 while rs1 still has active connections
    let zeroAt: number | undefined;
    let activeWhileZero = 0;
    let idleAt: number | undefined;
    let finished = false;
    void drain.finally(() => {
      finished = true;
    });
    while (!finished) {
      const t = await ln();
      const [w, active] = t[RS1] ?? [-1, -1];
      if (w === 0) {
        zeroAt ??= Date.now() - t0;
        activeWhileZero = Math.max(activeWhileZero, active);
        if (active === 0) idleAt ??= Date.now() - t0;
      }
      await sleep(100);
    }
    const r = await drain;
    const cliMs = Date.now() - t0;
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/192\.0\.2\.21:80: weight 0 \(0 active connections\)/);
    // the claim of --wait: when it returns, the kernel counts no active connection on rs1
    const after = await ln();
    expect(after[RS1]?.slice(0, 2)).toEqual([0, 0]);
    expect(zeroAt).toBeDefined();
    expect(activeWhileZero, 'rs1 had active connections at weight 0 (drain waited for them)').toBeGreaterThan(
      0,
    );
    const conns1 = counters(await load1().ipvsadm(['-Ln', '--stats', '--exact']))[RS1]?.[0];
    // more load on rs2 only
    await sleep(5000);
    expect(counters(await load1().ipvsadm(['-Ln', '--stats', '--exact']))[RS1]?.[0]).toBe(conns1);
    await lab.host('client').exec(['kill', '-TERM', String(client.pid)]);
    await until('the client ended', async () => !(await client.running()), 30_000, { everyMs: 200 });
    const result = JSON.parse((await client.output()).trim().split('\n').at(-1) as string);
    process.stderr.write(
      `[lvs-ha drain, guest] weight 0 seen ${zeroAt} ms after the drain began (up to ${activeWhileZero} active then), ActiveConn 0 seen at ${idleAt ?? 'n/a'} ms, the CLI returned after ${cliMs} ms; client ${JSON.stringify(result)}\n`,
    );
    expect(result.failed, JSON.stringify(result.errors)).toBe(0);
    expect(result.ok).toBeGreaterThan(10);
    expect(result.by.rs1).toBeGreaterThan(0);
    expect(result.by.rs2).toBeGreaterThan(0);
  }, 180_000);

  it('the override survives lvs-ha reload, SIGHUP and a health change', async () => {
    const reloads = async () =>
      ((await node?.output()) ?? '').split('\n').filter((l) => l.startsWith('reloaded ')).length;
    const steady = async (what: string) => {
      // a few reads over 3 s, each with rs1 at 0 and rs2 at ldirectord.cf's 5
      for (let i = 0; i < 6; i++) {
        const t = await ln();
        expect([t[RS1]?.[0], t[RS2]?.[0]], what).toEqual([0, 5]);
        await sleep(500);
      }
    };
    const n0 = await reloads();
    const r = await lvsHa('reload');
    expect(r.code, r.out).toBe(0);
    const reloaded = (what: string, n: number) =>
      until(what, async () => (await reloads()) > n, 30_000, {
        everyMs: 200,
        detail: () => node?.output() ?? '',
      });
    await reloaded('a reload', n0);
    await steady('after lvs-ha reload');
    await load1().exec(['kill', '-HUP', String(node?.pid)]);
    await reloaded('the SIGHUP reload', n0 + 1);
    await steady('after SIGHUP');
    // rs1 down: out of the table (quiescent = no); back: in again, at its override's weight
    const out0 = ((await node?.output()) ?? '').length;
    await servers.rs1?.stop();
    await soon('rs1 out of the table', (t) => t[RS1] === undefined);
    await startServer('rs1');
    const back = await soon('rs1 back in the table', (t) => t[RS1] !== undefined);
    expect(back.value[RS1]?.[0]).toBe(0);
    await steady('after rs1 came back');
    const lines = ((await node?.output()) ?? '').slice(out0);
    expect(lines).toMatch(/real 192\.0\.2\.21:80 down/);
    expect(lines).toContain(`add real ${RS1} to ${VIP}:80/tcp (gate, weight 0)`);
    // the status says so too
    const status = JSON.parse(await get('/status'));
    const real = status.ipvs[0].virtuals[0].reals.find(
      (x: { address: string }) => x.address === '192.0.2.21',
    );
    expect(real.kernel?.weight).toBe(0);
  }, 180_000);

  it('undrain restores the weight of ldirectord.cf; weight REAL 3 shows in ipvsadm', async () => {
    const u = await lvsHa('undrain', RS1);
    expect(u.code, u.out).toBe(0);
    expect(u.out).toMatch(/192\.0\.2\.21:80: weight 5 \(ldirectord\.cf's\)/);
    await soon('rs1 at 5 again', (t) => t[RS1]?.[0] === 5);
    const w = await lvsHa('weight', RS1, '3');
    expect(w.code, w.out).toBe(0);
    await soon('rs1 at 3', (t) => t[RS1]?.[0] === 3 && t[RS2]?.[0] === 5);
    const u2 = await lvsHa('undrain', RS1);
    expect(u2.code, u2.out).toBe(0);
    await soon('rs1 at 5 again', (t) => t[RS1]?.[0] === 5);
  }, 120_000);

  it('metrics equal ipvsadm (--stats --exact, --rate --exact, -Ln) and the node read at the same moment', async () => {
    // some traffic to count, on both real servers
    await lab.host('client').fetchMany(`http://${VIP}/server-status`, 10);
    const kernel = async () =>
      (
        await load1().exec([
          'sh',
          '-c',
          'ipvsadm -Ln --stats --exact; echo ===; ipvsadm -Ln --rate --exact; echo ===; ipvsadm -Ln; echo ===; ip -br addr show dev eth0',
        ])
      ).stdout;
    /** What the node's /status says of the pair (its tables' check times move on; these do not). */
    const node_ = (body: string) => {
      const x = JSON.parse(body);
      return JSON.stringify({
        node: x.node,
        nodeStatus: x.nodeStatus,
        peers: x.peers.map((p: { name: string; status: string }) => [p.name, p.status]),
        holding: x.holding,
        vips: x.vips,
      });
    };
    // the kernel's rate estimates decay for a while after the traffic: poll until a scrape falls between two equal reads
    let scrapes = 0;
    const around = async () => {
      scrapes++;
      const before = await kernel();
      const statusBefore = node_(await get('/status'));
      const text = await get('/metrics?reals=full');
      const rawAfter = await get('/status');
      return { before, statusBefore, text, rawAfter, statusAfter: node_(rawAfter), after: await kernel() };
    };
    const still = await until("the kernel's counters held still around a scrape", around, 90_000, {
      everyMs: 0,
      // the same kernel and node before and after the scrape: the scrape saw that moment
      holds: (r) => r.before === r.after && r.statusBefore === r.statusAfter,
      detail: (r) => `${r.before}\n${r.after}`,
    });
    process.stderr.write(
      `[lvs-ha metrics, guest] a still moment after ${scrapes} scrape(s), ${still.ms} ms\n`,
    );
    const { text, before: k } = still.value;
    const status: Record<string, unknown> = JSON.parse(still.value.rawAfter);
    const [statsText, rateText, lnText, addr] = k.split('===\n') as [string, string, string, string];
    const stats = counters(statsText);
    const rates = counters(rateText);
    const ln = table(lnText);
    const virtual = /lvs_ha_real_weight\{virtual="([^"]+)"/.exec(text)?.[1] as string;
    expect(virtual).toBeDefined();
    const vsKey = `${VIP}:80`;
    const vl = { virtual, service: `${VIP}:80/tcp` };
    const vStats = stats[vsKey] as number[];
    const vRates = rates[vsKey] as number[];
    // the virtual service: Conns InPkts OutPkts InBytes OutBytes, and CPS InPPS OutPPS InBPS OutBPS
    const traffic = (prefix: string, labels: Record<string, string>) => [
      sample(text, `${prefix}_connections_total`, labels),
      sample(text, `${prefix}_packets_total`, { ...labels, direction: 'in' }),
      sample(text, `${prefix}_packets_total`, { ...labels, direction: 'out' }),
      sample(text, `${prefix}_bytes_total`, { ...labels, direction: 'in' }),
      sample(text, `${prefix}_bytes_total`, { ...labels, direction: 'out' }),
    ];
    const rate = (prefix: string, labels: Record<string, string>) => [
      sample(text, `${prefix}_connections_per_second`, labels),
      sample(text, `${prefix}_packets_per_second`, { ...labels, direction: 'in' }),
      sample(text, `${prefix}_packets_per_second`, { ...labels, direction: 'out' }),
      sample(text, `${prefix}_bytes_per_second`, { ...labels, direction: 'in' }),
      sample(text, `${prefix}_bytes_per_second`, { ...labels, direction: 'out' }),
    ];
    expect(vStats[0]).toBeGreaterThan(0);
    expect(traffic('lvs_ha_virtual', vl)).toEqual(vStats);
    expect(rate('lvs_ha_virtual', vl)).toEqual(vRates);
    expect(sample(text, 'lvs_ha_virtual_in_kernel', vl)).toBe(1);
    for (const real of [RS1, RS2]) {
      const rl = { virtual, real };
      expect(traffic('lvs_ha_real', rl), real).toEqual(stats[real]);
      expect(rate('lvs_ha_real', rl), real).toEqual(rates[real]);
      const [weight, active, inactive] = ln[real] as [number, number, number];
      expect(
        [
          sample(text, 'lvs_ha_real_weight', rl),
          sample(text, 'lvs_ha_real_active_connections', rl),
          sample(text, 'lvs_ha_real_inactive_connections', rl),
          sample(text, 'lvs_ha_real_up', rl),
        ],
        real,
      ).toEqual([weight, active, inactive, 1]);
    }
    // the node: its own status and its peer's as /status says, what it holds, the VIP on eth0 as the kernel has it
    expect(addr).toContain(`${VIP}/32`);
    expect(sample(text, 'lvs_ha_vip_held', { vip: VIP })).toBe(1);
    const s = status as {
      node: string;
      nodeStatus: string;
      holding: string;
      peers: { name: string; status: string }[];
    };
    expect(sample(text, 'lvs_ha_node_status', { node: 'load1', status: s.nodeStatus })).toBe(1);
    expect(sample(text, 'lvs_ha_node_status', { node: 'load2', status: s.peers[0]?.status as string })).toBe(
      1,
    );
    expect(s.peers[0]?.status).toBe('dead');
    expect(sample(text, 'lvs_ha_holding', { holding: s.holding })).toBe(1);
    expect(s.holding).toBe('all');
    // the reloads of the test before: two, none refused
    expect(sample(text, 'lvs_ha_director_reloads_total', { result: 'ok' })).toBe(2);
    expect(sample(text, 'lvs_ha_director_reloads_total', { result: 'refused' })).toBe(0);
  }, 120_000);
});
