// The faults of issue 12, each as a function of a Pair at home (load1 holds
// VIP1 and VIP1b, load2 holds VIP2): it injects the fault, waits (polling,
// with a bound) for what must follow and throws a FaultFailure saying what
// was seen when it does not. runFault() adds what holds for every fault: no
// split-brain moment in the whole window, and no lvs-ha that exited by itself
// left a VIP behind. The tests and the soak run these same functions.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError, until } from '@lvs-ha/lab';
import { HOME, type Kind, type NodeName, TIMINGS, VIP1, VIP1B, VIPS } from './config.js';
import type { Director } from './director.js';
import { ALL_ON, ANY, FaultFailure, type FaultReport, type Pair } from './pair.js';
import { holdersAt } from './timeline.js';
import { sleep } from './watch.js';

export interface FaultDef {
  /** stable name, e.g. sigkill-holder */
  id: string;
  /** the issue's fault number */
  n: number;
  title: string;
  kinds: readonly Kind[];
  /** a vitest timeout that covers the fault's bounds and a reset before it */
  timeoutMs: Record<Kind, number>;
  run(p: Pair, from: number): Promise<void>;
}

export interface FaultOutcome {
  report: FaultReport;
  error?: Error;
  ms: number;
}

/** The pair at home, then the fault, then what holds for every fault. */
export async function runFault(p: Pair, f: FaultDef): Promise<FaultOutcome> {
  await p.ensureHome();
  const from = Date.now();
  let error: Error | undefined;
  try {
    await f.run(p, from);
  } catch (e) {
    error = e as Error;
  }
  const to = Date.now();
  const report = p.report(f.id, from, to);
  try {
    await p.noSplitBrain(report);
    leftNothingBehind(p, from);
  } catch (e) {
    if (!error) error = e as Error;
    else error.message += `\nand: ${(e as Error).message.split('\n')[0]}`;
  }
  return { report, ms: to - from, ...(error && { error }) };
}

/** One line per fault, for the test's output and the soak. */
export function describeOutcome(o: FaultOutcome): string {
  const r = o.report;
  return `${r.fault} (${r.kind}): ${o.error ? 'FAIL' : 'ok'}, split-brain moments ${r.splitBrainMoments}, outage ${r.outageMs} ms, client ${r.failedRequests}/${r.requests} failed, ${(o.ms / 1000).toFixed(1)} s${o.error ? ` — ${o.error.message.split('\n')[0]}` : ''}`;
}

/** An lvs-ha that exited on its own (not killed by the test) had none of the VIPs left at that moment. */
export function leftNothingBehind(p: Pair, from: number): void {
  const events = p.events();
  for (const d of Object.values(p.directors))
    for (const proc of d.history) {
      const x = proc.exit;
      if (!x || x.t < from || proc.killedByTest) continue;
      // a removal ip stamped a little after the exit was noticed may still have come first
      const left = VIPS.filter((v) => holdersAt(v, events, x.t + 250).includes(d.name));
      if (left.length > 0)
        throw new FaultFailure(
          `${d.name}'s lvs-ha exited (${x.code ?? x.signal}) with ${left.join(', ')} still on its interface: the peer takes over into a split brain on the wire`,
        );
    }
}

const T = (p: Pair) => p.timings;

/** until() every 50 ms; its timeout is a FaultFailure with the pair's layout and what it saw. */
async function waitFor(
  what: string,
  ok: () => boolean | Promise<boolean>,
  ms: number,
  p?: Pair,
): Promise<number> {
  const t0 = Date.now();
  try {
    return (await until(what, ok, ms, { everyMs: 50 })).ms;
  } catch (e) {
    if (!(e instanceof LabError && e.code === 'TIMEOUT')) throw e;
    throw new FaultFailure(`${e.message}${p ? `: ${p.layout()}\n${await p.diagnose(t0 - 5000)}` : ''}`);
  }
}

