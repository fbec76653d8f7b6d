// `lvs-ha start` in the active/active mode in the qemu guest (kernel IPVS),
// one run, JSON on stdout. The topology of @lvs-ha/bird's active/active
// test (its routerLab: a router running BIRD 2 with ECMP into its kernel, a
// client behind it), but every director is the built CLI, `lvs-ha start`
// on a directory with bgp.cf and ldirectord.cf: it sets the VIP on lo, the
// ARP and sloppy sysctls, IPVS mh, and runs BIRD. Three directors start;
// a client holds FLOWS connections; a fourth director joins; director 1
// loses its path to every real server (prohibit routes: its checks fail at
// once, as its forwarding does); then `lvs-ha stop` and SIGTERM. What
// counts is read from the router's kernel (ip -j route) and the client.
//
//   node --import tsx active-active-scenario.ts
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type BackgroundProcess, hostRunner, Netns, veth } from '@lvs-ha/lab';
import { routerLab, waitNextHops } from '../../../bird/test/support/routing.js';
import { BUILT_CLI } from '../support/built-cli.js';

const VIP = '203.0.113.60';
const FLOWS = 30;
const CHECK_INTERVAL_S = 2;
const cli = BUILT_CLI;
const flowClient = fileURLToPath(new URL('../../../bird/test/guest/flow-client.mjs', import.meta.url));
const t00 = performance.now();
/** Progress on stderr, and to $AA_LOG (a file of the share directory the host can follow) when set. */
const log = (l: string) => {
  const line = `[aa-scenario +${((performance.now() - t00) / 1000).toFixed(1)}s] ${l}\n`;
  process.stderr.write(line);
  if (process.env.AA_LOG) appendFileSync(process.env.AA_LOG, line);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const lab = await routerLab(7);
const directors = lab.hosts.slice(0, 4);
const reals = lab.hosts.slice(4);
const client = await Netns.create('client');
const nodes: (BackgroundProcess | undefined)[] = [];
let clientProc: ChildProcess | undefined;
const sock = (i: number) => join(lab.dir, `control${i + 1}.sock`);

const ldirectordCf = (dir: string) => `logfile="${dir}/lvs-ha.log"
checktimeout=1
checkinterval=${CHECK_INTERVAL_S}
virtual=${VIP}:80
${reals.map((r) => `\treal=${r.address}:80 gate`).join('\n')}
\tprotocol=tcp
\tchecktype=connect
`;
const bgpCf = (address: string) => `# director ${address}
router-id ${address}
local-as 64513
neighbor 192.0.2.1 as 64512
bfd 100ms 3
hold-time 9
error-wait 1 10
`;

async function startDirector(i: number): Promise<BackgroundProcess> {
  const d = directors[i]!;
  const dir = join(lab.dir, `etc${i + 1}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'ldirectord.cf'), ldirectordCf(dir));
  writeFileSync(join(dir, 'bgp.cf'), bgpCf(d.address));
  const p = await d.ns.start([
    'node',
    cli,
    'start',
    '--config-dir',
    dir,
    '--control',
    sock(i),
    '--bird-dir',
    join(lab.dir, `bird${i + 1}`),
    '--node',
    `director${i + 1}`,
  ]);
  nodes[i] = p;
  return p;
}

/** A request to director i's control socket (a Unix socket: reachable from any namespace), as the CLI's commands make it. */
const api = (i: number, method: 'GET' | 'POST', path: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ socketPath: sock(i), method, path }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
const sh = async (ns: Netns, cmd: string) =>
  (await hostRunner.exec(['ip', 'netns', 'exec', ns.name, 'sh', '-c', cmd], { check: true })).stdout;
const hops = (list: number[]) => list.map((i) => directors[i]!.address).sort();
/** Waits for the router's next hops, failing with the directors' output when they do not come. */
const waitHops = async (want: string[], what: string, since?: number, deadlineMs = 60_000) => {
  try {
    return await waitNextHops(lab.router, VIP, (h) => h.join() === want.join(), {
      deadlineMs,
      what,
      ...(since !== undefined && { since }),
    });
  } catch (e) {
    for (const [i, n] of nodes.entries()) if (n) log(`director ${i + 1} output:\n${await n.output()}`);
    throw e;
  }
};

try {
  await veth(lab.router, 'c0', client, 'eth0');
  await lab.router.addAddress('c0', '198.51.100.1/24', ['brd', '+']);
  await lab.router.sysctl('net.ipv4.ip_forward', '1');
  await client.addAddress('eth0', '198.51.100.2/24', ['brd', '+']);
  await client.ip(['route', 'add', 'default', 'via', '198.51.100.1']);
  // The real servers: VIP on lo with ARP suppressed (direct routing), each answering every line with its name.
  for (const [i, rs] of reals.entries()) {
    await rs.ns.sh(
      'sysctl -q -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 && ' +
        `ip addr add ${VIP}/32 dev lo && ip route add default via 192.0.2.1`,
    );
    await rs.ns.start([
      'socat',
      'TCP-LISTEN:80,fork,reuseaddr',
      `SYSTEM:while read l; do echo rs${i + 1}; done`,
    ]);
  }

  // Director 4 is cut off from the router (its link's far end down) until it joins: under TCG
  // Node takes 30-70 s to start, so its lvs-ha starts with the others and joins when the link comes up.
  await lab.router.ip(['link', 'set', 'd4', 'down']);
  log('router, client and real servers up');

  // (a) three directors: the router gets a next hop per director
  const t0 = performance.now();
  await Promise.all([0, 1, 2, 3].map((i) => startDirector(i)));
  // the client, started meanwhile too: it opens its connections on "go"
  clientProc = spawn(
    'ip',
    [
      'netns',
      'exec',
      client.name,
      process.execPath,
      '-e',
      "process.stdin.once('data', () => { process.stdin.pause(); import(require('node:url').pathToFileURL(process.argv[1]).href); });",
      flowClient,
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
    return JSON.parse(r.value) as { phase: string; names: string[] };
  };
  const threeMs = await waitHops(hops([0, 1, 2]), '3 directors announce', t0, 90_000);
  log(`3 next hops ${threeMs.toFixed(0)} ms after the starts`);
  // what lvs-ha set up on director 1, read from the kernel
  const kernel = {
    ipvsadm: await sh(directors[0]!.ns, 'ipvsadm -Ln'),
    lo: await sh(directors[0]!.ns, 'ip -o addr show dev lo'),
    sysctl: await sh(
      directors[0]!.ns,
      'sysctl -n net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce net.ipv4.conf.eth0.arp_ignore net.ipv4.vs.sloppy_tcp net.ipv4.vs.sloppy_sctp',
    ),
  };
  // what `lvs-ha status --json` prints is GET /status; the text is formatted from it (unit-tested)
  const status = JSON.parse((await api(1, 'GET', '/status')).body);
  const metrics = (await api(1, 'GET', '/metrics')).body
    .split('\n')
    .filter((l) => /^lvs_ha_(bgp|bfd|vip_announce|bird)/.test(l));

  clientProc.stdin!.write('go\n');
  const ping = async () => {
    clientProc!.stdin!.write('ping\n');
    return (await next()).names;
  };
  const established = async (i: number) =>
    (await sh(directors[i]!.ns, 'ipvsadm -Lnc')).split('\n').filter((l) => /ESTABLISHED/.test(l)).length;
  const open = (await next()).names;
  log(`${FLOWS} connections open`);
  const before = await Promise.all([0, 1, 2].map(established));
  log(`flows per director: ${before.join('/')}`);

  // (b) a fourth director joins while the flows are open: its lvs-ha runs (all its real servers
  // down: it has no path to them), its link comes up
  for (let k = 0; ; k++) {
    const st = await api(3, 'GET', '/status').catch(() => undefined);
    if (st?.status === 200 && JSON.parse(st.body).nodeStatus === 'active') break;
    if (k > 600) throw new Error(`director 4 did not start: ${await nodes[3]!.output()}`);
    await sleep(100);
  }
  const tj = performance.now();
  await lab.router.ip(['link', 'set', 'd4', 'up']);
  const joinMs = await waitHops(hops([0, 1, 2, 3]), 'the fourth director joins', tj, 60_000);
  const afterJoin = await ping();
  const onFourth = await established(3);
  log(
    `4 next hops ${joinMs.toFixed(0)} ms after the start; ${afterJoin.filter((n, k) => n !== open[k]).length} of ${FLOWS} connections changed; ${onFourth} on director 4`,
  );

  // (c) director 1 loses every real server: withdrawn within one check interval (read from the router)
  const tw = performance.now();
  await sh(directors[0]!.ns, reals.map((r) => `ip route add prohibit ${r.address}/32`).join(' && '));
  // the cut is in place at some moment of that command (ip netns exec, sh, ip under emulation)
  const cutMs = performance.now() - tw;
  // beside the router's table, when director 1's lvs-ha stopped wanting the VIP (its /status): the split of the figure
  let decidedMs = -1;
  const decided = (async () => {
    while (performance.now() - tw < 30_000) {
      const st = JSON.parse((await api(0, 'GET', '/status')).body) as { announce: { wanted: boolean }[] };
      if (st.announce[0]?.wanted === false) {
        decidedMs = performance.now() - tw;
        return;
      }
      await sleep(50);
    }
  })();
  const withdrawMs = await waitHops(hops([1, 2, 3]), "director 1's VIP withdrawn", tw, 30_000);
  await decided;
  log(
    `director 1's real servers unreachable (the command took ${cutMs.toFixed(0)} ms): its lvs-ha withdrew after ${decidedMs.toFixed(0)} ms, its next hop gone from the router in ${withdrawMs.toFixed(0)} ms`,
  );
  const afterWithdraw = await ping();
  const status1 = JSON.parse((await api(0, 'GET', '/status')).body);

  // shutdown: `lvs-ha stop` on director 2 withdraws before its table goes
  // `lvs-ha stop` is POST /stop on the control socket
  log('stop of director 2 (POST /stop)');
  const ts = performance.now();
  const stopAnswer = await api(1, 'POST', '/stop');
  const stopMs = await waitHops(hops([2, 3]), "director 2's stop withdraws", ts, 30_000);
  for (let k = 0; k < 100 && (await nodes[1]!.running()); k++) await sleep(100);
  const stop2Output = await nodes[1]!.output();
  const ipvsAfterStop = await sh(directors[1]!.ns, 'ipvsadm -Ln');
  const loAfterStop = await sh(directors[1]!.ns, 'ip -o addr show dev lo');
  const afterStop = await ping();

  // lvs-ha SIGKILLed on director 3: its BIRD dies with it (the parent-death signal), the router withdraws
  const tk = performance.now();
  process.kill(nodes[2]!.pid, 'SIGKILL');
  const killMs = await waitHops(hops([3]), "director 3's lvs-ha SIGKILLed", tk, 30_000);
  const birdLeft = (await hostRunner.exec(['pgrep', '-f', `bird3/bird.ctl`])).stdout.trim();
  const afterKill = await ping();
  log(`director 3's lvs-ha SIGKILLed: its next hop gone in ${killMs.toFixed(0)} ms`);
  clientProc.stdin!.write('exit\n');
  // SIGTERM (as systemctl stop) on the two left
  for (const i of [0, 3]) await nodes[i]!.stop();
  const emptyMs = await waitHops([], 'every director stopped', undefined, 30_000);
  const term4Output = await nodes[3]!.output();
  process.stdout.write(
    `${JSON.stringify({
      flows: FLOWS,
      checkIntervalS: CHECK_INTERVAL_S,
      threeMs,
      kernel,
      status,
      metrics,
      open,
      before,
      joinMs,
      afterJoin,
      onFourth,
      withdrawMs,
      decidedMs,
      cutMs,
      afterWithdraw,
      status1,
      stopStatus: stopAnswer.status,
      stopMs,
      stop2Output,
      ipvsAfterStop,
      loAfterStop,
      afterStop,
      killMs,
      birdLeft,
      afterKill,
      emptyMs,
      term4Output,
    })}\n`,
  );
} finally {
  // the directors' own logs (ldirectord.cf's logfile: timestamped lines), for the record
  for (const [i] of directors.entries()) {
    const f = join(lab.dir, `etc${i + 1}`, 'lvs-ha.log');
    if (existsSync(f)) log(`director ${i + 1}'s log:\n${readFileSync(f, 'utf8')}`);
  }
  clientProc?.kill('SIGKILL');
  for (const n of nodes) await n?.stop().catch(() => undefined);
  await client.destroy();
  await lab.destroy();
}
