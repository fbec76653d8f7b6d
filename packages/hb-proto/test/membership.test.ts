// Membership on a simulated clock (every packet through the real codec and
// sha1 authentication): states, deadtime, media, gaps and retransmission,
// replays, restarts, NAKs, warntime.
import { describe, expect, it } from 'vitest';
import {
  Authenticator,
  encodePacket,
  getString,
  HbProtoError,
  keyring,
  Membership,
  type NodeStatus,
  openPacket,
} from '../src/index.js';
import { SimCluster } from './support/sim.js';

function statuses(sim: SimCluster, name: string): [string, NodeStatus][] {
  const seen: [string, NodeStatus][] = [];
  sim.member(name).on('status', (n, s) => seen.push([n, s]));
  return seen;
}

describe('Membership', () => {
  it('two nodes go init → up → active and see each other active', () => {
    const sim = new SimCluster({ nodes: ['alpha', 'beta'], keepaliveMs: 100, deadtimeMs: 500 });
    const seenA = statuses(sim, 'alpha');
    sim.start();
    sim.run(1000);
    expect(sim.member('alpha').status).toBe('active');
    expect(sim.member('beta').statusOf('alpha')).toBe('active');
    expect(sim.member('alpha').statusOf('beta')).toBe('active');
    expect(seenA).toContainEqual(['alpha', 'up']);
    expect(seenA).toContainEqual(['alpha', 'active']);
    expect(seenA).toContainEqual(['beta', 'active']);
    expect(sim.member('alpha').commUp).toBe(true);
  });

  it('declares a silent peer dead after its deadtime (not before)', () => {
    const sim = new SimCluster({ nodes: ['alpha', 'beta'], keepaliveMs: 50, deadtimeMs: 200 });
    sim.start();
    sim.run(1000);
    let deadAt = -1;
    sim.member('alpha').on('status', (n, s) => {
      if (n === 'beta' && s === 'dead') deadAt = sim.now;
    });
    sim.crashed.add('beta');
    const crashAt = sim.now;
    // the last heartbeat came at most one keepalive before the crash
    sim.run(crashAt + 140);
    expect(sim.member('alpha').statusOf('beta')).toBe('active');
    sim.run(crashAt + 300);
    expect(sim.member('alpha').statusOf('beta')).toBe('dead');
    expect(deadAt - crashAt).toBeGreaterThan(150);
    expect(deadAt - crashAt).toBeLessThanOrEqual(252);
  });

  it('uses initdead until every node was heard from', () => {
    const sim = new SimCluster({
      nodes: ['alpha', 'beta'],
      keepaliveMs: 50,
      deadtimeMs: 200,
      initdeadMs: 1000,
    });
    sim.crashed.add('beta');
    sim.start();
    sim.run(900);
    expect(sim.member('alpha').statusOf('beta')).toBe('init');
    sim.run(1100);
    expect(sim.member('alpha').statusOf('beta')).toBe('dead');
    // alone, it becomes active once the others are known dead
    expect(sim.member('alpha').status).toBe('active');
  });

  it('a node is dead only when it is silent on every medium', () => {
    const sim = new SimCluster({
      nodes: ['alpha', 'beta'],
      media: ['eth0', 'eth1'],
      keepaliveMs: 50,
      deadtimeMs: 200,
    });
    const links: string[] = [];
    sim.member('alpha').on('link', (n, m, s) => links.push(`${n} ${m} ${s}`));
    sim.start();
    sim.run(500);
    expect(links).toEqual(expect.arrayContaining(['beta eth0 up', 'beta eth1 up']));
    sim.cut.add('eth0');
    sim.run(1500);
    expect(links).toContain('beta eth0 dead');
    expect(sim.member('alpha').statusOf('beta')).toBe('active');
    sim.cut.add('eth1');
    sim.run(2000);
    expect(sim.member('alpha').statusOf('beta')).toBe('dead');
    sim.cut.clear();
    sim.run(2500);
    expect(sim.member('alpha').statusOf('beta')).toBe('active');
    expect(links.at(-1)).toMatch(/up$/);
  });

  it('asks for a lost packet again (NS_rexmit) and gets it retransmitted, in order of arrival', () => {
    const sim = new SimCluster({ nodes: ['alpha', 'beta'], keepaliveMs: 100, deadtimeMs: 1000 });
    sim.start();
    sim.run(500);
    const got: string[] = [];
    sim.member('beta').on('message', (msg) => got.push(getString(msg, 'payload') ?? ''));
    sim.dropOnce = (from, msg) => from === 'alpha' && getString(msg, 'payload') === 'one';
    sim.broadcast(
      'alpha',
      sim.member('alpha').send(
        [
          ['t', 'app'],
          ['payload', 'one'],
        ],
        sim.now,
      ),
    );
    sim.broadcast(
      'alpha',
      sim.member('alpha').send(
        [
          ['t', 'app'],
          ['payload', 'two'],
        ],
        sim.now,
      ),
    );
    sim.run(1500);
    expect(got.sort()).toEqual(['one', 'two']);
    expect(sim.member('beta').counters.rexmitRequested).toBeGreaterThanOrEqual(1);
    expect(sim.member('alpha').counters.rexmitSent).toBeGreaterThanOrEqual(1);
    expect(sim.member('beta').peer('alpha')?.missing.size).toBe(0);
  });

  it('refuses replays: an old packet again, and a packet from an older generation', () => {
    const sim = new SimCluster({ nodes: ['alpha', 'beta'], keepaliveMs: 100, deadtimeMs: 1000 });
    sim.start();
    sim.run(500);
    const got: string[] = [];
    sim.member('beta').on('message', (msg) => got.push(getString(msg, 'payload') ?? ''));
    sim.broadcast(
      'alpha',
      sim.member('alpha').send(
        [
          ['t', 'app'],
          ['payload', 'pay me once'],
        ],
        sim.now,
      ),
    );
    sim.run(600);
    const captured = sim.sent.filter((s) => s.from === 'alpha' && s.bytes.includes('pay me once')).at(-1);
    if (!captured) throw new Error('not sent');
    sim.run(900);
    sim.inject('beta', 'eth0', captured.bytes);
    sim.run(1000);
    expect(got).toEqual(['pay me once']);
    expect(sim.member('beta').counters.replays).toBeGreaterThanOrEqual(1);
    // the same node name with an older generation (a recorded packet from a previous run)
    const old = new Membership({
      node: 'alpha',
      nodes: ['alpha', 'beta'],
      keepaliveMs: 100,
      deadtimeMs: 1000,
      generation: 99,
    });
    const [status] = old.start(0);
    const before = sim.member('beta').counters.replays;
    sim.inject('beta', 'eth0', encodePacket(status as never, { auth: sim.auth }));
    sim.run(1100);
    expect(sim.member('beta').counters.replays).toBe(before + 1);
    expect(sim.member('beta').statusOf('alpha')).toBe('active');
  });

  it('notices a restart (new generation) and follows the new sequence numbers', () => {
    let gen = 100;
    const sim = new SimCluster({ nodes: ['alpha', 'beta'], keepaliveMs: 100, deadtimeMs: 400 }, (name) =>
      name === 'alpha' ? { generation: gen } : {},
    );
    sim.start();
    sim.run(500);
    const restarts: number[] = [];
    sim.member('beta').on('restart', (_n, g) => restarts.push(g));
    gen = 101;
    const fresh = new Membership({
      node: 'alpha',
      nodes: ['alpha', 'beta'],
      keepaliveMs: 100,
      deadtimeMs: 400,
      generation: gen,
      media: ['eth0'],
      wallClock: () => 1_700_000_000_000 + sim.now,
    });
    sim.members.set('alpha', fresh);
    sim.broadcast('alpha', fresh.start(sim.now));
    sim.run(1500);
    expect(restarts).toEqual([101]);
    expect(sim.member('beta').statusOf('alpha')).toBe('active');
    expect(sim.member('beta').peer('alpha')?.generation).toBe(101);
  });

  it('answers a rexmit request for a packet it no longer has with a NAK, which the asker counts as lost', () => {
    const sim = new SimCluster({ nodes: ['alpha', 'beta'], keepaliveMs: 100, deadtimeMs: 1000 });
    sim.start();
    sim.run(300);
    const alpha = sim.member('alpha');
    const beta = sim.member('beta');
    // beta misses "gone"; before it can ask, alpha sends 510 more (its history keeps 500)
    sim.dropOnce = (from, msg) => from === 'alpha' && getString(msg, 'x') === 'gone';
    sim.broadcast(
      'alpha',
      alpha.send(
        [
          ['t', 'app'],
          ['x', 'gone'],
        ],
        sim.now,
      ),
    );
    for (let i = 0; i < 510; i++) sim.broadcast('alpha', alpha.send([['t', 'app']], sim.now));
    sim.run(1000);
    expect(beta.counters.rexmitRequested).toBeGreaterThanOrEqual(1);
    expect(alpha.counters.naksSent).toBeGreaterThanOrEqual(1);
    expect(beta.counters.naksReceived).toBeGreaterThanOrEqual(1);
    expect(beta.counters.lost).toBe(1);
    expect(beta.peer('alpha')?.missing.size).toBe(0);
  });

  it('warns when a heartbeat comes later than warntime', () => {
    const sim = new SimCluster({
      nodes: ['alpha', 'beta'],
      keepaliveMs: 100,
      deadtimeMs: 1000,
      warntimeMs: 300,
    });
    const late: number[] = [];
    sim.member('alpha').on('late', (_n, ms) => late.push(ms));
    sim.start();
    sim.run(500);
    sim.crashed.add('beta');
    sim.run(900);
    sim.crashed.delete('beta');
    sim.run(1200);
    expect(late.length).toBe(1);
    expect(late[0]).toBeGreaterThan(300);
  });

  it('drops messages for other nodes, from unknown nodes, and without type/src/ts', () => {
    const sim = new SimCluster({ nodes: ['alpha', 'beta', 'gamma'], keepaliveMs: 100, deadtimeMs: 1000 });
    sim.start();
    sim.run(300);
    const got: string[] = [];
    sim.member('beta').on('message', (msg) => got.push(getString(msg, 'x') ?? ''));
    sim.broadcast(
      'alpha',
      sim.member('alpha').send(
        [
          ['t', 'app'],
          ['x', 'for gamma'],
        ],
        sim.now,
        'gamma',
      ),
    );
    sim.broadcast(
      'alpha',
      sim.member('alpha').send(
        [
          ['t', 'app'],
          ['x', 'for beta'],
        ],
        sim.now,
        'beta',
      ),
    );
    sim.run(400);
    expect(got).toEqual(['for beta']);
    expect(sim.member('beta').counters.notForUs).toBeGreaterThanOrEqual(1);
    const stranger = new Membership({
      node: 'zeta',
      nodes: ['zeta', 'beta'],
      keepaliveMs: 100,
      deadtimeMs: 1000,
    });
    for (const m of stranger.start(0)) sim.inject('beta', 'eth0', encodePacket(m, { auth: sim.auth }));
    sim.inject(
      'beta',
      'eth0',
      encodePacket({ fields: [{ name: 't', type: 'string', value: 'x' }] }, { auth: sim.auth }),
    );
    sim.run(500);
    expect(sim.member('beta').counters.unknownNode).toBe(2);
    expect(sim.member('beta').counters.malformed).toBe(1);
  });

  it('rejects impossible options with typed errors', () => {
    expect(() => new Membership({ node: 'x', nodes: ['a'], keepaliveMs: 1, deadtimeMs: 2 })).toThrow(
      HbProtoError,
    );
    expect(() => new Membership({ node: 'a', nodes: ['a'], keepaliveMs: 2, deadtimeMs: 2 })).toThrow(
      /deadtime/,
    );
  });

  it("writes its messages with Heartbeat's control fields in Heartbeat's order", () => {
    const m = new Membership({
      node: 'Beta',
      nodes: ['alpha', 'beta'],
      keepaliveMs: 1000,
      deadtimeMs: 5000,
      uuid: Buffer.alloc(16, 7),
      generation: 0x6b0d49ef,
      wallClock: () => 0x6b0d49ee * 1000,
      load: () => '3.92 1.73 0.83 7/204 7731',
    });
    const [first] = m.start(0);
    if (!first) throw new Error('no status');
    expect(first.fields.map((f) => f.name)).toEqual([
      't',
      'st',
      'dt',
      'protocol',
      'src',
      'srcuuid',
      'seq',
      'hg',
      'ts',
      'ld',
      'ttl',
    ]);
    const a = new Authenticator(keyring('sha1', 'k'));
    const msg = openPacket(encodePacket(first, { auth: a }), a).message;
    expect(getString(msg, 'st')).toBe('init');
    expect(getString(msg, 'dt')).toBe('1388');
    expect(getString(msg, 'src')).toBe('beta');
    expect(getString(msg, 'hg')).toBe('6b0d49ef');
    expect(getString(msg, 'seq')).toBe('1');
  });
});