/** For `ms`, fails at once when `bad()` says something. */
async function throughout(ms: number, bad: () => string | undefined, p: Pair, what: string): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const b = bad();
    if (b)
      throw new FaultFailure(
        `${what}: ${b} (${Date.now() - t0} ms in): ${p.layout()}\n${await p.diagnose(t0 - 2000)}`,
      );
    await sleep(50);
  }
}

/** Address changes of any VIP since t, as text, or undefined when none. */
function moves(p: Pair, since: number): string | undefined {
  const m = p
    .events()
    .filter((e) => e.t >= since)
    .sort((a, b) => a.t - b.t)
    .map((e) => `${((e.t - since) / 1000).toFixed(2)}s ${e.director} ${e.present ? '+' : '-'}${e.address}`);
  return m.length ? m.join(', ') : undefined;
}

/** Node instances heard on the wire since t (a new generation of a node), as text. */
function newInstances(p: Pair, since: number, node?: NodeName): string | undefined {
  const m = p.client.instances.filter((i) => i.t >= since && (node === undefined || i.src === node));
  return m.length
    ? m.map((i) => `${i.src} hg=${i.hg} at ${((i.t - since) / 1000).toFixed(2)}s`).join(', ')
    : undefined;
}

/** Reboots a director: nothing left running, no VIP, links up, then started again. */
async function reboot(p: Pair, d: Director): Promise<void> {
  await d.clear();
  if (d.isCut) await d.restore();
  await start(p, d);
}

async function start(p: Pair, d: Director, args: readonly string[] = []): Promise<void> {
  await d.start({ args, env: p.env });
  await d.waitStarted();
}

/** A clean stop (SIGTERM) of an lvs-ha director, waited for. */
async function stopCleanly(d: Director, ms = 30_000): Promise<void> {
  if (!d.running) return;
  d.signal('SIGTERM');
  await waitFor(`${d.name} stops on SIGTERM`, () => !d.proc?.running, ms);
  await d.waitGone(ms);
}

/** After a fault that may leave load1 exited (fail-stop) or restarting: back home, restarting it if it exited. */
async function backHome(p: Pair, what: string): Promise<void> {
  const l1 = p.d('load1');
  if (!l1.running) {
    // a fail-stopped node is restarted, as systemd would (what it left is checked by runFault)
    await reboot(p, l1);
  }
  await p.settle(HOME, p.rejoinBoundMs, what);
}

/** The first time since t that the director had (present) or lost the VIP. */
function firstChange(p: Pair, d: NodeName, vip: string, present: boolean, since: number): number | undefined {
  return p.changes(d, vip, since).find((e) => e.present === present)?.t;
}

/** load1 lost VIP1 and VIP1b before load2 got either (the fail-stop order). */
function downBeforePeerUp(p: Pair, since: number, what: string): void {
  const downs = [VIP1, VIP1B].map((v) => firstChange(p, 'load1', v, false, since));
  const ups = [VIP1, VIP1B].map((v) => firstChange(p, 'load2', v, true, since));
  const lastDown = Math.max(...downs.map((t) => t ?? Number.POSITIVE_INFINITY));
  const firstUp = Math.min(...ups.map((t) => t ?? Number.POSITIVE_INFINITY));
  if (!(lastDown < firstUp))
    throw new FaultFailure(
      `${what}: load1's ${VIP1}/${VIP1B} went down at ${downs.map((t) => (t === undefined ? 'never' : `${((t - since) / 1000).toFixed(2)}s`)).join('/')}, load2 brought them up at ${ups.map((t) => (t === undefined ? 'never' : `${((t - since) / 1000).toFixed(2)}s`)).join('/')}: the holder must be down before the peer takes over`,
    );
}

// ---------------------------------------------------------------- the faults

