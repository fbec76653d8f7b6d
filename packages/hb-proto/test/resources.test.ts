// The haresources hand-over between two of our nodes on a simulated clock
// (each node owns "group-<name>"): start-up, peer death, return with
// auto_failback on/off/legacy, standby and takeover.

import { parseHaresources } from '@lvs-ha/ha-config';
import { describe, expect, it } from 'vitest';
import { haresourcesGroups, Membership, resourceKey } from '../src/index.js';
import { SimCluster } from './support/sim.js';

function cluster(autoFailback: 'on' | 'off' | 'legacy', crashBetaAtStart = false): SimCluster {
  const sim = new SimCluster({
    nodes: ['alpha', 'beta'],
    keepaliveMs: 100,
    deadtimeMs: 500,
    initdeadMs: 1000,
    autoFailback,
    actionMs: 50,
  });
  if (crashBetaAtStart) sim.crashed.add('beta');
  sim.start();
  return sim;
}

const holds = (sim: SimCluster) => [sim.rm('alpha').holding, sim.rm('beta').holding];

/** Restarts a crashed node with a new generation and a fresh resource manager. */
function restart(sim: SimCluster, name: string, generation: number): void {
  const fresh = new Membership({
    node: name,
    nodes: sim.opts.nodes,
    keepaliveMs: sim.opts.keepaliveMs,
    deadtimeMs: sim.opts.deadtimeMs,
    ...(sim.opts.initdeadMs !== undefined ? { initdeadMs: sim.opts.initdeadMs } : {}),
    media: sim.media,
    generation,
    wallClock: () => 1_700_000_000_000 + sim.now,
    random: sim.random,
  });
  sim.members.set(name, fresh);
  sim.attachResources(name);
  sim.crashed.delete(name);
  sim.broadcast(name, fresh.start(sim.now));
}

describe('resource hand-over (nice failback: auto_failback on)', () => {
  it('at start-up each node takes its own group, after RQSTDELAY (10 s) as Heartbeat does, and both are stable', () => {
    const sim = cluster('on');
    sim.run(13_000);
    expect(holds(sim)).toEqual(['local', 'local']);
    expect(sim.rm('alpha').rscstatus).toBe('local');
    expect(sim.rm('alpha').state).toBe('stable');
    expect(
      sim.actions.map((a) => `${a.node} ${a.action.action} ${a.action.groups.join(',')}`).sort(),
    ).toEqual(['alpha acquire group-alpha', 'beta acquire group-beta']);
  });

  it('a node alone takes every group after initdead', () => {
    const sim = cluster('on', true);
    sim.run(13_000);
    expect(sim.rm('alpha').holding).toBe('all');
    expect(sim.rm('alpha').rscstatus).toBe('all');
  });

  it('the peer dies: its group is taken; it returns: the group goes back (auto_failback on)', () => {
    const sim = cluster('on');
    sim.run(13_000);
    sim.crashed.add('beta');
    sim.run(15_000);
    expect(sim.rm('alpha').holding).toBe('all');
    expect(sim.actions.some((a) => a.node === 'alpha' && a.action.reason === 'mach_down')).toBe(true);
    restart(sim, 'beta', 200);
    sim.run(22_000);
    expect(holds(sim)).toEqual(['local', 'local']);
    const release = sim.actions.find((a) => a.node === 'alpha' && a.action.action === 'release');
    expect(release?.action.groups).toEqual(['group-beta']);
    expect(sim.rm('alpha').rscstatus).toBe('local');
  });
});

describe('resource hand-over, auto_failback off', () => {
  it('the returning node gets nothing back', () => {
    const sim = cluster('off');
    sim.run(13_000);
    sim.crashed.add('beta');
    sim.run(15_000);
    restart(sim, 'beta', 200);
    sim.run(30_000);
    expect(holds(sim)).toEqual(['all', 'none']);
    expect(sim.rm('beta').rscstatus).toBe('none');
  });
});

describe('standby and takeover', () => {
  it('hb_standby all on alpha moves everything to beta; hb_takeover local brings the group of alpha back', () => {
    const sim = cluster('off');
    sim.run(13_000);
    sim.rm('alpha').standby('all');
    sim.run(15_000);
    expect(holds(sim)).toEqual(['none', 'all']);
    expect(sim.rm('alpha').standbyState).toBe('not');
    expect(sim.rm('beta').rscstatus).toBe('all');
    // alpha takes its own group back: hb_takeover local → beta goes standby for its foreign set
    sim.rm('alpha').takeover('local');
    sim.run(18_000);
    expect(holds(sim)).toEqual(['local', 'local']);
  });

  it('hb_standby local gives only our own group away', () => {
    const sim = cluster('on');
    sim.run(13_000);
    sim.rm('beta').standby('local');
    sim.run(15_000);
    expect(holds(sim)).toEqual(['all', 'none']);
  });

  it('a standby request while the other side is in flux is ignored with a warning', () => {
    const sim = cluster('on');
    const warnings: string[] = [];
    sim.rm('alpha').on('warning', (w) => warnings.push(w));
    sim.run(150);
    sim.rm('alpha').standby('all');
    sim.run(13_000);
    // refused before it is sent: the peer is not left waiting for a standby that never began
    expect(warnings.some((w) => /standby request not sent: the other side is in flux/.test(w))).toBe(true);
    expect(holds(sim)).toEqual(['local', 'local']);
    // asked again once both are stable, it goes through
    sim.rm('alpha').standby('all');
    sim.run(30_000);
    expect(holds(sim)).toEqual(['none', 'all']);
  });

  it('a clean shutdown hands everything over at once', () => {
    const sim = cluster('on');
    sim.run(13_000);
    sim.rm('beta').shutdown();
    sim.run(13_500);
    expect(sim.rm('beta').holding).toBe('none');
    expect(sim.rm('alpha').holding).toBe('all');
  });
});

describe('resource hand-over, auto_failback legacy', () => {
  it("each asks for its own group with ip-request; the dead node's group is taken and given back on request", () => {
    const sim = cluster('legacy');
    sim.run(13_000);
    expect(holds(sim)).toEqual(['local', 'local']);
    sim.crashed.add('beta');
    sim.run(15_000);
    expect(sim.rm('alpha').holding).toBe('all');
    restart(sim, 'beta', 200);
    sim.run(20_000);
    expect(holds(sim)).toEqual(['local', 'local']);
    expect(sim.actions.some((a) => a.node === 'alpha' && a.action.reason === 'ip-request')).toBe(true);
  });
});

describe('group keys', () => {
  it('are the first resource of each haresources line, as ResourceManager lists them', () => {
    const h = parseHaresources(
      'load1 192.0.2.50/24/eth0 ldirectord::ldirectord.cf\nload2 IPaddr2::192.0.2.51/24 hbflag\n',
    ).value;
    expect(haresourcesGroups(h, 'LOAD1')).toEqual({
      local: ['192.0.2.50/24/eth0'],
      foreign: ['IPaddr2::192.0.2.51/24'],
    });
    expect(resourceKey({ kind: 'script', name: 'Filesystem', args: ['/dev/sda1', '/data'] })).toBe(
      'Filesystem::/dev/sda1::/data',
    );
  });
});
