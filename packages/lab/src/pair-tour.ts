// The seed's pair for real: `lvs-ha start` on load1 and load2 of the lab's
// seed network (a qemu guest with Debian's kernel when this one has no IPVS),
// from the seed's own haresources and ldirectord.cf (addresses moved to the
// documentation range, quicker Heartbeat timings), Apache with mod_status on
// the real servers. load1 takes the VIP and the table; the client is served;
// load1 dies (killed, links cut) and load2 takes over; load1 comes back and
// takes its group again (auto_failback on). What `lvs-ha lab --pair` shows,
// and what the lab test checks. With `load1: 'heartbeat'`, load1 is Debian's
// Heartbeat 3.0.6 running Debian's ldirectord on the same files instead: a
// cluster being moved to lvs-ha one director at a time.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capabilitiesSync } from './capabilities.js';
import { LabError } from './errors.js';
import { Guest } from './guest.js';
import { RealHeartbeat } from './heartbeat.js';
import { type OperationsResult, operationsTour } from './operations-tour.js';
import type { BackgroundProcess, Runner } from './runner.js';
import { Lab, seedTopology } from './topology.js';
import { until } from './until.js';

export interface PairTourOptions {
  /** Client requests to the VIP in each round (default 10). */
  requests?: number;
  /** Where to run: default this machine when its kernel has IPVS, else a guest booted (and shut down) here. */
  runner?: Runner;
  /**
   * How to run `lvs-ha` in the lab's hosts (e.g. [process.execPath, its
   * cli.js]): given by the caller, since the lab depends on no runtime
   * package of lvs-ha (the CLI passes its own path).
   */
  lvsHa: { argv: string[]; env?: Record<string, string> };
  /** Node Apache with mod_status on the real servers (default), or a small Node server answering like it (quicker). */
  realServers?: 'apache' | 'node';
  /** Who directs load1: `lvs-ha start` (default), or Debian's Heartbeat 3.0.6 with ldirectord on the same files. */
  load1?: 'lvs-ha' | 'heartbeat';
  /**
   * After the fail-back, the seed's section 4 with a client sending requests
   * all through (operationsTour: rs1 stopped plainly and after `lvs-ha
   * drain --wait`, both stopped, both back) and `lvs-ha standby` on load1
   * (lvs-ha on both nodes only).
   */
  operations?: boolean;
  say: (line: string) => void;
}

export interface PairTourResult {
  /** Who answered the client's requests (rs1/rs2 counts) in each round. */
  served: {
    first: Record<string, number>;
    afterFailover: Record<string, number>;
    afterFailback: Record<string, number>;
  };
  /** From load1's death to load2 holding the VIP and the whole table. */
  failoverMs: number;
  /** From load1's restart to load1 holding everything again and load2 nothing. */
  failbackMs: number;
  /** What each node printed (for a real Heartbeat: its ha-log), by node (load1's is its second run's). */
  output: Record<string, string>;
  /** What load1 printed (or logged) before it was killed. */
  firstOutput: string;
  /** What load2 printed before load1 was killed. */
  standbyOutput: string;
  /** With `operations`: the client's requests and failures in each step. */
  operations?: OperationsResult;
}

const VIP = seedTopology.vip;
const TABLE = `-A -t ${VIP}:80 -s wrr\n-a -t ${VIP}:80 -r 192.0.2.21:80 -g -w 5\n-a -t ${VIP}:80 -r 192.0.2.22:80 -g -w 5\n`;
const HA_CF =
  'keepalive 500ms\ndeadtime 4\nwarntime 2\ninitdead 8\nbcast eth1\nauto_failback on\nnode load1 load2\n';
const AUTHKEYS = 'auth 1\n1 sha1 lvs-ha-lab-secret\n';
const HARESOURCES = `load1 ${VIP}/32/eth0 ldirectord::ldirectord.cf\n`;

/** The seed article's ldirectord.cf (examples/seed/ha.d/ldirectord.cf; a test keeps them equal). */
export const SEED_LDIRECTORD_CF = `logfile = "local0"\n\ncheckinterval = 5\n\nautoreload = yes\n\nvirtual = 12.3.4.50:80\n\treal = 12.3.4.100:80 gate 5\n\treal = 12.3.4.101:80 gate 5\n\tfallback = 127.0.0.1:80 gate\n\tscheduler = wrr\n\tprotocol = tcp\n\tchecktype = 4\n\trequest = "/server-status"\n\treceive = "Apache Server Status"\n\tnegotiatetimeout = 20\n`;

/** The seed's ldirectord.cf on the lab's addresses, checked every second. */
export function labLdirectordCf(): string {
  return SEED_LDIRECTORD_CF.replace('checkinterval = 5', 'checkinterval = 1')
    .replaceAll('12.3.4.50', VIP)
    .replace('12.3.4.100', '192.0.2.21')
    .replace('12.3.4.101', '192.0.2.22')
    .replace('logfile = "local0"', '');
}