const sigkillHolder: FaultDef = {
  id: 'sigkill-holder',
  n: 1,
  title: 'SIGKILL of the holder with its links cut, then rebooted: auto_failback gives its group back',
  kinds: ['A', 'B'],
  timeoutMs: { A: 120_000, B: 180_000 },
  async run(p) {
    const l1 = p.d('load1');
    await l1.crash();
    await p.settle(ALL_ON('load2'), p.takeoverBoundMs, 'load2 takes over after load1 died');
    await reboot(p, l1);
    await p.settle(HOME, p.rejoinBoundMs, 'load1 rebooted gets its group back');
  },
};

const sigkillStandby: FaultDef = {
  id: 'sigkill-standby',
  n: 2,
  title: 'SIGKILL of the standby (load2: lvs-ha in A, the real Heartbeat in B) with its links cut, then back',
  kinds: ['A', 'B'],
  timeoutMs: { A: 120_000, B: 180_000 },
  async run(p) {
    const l2 = p.d('load2');
    await l2.crash();
    await p.settle(ALL_ON('load1'), p.takeoverBoundMs, 'load1 takes over after load2 died');
    await reboot(p, l2);
    await p.settle(HOME, p.rejoinBoundMs, 'load2 rebooted gets its group back');
  },
};

const sigstopHolder: FaultDef = {
  id: 'sigstop-holder',
  n: 3,
  title: 'SIGSTOP of the holder for 2 × deadtime, then SIGCONT: exactly one holder per VIP after',
  kinds: ['A', 'B'],
  timeoutMs: { A: 150_000, B: 200_000 },
  async run(p) {
    const l1 = p.d('load1');
    const t = Date.now();
    l1.signal('SIGSTOP');
    await p.settle(ALL_ON('load2'), p.takeoverBoundMs, 'load2 takes over while load1 is stopped');
    await sleep(Math.max(0, t + 2 * T(p).deadtimeMs - Date.now()));
    l1.signal('SIGCONT');
    await p.settle(ANY, p.healBoundMs, 'exactly one holder per VIP after SIGCONT', p.healStableMs);
    await backHome(p, 'home again after the SIGSTOP');
  },
};

const sighup = (who: NodeName, kinds: readonly Kind[]): FaultDef => ({
  id: `sighup-${who === 'load1' ? 'holder' : 'standby'}`,
  n: 4,
  title: `SIGHUP to the ${who === 'load1' ? 'holder' : 'standby'} (${who}): it keeps running, nothing moves`,
  kinds,
  timeoutMs: { A: 90_000, B: 150_000 },
  async run(p, from) {
    const d = p.d(who);
    const pid = d.pid;
    d.signal('SIGHUP');
    await throughout(
      3000,
      () =>
        d.proc?.running
          ? undefined
          : `${who}'s lvs-ha (pid ${pid}) exited on SIGHUP (${d.proc?.exit?.code ?? d.proc?.exit?.signal})`,
      p,
      `SIGHUP to ${who}`,
    );
    try {
      process.kill(pid, 0);
    } catch {
      throw new FaultFailure(`SIGHUP to ${who}: pid ${pid} is gone 3 s later`);
    }
    const m = moves(p, from);
    if (m) throw new FaultFailure(`SIGHUP to ${who}: VIPs moved: ${m}`);
    const i = newInstances(p, from);
    if (i) throw new FaultFailure(`SIGHUP to ${who}: a new node instance on the wire: ${i}`);
    await p.settle(HOME, 2000, `still at home after SIGHUP to ${who}`);
  },
});

