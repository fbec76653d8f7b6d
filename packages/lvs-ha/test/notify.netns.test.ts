// `lvs-ha start --notify SCRIPT` on a pair in network namespaces on this
// machine (the fault suite's pair, kind A: lvs-ha + lvs-ha; load1's group is
// VIP1 with the script vipb, load2's is VIP2): a real script appends its
// arguments to a file of its node, and start-up, hb_standby, hb_takeover and
// a clean stop produce the lines keepalive's convention expects, in order;
// a start that fails (the script's start-fail flag) and a fail-stop (the
// membership thread killed) give FAULT.
// What the script says is compared with where the VIPs are (read from the
// kernel by the pair's address monitors), after the pair settled.
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithLab } from '@lvs-ha/lab/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TIMINGS } from './support/faults/config.js';
import { ALL_ON, HOME_LAYOUT, Pair } from './support/faults/pair.js';
import { sleep } from './support/faults/watch.js';

const G1 = 'IPaddr2::192.0.2.50/32/eth0';
const G2 = '192.0.2.51/32/eth0';

describeWithLab(['root', 'netns'], 'lvs-ha start --notify (issue 14)', () => {
  let pair: Pair | undefined;
  let out = '';
  const said = (node: string): string[] => {
    const f = join(out, node);
    return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean) : [];
  };
  /** Polls (with a deadline) until node said `count` more lines after the first `from`; then a little longer, for any extra. */
  const linesAfter = async (node: string, from: number, count: number, ms = 15_000): Promise<string[]> => {
    const until = Date.now() + ms;
    while (Date.now() < until && said(node).length < from + count) await sleep(50);
    await sleep(500);
    const got = said(node).slice(from);
    expect(
      got,
      `${node} said:\n${said(node).join('\n')}\n${pair?.d(node as 'load1').output(40)}`,
    ).toHaveLength(count);
    for (const l of got) expect(l.split(' ')[3], l).toMatch(/^[a-z_-]+$/);
    return got;
  };

  /** Polls (with a deadline) until what node said after the first `from` lines satisfies `done`; then a little longer, for any extra. */
  const saidUntil = async (node: string, from: number, done: (lines: string[]) => boolean, ms = 15_000) => {
    const until = Date.now() + ms;
    while (Date.now() < until && !done(said(node).slice(from))) await sleep(50);
    await sleep(500);
    const got = said(node).slice(from);
    expect(done(got), `${node} said:\n${got.join('\n')}\n${pair?.d(node as 'load1').output(40)}`).toBe(true);
    return got;
  };

  beforeAll(async () => {
    pair = await Pair.create({ kind: 'A', label: 'ntf', timings: TIMINGS.A });
    out = join(pair.dir, 'notify');
    const hook = join(pair.dir, 'hook');
    // keepalived's convention: TYPE NAME STATE, then our REASON; one file per node
    writeFileSync(hook, `#!/bin/sh\nmkdir -p ${out}\necho "$1 $2 $3 $4" >> ${out}/$LVS_HA_NODE\n`);
    chmodSync(hook, 0o755);
    await pair.startPair({ args: ['--notify', hook, '--notify-timeout', '5'] });
    await pair.settle(HOME_LAYOUT, pair.startBoundMs, 'start');
  }, 120_000);
  afterAll(async () => {
    await pair?.destroy();
  });

  it('start-up: every group BACKUP, then each node MASTER of its own group', {
    timeout: 30_000,
  }, async () => {
    expect((await linesAfter('load1', 0, 5)).map(strip)).toEqual([
      `GROUP ${G1} BACKUP`,
      `GROUP ${G2} BACKUP`,
      'NODE load1 BACKUP',
      `GROUP ${G1} MASTER`,
      'NODE load1 MASTER',
    ]);
    expect((await linesAfter('load2', 0, 5)).map(strip)).toEqual([
      `GROUP ${G1} BACKUP`,
      `GROUP ${G2} BACKUP`,
      'NODE load2 BACKUP',
      `GROUP ${G2} MASTER`,
      'NODE load2 MASTER',
    ]);
  });

  it('standby on load1: its group BACKUP there and MASTER on load2; takeover: both MASTER on load1', {
    timeout: 60_000,
  }, async () => {
    const p = pair as Pair;
    let n1 = said('load1').length;
    let n2 = said('load2').length;
    await p.d('load1').ask({ op: 'standby' });
    await p.settle(ALL_ON('load2'), 15_000, 'standby');
    expect((await linesAfter('load1', n1, 2)).map(strip)).toEqual([
      `GROUP ${G1} BACKUP`,
      'NODE load1 BACKUP',
    ]);
    expect((await linesAfter('load2', n2, 1)).map(strip)).toEqual([`GROUP ${G1} MASTER`]);
    n1 = said('load1').length;
    n2 = said('load2').length;
    await p.d('load1').ask({ op: 'takeover' });
    await p.settle(ALL_ON('load1'), 15_000, 'takeover');
    // load2 releases first, then load1 starts; the two groups in the hand-over's order, the node after the first
    const on2 = (await linesAfter('load2', n2, 3)).map(strip);
    expect([...on2].sort()).toEqual([`GROUP ${G1} BACKUP`, `GROUP ${G2} BACKUP`, 'NODE load2 BACKUP'].sort());
    expect(on2.at(-1)).toBe('NODE load2 BACKUP');
    const on1 = (await linesAfter('load1', n1, 3)).map(strip);
    expect([...on1].sort()).toEqual([`GROUP ${G1} MASTER`, `GROUP ${G2} MASTER`, 'NODE load1 MASTER'].sort());
    expect(on1[1]).toBe('NODE load1 MASTER');
  });

  it('a group that cannot start on load2 (its vipb start fails): FAULT (start-failed) there, everything given back to load1', {
    timeout: 60_000,
  }, async () => {
    const p = pair as Pair;
    const n1 = said('load1').length;
    const n2 = said('load2').length;
    const flag = join(p.d('load2').flags, 'start-fail');
    writeFileSync(flag, '');
    try {
      await p.d('load1').ask({ op: 'standby' });
      // load2 starts both, G1's script fails: load2 gives up all (hb_standby all, as Heartbeat does), load1 takes all again
      await p.settle(ALL_ON('load1'), 30_000, 'standby onto a node whose vipb start fails');
      const on2 = await saidUntil('load2', n2, (l) => strip(l.at(-1) ?? '') === 'NODE load2 BACKUP');
      expect(on2.filter((l) => l.includes(' FAULT '))).toEqual([`GROUP ${G1} FAULT start-failed`]);
      expect(on2.map(strip)).toContain(`GROUP ${G2} MASTER`);
      const on1 = await saidUntil('load1', n1, (l) =>
        [`GROUP ${G1} MASTER`, `GROUP ${G2} MASTER`, 'NODE load1 MASTER'].every((m) =>
          l.map(strip).includes(m),
        ),
      );
      // load1 gave both up first, then took both back
      expect(on1.map(strip).slice(0, 3).sort()).toEqual(
        [`GROUP ${G1} BACKUP`, `GROUP ${G2} BACKUP`, 'NODE load1 BACKUP'].sort(),
      );
      expect(on1.map(strip).slice(3).sort()).toEqual(
        [`GROUP ${G1} MASTER`, `GROUP ${G2} MASTER`, 'NODE load1 MASTER'].sort(),
      );
    } finally {
      rmSync(flag, { force: true });
    }
  });

  it('a clean stop of load1: each group STOP (shutdown), then NODE STOP; load2 takes everything', {
    timeout: 60_000,
  }, async () => {
    const p = pair as Pair;
    const n1 = said('load1').length;
    p.d('load1').signal('SIGTERM');
    await p.d('load1').waitGone(30_000);
    await p.settle(ALL_ON('load2'), 15_000, 'stop');
    const last = await linesAfter('load1', n1, 3);
    expect(last.slice(0, 2).map(strip).sort()).toEqual([`GROUP ${G1} STOP`, `GROUP ${G2} STOP`].sort());
    expect(last.slice(0, 2).map((l) => l.split(' ')[3])).toEqual(['shutdown', 'shutdown']);
    expect(last[2]).toBe('NODE load1 STOP stop');
  });

  it('load2 fail-stops (its membership thread killed): each group FAULT (fail-stop) after its VIPs are down, then NODE FAULT', {
    timeout: 60_000,
  }, async () => {
    const p = pair as Pair;
    const n2 = said('load2').length;
    const answer = await p.d('load2').ask({ op: 'fault', fault: 'kill-heartbeat-thread' });
    expect(answer, JSON.stringify(answer)).toMatchObject({ ok: true });
    const last = await linesAfter('load2', n2, 3);
    expect(last.slice(0, 2).map(strip).sort()).toEqual([`GROUP ${G1} FAULT`, `GROUP ${G2} FAULT`].sort());
    expect(last.map((l) => l.split(' ')[3])).toEqual(['fail-stop', 'fail-stop', 'fail-stop']);
    expect(last[2]).toBe('NODE load2 FAULT fail-stop');
    // the script ran after the VIPs were down: none is on load2 now (read from its kernel)
    const until = Date.now() + 10_000;
    while (
      Date.now() < until &&
      !p
        .layout()
        .split('; ')
        .every((v) => v.endsWith(' on none'))
    )
      await sleep(50);
    expect(p.layout()).toBe(['192.0.2.50', '192.0.2.52', '192.0.2.51'].map((v) => `${v} on none`).join('; '));
  });
});

const strip = (l: string) => l.split(' ').slice(0, 3).join(' ');