export async function pairTour(o: PairTourOptions): Promise<PairTourResult> {
  const say = o.say;
  const requests = o.requests ?? 10;
  let guest: Guest | undefined;
  let runner = o.runner;
  let lab: Lab | undefined;
  let dir: string | undefined;
  const nodes: Record<string, BackgroundProcess> = {};
  const servers: { stop(): Promise<void> }[] = [];
  const realLoad1 = o.load1 === 'heartbeat';
  const realNodes: RealHeartbeat[] = [];
  try {
    if (!runner) {
      const caps = capabilitiesSync();
      if (!caps.root || !caps.netns || (!caps.hostIpvs && !caps.guest))
        throw new LabError('NOT_SUPPORTED', `this machine cannot run the lab: ${caps.reasons.join('; ')}`);
      if (!caps.hostIpvs) {
        say(
          'This kernel has no IPVS: booting a qemu guest with Debian’s kernel (host root shared read-only)…',
        );
        guest = await Guest.boot({ log: (l) => say(`  ${l}`) });
      }
      runner = guest;
    }
    lab = await Lab.start(seedTopology, runner ? { runner } : {});
    // Files the lab's hosts can read: the guest's share, or a directory of ours on this machine.
    dir =
      lab.runner instanceof Guest
        ? join(lab.runner.shareDir, `pair-${process.pid}`)
        : mkdtempSync(join(tmpdir(), 'lvs-ha-pair-'));
    const dirs: Record<string, string> = {};
    for (const name of ['load1', 'load2']) {
      const d = join(dir, `ha.d-${name}`);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'ha.cf'), HA_CF);
      writeFileSync(join(d, 'authkeys'), AUTHKEYS);
      chmodSync(join(d, 'authkeys'), 0o600);
      writeFileSync(join(d, 'haresources'), HARESOURCES);
      writeFileSync(join(d, 'ldirectord.cf'), labLdirectordCf());
      dirs[name] = d;
    }
    say(`1. The seed's network${lab.runner instanceof Guest ? ` in the guest (${lab.runner.kernel})` : ''}.`);
    say(`   load1 and load2 share ${dirs.load1}: ha.cf (bcast eth1, auto_failback on), authkeys,`);
    say(`   haresources "${HARESOURCES.trim()}", the seed's ldirectord.cf.`);
    if (realLoad1)
      say("   load1 runs Debian's Heartbeat 3.0.6 and ldirectord on copies of them, load2 lvs-ha start.");
    const reals: Record<string, { stop(): Promise<void> }> = {};
    const startReal = async (rs: string) => {
      const s =
        (o.realServers ?? 'apache') === 'apache'
          ? await (lab as Lab).host(rs).startApache()
          : await (lab as Lab).host(rs).serveHttp({ body: `Apache Server Status for ${rs}\n` });
      servers.push(s);
      reals[rs] = s;
      return s;
    };
    for (const rs of ['rs1', 'rs2']) await startReal(rs);

    const lvsHa = o.lvsHa;
    const control = (name: string) => `/tmp/lvs-ha-${process.pid}-${name}.sock`;
    const start = async (name: string) => {
      if (name === 'load1' && realLoad1) {
        // Heartbeat logs to a file of its own; ldirectord logs to /var/log/ldirectord.log
        const real = await RealHeartbeat.start({
          ns: (lab as Lab).host(name).ns,
          name,
          haCf: `${HA_CF}logfile /var/log/ha-log\n`,
          authkeys: AUTHKEYS,
          haresources: HARESOURCES,
          files: { 'ldirectord.cf': labLdirectordCf() },
        });
        realNodes.push(real);
        nodes[name] = {
          pid: real.pid,
          stop: () => real.stop('shutdown'),
          output: () => real.log(),
          running: () => real.running(),
        };
        return;
      }
      nodes[name] = await (lab as Lab).host(name).ns.start(
        [
          ...lvsHa.argv,
          'start',
          '--config-dir',
          dirs[name] as string,
          '--node',
          name,
          // one control socket per node: both share the file system (the guest's /tmp is a tmpfs)
          '--control',
          control(name),
        ],
        {
          ...(lvsHa.env && { env: lvsHa.env }),
        },
      );
    };
    const holds = async (name: string) => {
      const h = (lab as Lab).host(name);
      return { vip: (await h.ipAddr()).includes(`${VIP}/32`), table: await h.ipvsadm(['-Sn']) };
    };
    let dead: string | undefined;
    /** until() with the tour's guard (a node that exited) and its logs; resolves with the ms it took. */
    const waitFor = async (what: string, pred: () => Promise<boolean>, ms = 180_000) =>
      (
        await until(what, pred, ms, {
          everyMs: 250,
          guard: async () => {
            for (const [n, p] of Object.entries(nodes))
              if (n !== dead && !(await p.running())) {
                // a process that says nothing may have been killed by the kernel (the OOM killer): its log says
                const kernel = await (lab as Lab)
                  .host(n)
                  .exec(['sh', '-c', 'dmesg | tail -n 12'])
                  .then((r) => r.stdout)
                  .catch(() => '');
                throw new Error(
                  `lvs-ha start on ${n} exited: ${await p.output()}\nthe kernel's last lines:\n${kernel}`,
                );
              }
          },
          detail: async () => `load1: ${await nodes.load1?.output()}\nload2: ${await nodes.load2?.output()}`,
        })
      ).ms;
    const ask = async () => {
      const counts: Record<string, number> = {};
      for (const r of await (lab as Lab).host('client').fetchMany(`http://${VIP}/server-status`, requests)) {
        const who = /rs[12]/.exec(r.body)?.[0] ?? `HTTP ${r.status}`;
        counts[who] = (counts[who] ?? 0) + 1;
      }
      return counts;
    };
    const show = (c: Record<string, number>) =>
      Object.entries(c)
        .sort()
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ');

    say(
      realLoad1
        ? '\n2. Heartbeat 3.0.6 (with ldirectord) on load1, lvs-ha start on load2.'
        : '\n2. lvs-ha start on load1 and on load2.',
    );
    await Promise.all([start('load1'), start('load2')]);
    const t1 = await waitFor('load1 holding the VIP and the table, load2 nothing', async () => {
      const [a, b] = [await holds('load1'), await holds('load2')];
      return a.vip && a.table === TABLE && !b.vip && b.table === '';
    });
    say(`   load1 holds ${VIP} and the table (${(t1 / 1000).toFixed(1)} s after the start):`);
    say(`   $ ipvsadm -Sn   (on load1)\n${TABLE.trimEnd().replace(/^/gm, '     ')}`);
    const first = await ask();
    say(`   ${requests} client requests to http://${VIP}/server-status: answered by ${show(first)}`);

    say('\n3. load1 dies (killed, its links cut).');
    dead = 'load1';
    const firstOutput = await nodes.load1!.output();
    const standbyOutput = await nodes.load2!.output();
    await lab.host('load1').killAll('KILL');
    await lab.cut('load1', 'front');
    await lab.cut('load1', 'back');
    const failoverMs = await waitFor('load2 holding the VIP and the table', async () => {
      const h = await holds('load2');
      return h.vip && h.table === TABLE;
    });
    say(`   load2 holds ${VIP} and the table ${(failoverMs / 1000).toFixed(1)} s later (deadtime 4 s):`);
    for (const line of (await nodes.load2!.output())
      .split('\n')
      .filter((l) => /dead|acquire|vip|add /.test(l)))
      say(`     load2: ${line}`);
    const afterFailover = await ask();
    say(`   ${requests} more requests: answered by ${show(afterFailover)}`);

    say('\n4. load1 comes back (as after a reboot: no VIP, no table) and takes its group again.');
    await lab.host('load1').ns.exec(['ip', 'addr', 'del', `${VIP}/32`, 'dev', 'eth0']);
    await lab.host('load1').ipvsadm(['-C']);
    await lab.restore('load1', 'front');
    await lab.restore('load1', 'back');
    await start('load1');
    dead = undefined;
    const failbackMs = await waitFor('load1 holding everything again, load2 nothing', async () => {
      const [a, b] = [await holds('load1'), await holds('load2')];
      return a.vip && a.table === TABLE && !b.vip && b.table === '';
    });
    say(
      `   load1 holds ${VIP} and the table again ${(failbackMs / 1000).toFixed(1)} s after its start; load2 released both.`,
    );
    const afterFailback = await ask();
    say(`   ${requests} more requests: answered by ${show(afterFailback)}`);
    let operations: OperationsResult | undefined;
    if (o.operations && !realLoad1)
      operations = await operationsTour({
        lab,
        vip: VIP,
        table: TABLE,
        lvsHa,
        control,
        startReal,
        reals,
        until: waitFor,
        say,
      });
    const output: Record<string, string> = {};
    for (const [n, p] of Object.entries(nodes)) output[n] = await p.output();
    return {
      served: { first, afterFailover, afterFailback },
      failoverMs,
      failbackMs,
      output,
      firstOutput,
      standbyOutput,
      ...(operations && { operations }),
    };
  } finally {
    for (const p of Object.values(nodes)) await p.stop().catch(() => {});
    for (const r of realNodes) await r.cleanup().catch(() => {});
    for (const s of servers) await s.stop().catch(() => {});
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await guest?.shutdown();
  }
}