const killHeartbeatThread: FaultDef = {
  id: 'kill-heartbeat-thread',
  n: 5,
  title:
    "the holder's heartbeat thread killed: its VIPs down and it exits non-zero before the peer takes over",
  kinds: ['A', 'B'],
  timeoutMs: { A: 120_000, B: 180_000 },
  async run(p, from) {
    const l1 = p.d('load1');
    const answer = await l1.ask({ op: 'fault', fault: 'kill-heartbeat-thread' });
    if (answer.ok !== true)
      throw new FaultFailure(
        `the control socket refused {"op":"fault","fault":"kill-heartbeat-thread"} (started with LVS_HA_FAULT_INJECTION=1): ${JSON.stringify(answer)}`,
      );
    await waitFor(
      'load1 exits after its heartbeat thread died',
      () => !l1.proc?.running,
      T(p).deadtimeMs + 10_000,
      p,
    );
    const x = l1.proc?.exit;
    if (!x || x.code === 0)
      throw new FaultFailure(
        `load1 exited with ${x?.code ?? x?.signal} after its heartbeat thread died: non-zero wanted`,
      );
    await p.settle(ALL_ON('load2'), p.takeoverBoundMs, 'load2 takes over');
    downBeforePeerUp(p, from, 'heartbeat thread killed');
    // and gone before the peer took over (the exit as the test saw it, ip's stamp on the peer's address)
    const up = Math.min(
      ...[VIP1, VIP1B].map((v) => firstChange(p, 'load2', v, true, from) ?? Number.POSITIVE_INFINITY),
    );
    if (!(x.t <= up + 100))
      throw new FaultFailure(
        `load1 exited ${x.t - up} ms after load2 took its group over: it must be gone before the peer takes over`,
      );
    await backHome(p, 'load1 restarted gets its group back');
  },
};

const blockMain: FaultDef = {
  id: 'block-main',
  n: 6,
  title: "the holder's main thread blocked for 2 × deadtime: its VIPs go down, the peer holds, never both",
  kinds: ['A', 'B'],
  timeoutMs: { A: 150_000, B: 200_000 },
  async run(p, from) {
    const l1 = p.d('load1');
    const ms = 2 * T(p).deadtimeMs;
    // the answer may come before the block, after it, or never (the node exits): an error answer is a failure
    const answer = await l1
      .ask({ op: 'fault', fault: 'block-main', ms }, ms + 10_000)
      .catch((e: Error) => ({ ok: 'no answer', error: e.message }));
    if (answer.ok === false || (answer.ok !== true && l1.proc?.running))
      throw new FaultFailure(
        `the control socket refused {"op":"fault","fault":"block-main","ms":${ms}} (started with LVS_HA_FAULT_INJECTION=1): ${JSON.stringify(answer)}`,
      );
    await waitFor(
      'load2 holds VIP1 and VIP1b',
      () => p.d('load2').liveNow() && p.watchers.load2.has(VIP1) && p.watchers.load2.has(VIP1B),
      ms + p.takeoverBoundMs,
      p,
    );
    downBeforePeerUp(p, from, 'main thread blocked');
    await p.settle(ANY, p.healBoundMs, 'exactly one holder per VIP after the block', p.healStableMs);
    await backHome(p, 'home again after the block');
  },
};

const partition: FaultDef = {
  id: 'partition',
  n: 7,
  title: "all the holder's links cut for 2 × deadtime, then restored: exactly one holder per VIP after",
  kinds: ['A', 'B'],
  timeoutMs: { A: 150_000, B: 200_000 },
  async run(p) {
    const l1 = p.d('load1');
    const t = Date.now();
    await l1.cut();
    await p.settle(ALL_ON('load2'), p.takeoverBoundMs, 'load2 takes over the cut-off group');
    await sleep(Math.max(0, t + 2 * T(p).deadtimeMs - Date.now()));
    await l1.restore();
    await p.settle(
      ANY,
      p.healBoundMs,
      'exactly one holder per VIP after the partition healed',
      p.healStableMs,
    );
    await backHome(p, 'home again after the partition');
  },
};

