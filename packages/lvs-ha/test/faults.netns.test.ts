// Issue 12's fault-injection suite: `lvs-ha start` (through its CLI, nothing
// of its internals) under the faults an operator meets, in network namespaces
// on this machine (no IPVS needed: the groups are VIPs and a script
// resource), against both kinds of pair:
//   A: lvs-ha + lvs-ha (keepalive 200 ms, deadtime 1 s, initdead 3 s);
//   B: lvs-ha on load1 + Debian's Heartbeat 3.0.6 on load2 (keepalive
//      250 ms, deadtime 2 s, warntime 1 s, initdead 6 s).
// load1's group is VIP1 (IPaddr2) and vipb (a script that brings VIP1b up),
// load2's is VIP2; bcast, sha1, auto_failback on.
//
// The invariant is read from outside (test/support/faults): every
// director's addresses from `ip monitor address`, who is live from what the
// test did to whom, and a client on the segment asking each VIP every 100 ms.
// For every fault: no split-brain moment (two live directors with one VIP)
// in the whole window, it settles to exactly one live holder per VIP within
// the bound stated in the scenario, and the client is answered by the holder.
//
// Four lanes run concurrently, each with its own segment and pair: the
// faults of each kind in order, and for each kind the minute of loss and
// the ten simultaneous starts.
import { describeWithLab } from '@lvs-ha/lab/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Kind, LOSS_TIMINGS, TIMINGS, type Timings, VIP1, VIP2 } from './support/faults/config.js';
import { Pair } from './support/faults/pair.js';
import {
  describeOutcome,
  FAULTS,
  type FaultDef,
  lossFault,
  runFault,
  simultaneousStart,
} from './support/faults/scenarios.js';
import { Liveness, vipReport } from './support/faults/timeline.js';
import { parseMonitorLine } from './support/faults/watch.js';

describe('the invariant as the fault suite reads it', () => {
  it('counts two live directors with one VIP as a split-brain moment, not a dead or stopped one', {
    timeout: 5000,
  }, () => {
    const live = new Liveness(['load1', 'load2']);
    live.up('load1', 0, 'started');
    live.up('load2', 0, 'started');
    const ev = [
      { t: 10, director: 'load1', address: VIP1, present: true },
      { t: 20, director: 'load2', address: VIP2, present: true },
    ];
    expect(vipReport(VIP1, ev, live, 0, 100).splitBrain).toEqual([]);
    // load1 killed at 50 (not live from then on): load2 taking VIP1 at 60 is no split brain
    live.down('load1', 50, 'SIGKILL');
    const takeover = [...ev, { t: 60, director: 'load2', address: VIP1, present: true }];
    const r = vipReport(VIP1, takeover, live, 0, 100);
    expect(r.splitBrain).toEqual([]);
    // no live holder: before load1's VIP came up, and from its death to load2's takeover
    expect(r.outage).toEqual([
      { from: 0, to: 10 },
      { from: 50, to: 60 },
    ]);
    // back at 70 with a grace of 20: still holding VIP1 at 90 (grace over) is one
    live.up('load1', 90, 'restarted');
    const sb = vipReport(VIP1, takeover, live, 0, 100).splitBrain;
    expect(sb).toEqual([{ from: 90, to: 100, holders: ['load1', 'load2'] }]);
    // it let go at 95: the moment ends there
    const healed = [...takeover, { t: 95, director: 'load1', address: VIP1, present: false }];
    expect(vipReport(VIP1, healed, live, 0, 100).splitBrain).toEqual([
      { from: 90, to: 95, holders: ['load1', 'load2'] },
    ]);
    // a node stopped again before its grace ended was never live
    live.down('load1', 92, 'SIGSTOP');
    expect(vipReport(VIP1, takeover, live, 0, 100).splitBrain).toEqual([
      { from: 90, to: 92, holders: ['load1', 'load2'] },
    ]);
  });

  it("reads ip monitor's lines", { timeout: 5000 }, () => {
    expect(
      parseMonitorLine('[2026-12-02T16:28:26.481730] 3: eth0    inet 192.0.2.50/32 scope global eth0'),
    ).toEqual({
      t: new Date('2026-12-02T16:28:26').getTime() + 481.73,
      ifname: 'eth0',
      address: '192.0.2.50',
      present: true,
    });
    expect(
      parseMonitorLine(
        '[2026-12-02T16:28:26.797749] Deleted 3: eth0    inet 192.0.2.51/32 brd 192.0.2.51 scope global eth0:0',
      ),
    ).toMatchObject({ address: '192.0.2.51', present: false });
    expect(parseMonitorLine('       valid_lft forever preferred_lft forever')).toBeUndefined();
    expect(
      parseMonitorLine('[2026-12-02T16:28:28.825759] 3: eth0    inet6 fe80::1/64 scope link'),
    ).toBeUndefined();
  });
});

interface Lane {
  kind: Kind;
  label: string;
  name: string;
  faults: readonly FaultDef[];
  timings: Timings;
}

const pairName: Record<Kind, string> = {
  A: 'kind A, lvs-ha + lvs-ha',
  B: 'kind B, lvs-ha + the real Heartbeat 3.0.6',
};
const LOSS_SECONDS = 60;
const LANES: Lane[] = (['A', 'B'] as const).flatMap((kind): Lane[] => [
  {
    kind,
    label: `${kind.toLowerCase()}1`,
    name: `${pairName[kind]}: the faults in turn`,
    faults: FAULTS.filter((f) => f.kinds.includes(kind)),
    timings: TIMINGS[kind],
  },
  {
    kind,
    label: `${kind.toLowerCase()}2`,
    name: `${pairName[kind]}: a minute of loss, ten simultaneous starts`,
    faults: [lossFault(LOSS_SECONDS), simultaneousStart()],
    // the loss with longer timings for both kinds (LOSS_TIMINGS: why there)
    timings: LOSS_TIMINGS,
  },
]);

describeWithLab(['root', 'netns'], 'lvs-ha start under faults (issue 12)', () => {
  for (const lane of LANES) {
    describe.concurrent(lane.name, () => {
      let pair: Pair | undefined;
      beforeAll(async () => {
        pair = await Pair.create({ kind: lane.kind, label: lane.label, timings: lane.timings });
        await pair.reset();
      }, 120_000);
      afterAll(async () => {
        await pair?.destroy();
      });
      for (const f of lane.faults)
        it.sequential(`${f.n}. ${f.title}`, { timeout: f.timeoutMs[lane.kind] }, async () => {
          if (!pair) throw new Error('no pair');
          const o = await runFault(pair, f);
          console.log(`[faults ${lane.label}] ${describeOutcome(o)}`);
          if (o.error) throw o.error;
        });
    });
  }
});