/**
 * Loss on what each director sends, on the wire: 30 % of the frames a
 * director puts on its link are dropped where they enter the switch (an
 * nftables ingress rule on its bridge port in the switch namespace; this
 * kernel has no sch_netem), so 30 % each way between the directors and of
 * their answers to the client, and the sender never learns of it (a drop
 * in the director's own egress hook would fail its gratuitous ARP with
 * ENOBUFS, which a lossy cable does not do). Not both ways on both links:
 * a frame between the directors would then cross two lossy hops (51 %
 * lost), and under that two real Heartbeat 3.0.6 with deadtime 2 s declare
 * each other dead about one minute in three (measured here), so no failover
 * could not be asked of lvs-ha either.
 */
export async function setLoss(p: Pair, percent: number): Promise<void> {
  const sw = p.seg.switchNs;
  await sw.exec(['nft', 'delete', 'table', 'netdev', 'fltloss']);
  if (percent <= 0) return;
  const chains = Object.values(p.directors).map(
    (d) =>
      `chain ${d.o.port} { type filter hook ingress device "${d.o.port}" priority 0; counter; numgen random mod 100 < ${percent} counter drop; }`,
  );
  await sw.exec(['nft', '-f', '-'], {
    input: `table netdev fltloss {\n${chains.join('\n')}\n}\n`,
    check: true,
  });
}

/** Frames a director sent and setLoss() dropped. */
export async function lossCounters(p: Pair, d: Director): Promise<{ seen: number; dropped: number }> {
  const out = (await p.seg.switchNs.exec(['nft', 'list', 'chain', 'netdev', 'fltloss', d.o.port])).stdout;
  const c = [...out.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
  return { seen: c[0] ?? 0, dropped: c[1] ?? 0 };
}

export const lossFault = (seconds: number): FaultDef => ({
  id: 'loss',
  n: 8,
  title: `30 % loss on what both directors send (each way between them) for ${seconds} s: no failover, no split brain`,
  kinds: ['A', 'B'],
  timeoutMs: { A: seconds * 1000 + 90_000, B: seconds * 1000 + 150_000 },
  async run(p, from) {
    await setLoss(p, 30);
    try {
      await throughout(
        seconds * 1000,
        () => moves(p, from) && `VIPs moved: ${moves(p, from)}`,
        p,
        '30 % loss',
      );
      for (const d of Object.values(p.directors)) {
        const c = await lossCounters(p, d);
        const ratio = c.dropped / Math.max(1, c.seen);
        if (c.seen < 100 || ratio < 0.2 || ratio > 0.4)
          throw new FaultFailure(
            `the loss on ${d.name} was not 30 %: ${c.dropped} of ${c.seen} frames dropped`,
          );
      }
    } finally {
      await setLoss(p, 0);
    }
    await p.settle(HOME, 5000, 'still at home after the loss');
  },
});

/** Fault 9 and 10: a stop that fails or hangs, during standby or SIGTERM. */
const badStop = (how: 'fail' | 'hang', during: 'standby' | 'sigterm'): FaultDef => ({
  id: `stop-${how}-${during}`,
  n: how === 'fail' ? 9 : 10,
  title: `a stop script that ${how === 'fail' ? 'fails' : 'hangs (--script-timeout 3)'} during ${during === 'standby' ? 'lvs-ha standby' : 'SIGTERM'}: the holder keeps both addresses, the peer acquires only once the script is fixed`,
  kinds: ['A', 'B'],
  timeoutMs: { A: 150_000, B: 220_000 },
  async run(p) {
    const l1 = p.d('load1');
    const flag = join(l1.flags, `stop-${how}`);
    const scriptTimeoutS = 3;
    try {
      if (how === 'hang') {
        // the node must be started with the bound on its scripts
        await stopCleanly(l1);
        await start(p, l1, ['--script-timeout', String(scriptTimeoutS)]);
        await p.settle(HOME, p.rejoinBoundMs, 'load1 restarted with --script-timeout 3 gets its group back');
      }
      writeFileSync(flag, '');
      if (during === 'standby') {
        const answer = await l1.ask({ op: 'standby' });
        if (answer.ok !== true) throw new FaultFailure(`standby refused: ${JSON.stringify(answer)}`);
      } else l1.signal('SIGTERM');
      // long enough for the stop to be tried (and, hanging, to time out) and for the peer to be told
      const observe = (how === 'hang' ? scriptTimeoutS * 1000 : 0) + T(p).deadtimeMs + 3000;
      await throughout(
        observe,
        () => {
          const l2 = p.watchers.load2;
          if (l2.has(VIP1) || l2.has(VIP1B))
            return `load2 acquired ${[VIP1, VIP1B].filter((v) => l2.has(v)).join(' and ')} while load1's stop ${how === 'fail' ? 'fails' : 'hangs'}`;
          const lost = [VIP1, VIP1B].filter((v) => !p.watchers.load1.has(v));
          if (lost.length)
            return `load1 let go of ${lost.join(' and ')} although its group could not be stopped`;
          return undefined;
        },
        p,
        `stop ${how}s during ${during}`,
      );
      // the operator fixes the script: the release completes and the peer holds the group
      rmSync(flag, { force: true });
      await p.settle(
        { [VIP1]: 'load2', [VIP1B]: 'load2' },
        20_000 + p.takeoverBoundMs,
        'the release completes once the script is fixed',
      );
      if (during === 'sigterm') {
        await waitFor('load1 exits once its release completed', () => !l1.proc?.running, 30_000, p);
        if (l1.proc?.exit?.code !== 0)
          throw new FaultFailure(
            `load1 exited with ${l1.proc?.exit?.code ?? l1.proc?.exit?.signal} after SIGTERM: 0 wanted`,
          );
      }
      await p.settle(ALL_ON('load2'), p.takeoverBoundMs, 'load2 holds everything');
    } finally {
      rmSync(flag, { force: true });
    }
    // back to the plain node: stopped cleanly (it holds nothing now) and started again
    await stopCleanly(l1);
    await start(p, l1);
    await p.settle(HOME, p.rejoinBoundMs, 'load1 restarted gets its group back');
  },
});

export const SIMULTANEOUS_STARTS = 10;

export const simultaneousStart = (times = SIMULTANEOUS_STARTS): FaultDef => ({
  id: 'simultaneous-start',
  n: 11,
  title: `both nodes started at the same instant, ${times} times: exactly one holder per VIP each time`,
  kinds: ['A', 'B'],
  timeoutMs: { A: 60_000 + times * 35_000, B: 60_000 + times * 60_000 },
  async run(p) {
    const l1 = p.d('load1');
    const l2 = p.d('load2');
    // the kind's own timings (a pair set up for the loss has B's); every round starts both anew
    p.setTimings(TIMINGS[p.kind]);
    for (let i = 1; i <= times; i++) {
      await p.clearBoth();
      const from = Date.now();
      await Promise.all([l1.start({ env: p.env }), l2.start({ env: p.env })]);
      await Promise.all([l1.waitStarted(), l2.waitStarted()]);
      await p.settle(ANY, p.startBoundMs, `start ${i} of ${times}`);
      await p.noSplitBrain(p.report(`simultaneous start ${i} of ${times}`, from, Date.now()));
    }
  },
});

const secondStart: FaultDef = {
  id: 'second-start',
  n: 12,
  title:
    'a second lvs-ha start on the same machine and control socket: exits 1 quickly, never joins, nothing moves',
  kinds: ['A', 'B'],
  timeoutMs: { A: 90_000, B: 150_000 },
  async run(p, from) {
    const l1 = p.d('load1');
    const second = l1.spawnLvsHa({ env: p.env });
    try {
      await waitFor('the second lvs-ha start exits', () => !second.running, 20_000).catch((e: Error) => {
        throw new FaultFailure(`${e.message}; it printed:\n${second.output()}`);
      });
      if (second.exit?.code !== 1)
        throw new FaultFailure(
          `the second lvs-ha start exited with ${second.exit?.code ?? second.exit?.signal}: 1 wanted\n${second.output()}`,
        );
      // a keepalive or two more, for a late instance to show
      await sleep(2 * T(p).keepaliveMs + 500);
      const i = newInstances(p, from, 'load1');
      if (i)
        throw new FaultFailure(
          `the second lvs-ha start joined the cluster (new load1 instance on the wire: ${i})`,
        );
      const m = moves(p, from);
      if (m) throw new FaultFailure(`VIPs moved after a second lvs-ha start: ${m}`);
      if (!l1.proc?.running) throw new FaultFailure('the running node exited after a second lvs-ha start');
      const peer = p.d('load2');
      if (peer.impl === 'lvs-ha') {
        const said = (peer.proc?.lines ?? []).filter((l) => l.t >= from && /load1/.test(l.line));
        if (said.length)
          throw new FaultFailure(
            `the peer noticed something of load1: ${said.map((l) => l.line).join(' | ')}`,
          );
      } else {
        const st = await peer.clStatus('nodestatus', 'load1');
        if (st !== 'active') throw new FaultFailure(`the real peer says load1 is ${st}`);
      }
      await p.settle(HOME, 2000, 'still at home after a second lvs-ha start');
    } finally {
      if (second.running) second.child.kill('SIGKILL');
    }
  },
};

const restartAfterKill: FaultDef = {
  id: 'restart-after-kill',
  n: 13,
  title:
    'the holder SIGKILLed and restarted at once without a reboot (VIPs still up): it removes them before it joins',
  kinds: ['A', 'B'],
  timeoutMs: { A: 120_000, B: 180_000 },
  async run(p) {
    const l1 = p.d('load1');
    await l1.killAll();
    const restarted = Date.now();
    const left = [VIP1, VIP1B].filter((v) => p.watchers.load1.has(v));
    if (left.length !== 2)
      throw new FaultFailure(`after SIGKILL load1 still has ${left.join(', ') || 'nothing'}: both wanted`);
    await start(p, l1);
    await p.settle(HOME, p.rejoinBoundMs, 'load1 restarted gets its group back');
    const proc = l1.proc;
    const lines = proc?.lines ?? [];
    const startedAt = lines.findIndex((l) => l.line.startsWith('started as load1'));
    const before = lines.slice(0, startedAt < 0 ? lines.length : startedAt);
    if (!before.some((l) => l.line.includes(VIP1)))
      throw new FaultFailure(
        `load1 restarted said nothing of its leftover ${VIP1} before it joined (as Heartbeat's "Resource … is active, and should not be!"):\n${before.map((l) => l.line).join('\n')}`,
      );
    const joined = p.client.instances.find((i) => i.src === 'load1' && i.t >= restarted)?.t;
    for (const v of [VIP1, VIP1B]) {
      const down = firstChange(p, 'load1', v, false, restarted);
      if (down === undefined || (joined !== undefined && down > joined))
        throw new FaultFailure(
          `load1 restarted did not remove its leftover ${v} before it joined (removed: ${down === undefined ? 'never' : `${down - restarted} ms after the restart`}, first heard: ${joined === undefined ? 'never' : `${joined - restarted} ms after`})`,
        );
    }
  },
};

/** Every fault of the issue (14, a broken ldirectord.cf, needs IPVS: the lead's guest test). */
export const FAULTS: readonly FaultDef[] = [
  sigkillHolder,
  sigkillStandby,
  sigstopHolder,
  sighup('load1', ['A', 'B']),
  // in B the standby of load1's group is the real Heartbeat: SIGHUP is its reload
  sighup('load2', ['A']),
  killHeartbeatThread,
  blockMain,
  partition,
  badStop('fail', 'standby'),
  badStop('fail', 'sigterm'),
  badStop('hang', 'standby'),
  badStop('hang', 'sigterm'),
  secondStart,
  restartAfterKill,
];

export { HOME, VIPS };
