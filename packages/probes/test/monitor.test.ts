import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type CheckResult,
  type CheckSpec,
  type CheckTarget,
  ldirectordTimeouts,
  Monitor,
  type MonitoredServer,
  maintenanceFileNames,
  type Transition,
} from '../src/index.js';

/** Timers fired by hand: the fake clock. */
function fakeClock() {
  const timers = new Set<{ fn: () => void; ms: number }>();
  return {
    timers,
    setTimer: (fn: () => void, ms: number) => {
      const t = { fn, ms };
      timers.add(t);
      return t;
    },
    clearTimer: (t: unknown) => timers.delete(t as { fn: () => void; ms: number }),
    tick() {
      const due = [...timers];
      timers.clear();
      for (const t of due) t.fn();
    },
  };
}
const flush = () => new Promise((r) => setImmediate(r));
const ok: CheckResult = { ok: true, detail: '', durationMs: 1 };
const bad: CheckResult = { ok: false, reason: 'timeout', detail: '', durationMs: 1 };
const refused: CheckResult = { ok: false, reason: 'refused', detail: '', durationMs: 1 };
const server = (id: string, extra: Partial<MonitoredServer> = {}): MonitoredServer => ({
  id,
  target: { host: '127.0.0.1', port: 1 },
  spec: { checktype: 'connect' },
  ...extra,
});

describe('Monitor with fake checks and a fake clock', () => {
  it('counts every check by result and keeps a histogram of their durations', async () => {
    const clock = fakeClock();
    const script: CheckResult[] = [
      { ok: true, detail: '', durationMs: 3 },
      { ok: false, reason: 'timeout', detail: '', durationMs: 5000 },
      { ok: true, detail: '', durationMs: 0.5 },
      { ok: false, reason: 'bad-response', detail: '', durationMs: 40 },
    ];
    const m = new Monitor([server('rs1', { fall: 9 })], {
      ...clock,
      jitter: 0,
      check: async () => script.shift() as CheckResult,
    });
    // the first check runs at once; three ticks run the other three (a fourth
    // tick would start a fifth check with no scripted result)
    for (let i = 0; i < 3; i++) {
      await flush();
      clock.tick();
    }
    await flush();
    expect(script).toHaveLength(0);
    const c = m.state('rs1')?.checks;
    expect(c?.results).toEqual({ ok: 2, timeout: 1, 'bad-response': 1 });
    expect(c?.count).toBe(4);
    expect(c?.sum).toBeCloseTo(5.0435, 6);
    // bounds 0.001 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10: cumulative
    expect(c?.buckets).toEqual([1, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4]);
    m.stop();
  });

  it('applies rise/fall thresholds and reports transitions with the reason', async () => {
    const clock = fakeClock();
    const script = [ok, bad, bad, ok, ok, ok];
    const events: Transition[] = [];
    const m = new Monitor([server('rs1', { fall: 2, rise: 3 })], {
      ...clock,
      jitter: 0,
      check: async () => script.shift() as CheckResult,
    });
    m.on('transition', (t) => events.push(t));
    for (let i = 0; i < 5; i++) {
      await flush();
      clock.tick();
    }
    await flush();
    expect(events.map((e) => [e.up, e.result.reason])).toEqual([
      [true, undefined],
      [false, 'timeout'],
      [true, undefined],
    ]);
    expect(m.state('rs1')).toMatchObject({ up: true, rounds: 6, successes: 3 });
    m.stop();
  });

  it('never runs more than `concurrency` checks, nor two of one server', async () => {
    const clock = fakeClock();
    let inFlight = 0;
    let peak = 0;
    let overlap = 0;
    const perServer = new Map<string, number>();
    const release: (() => void)[] = [];
    const m = new Monitor(
      Array.from({ length: 10 }, (_, i) =>
        server(`rs${i}`, { target: { host: '127.0.0.1', port: 1000 + i } }),
      ),
      {
        ...clock,
        concurrency: 3,
        check: (_s, t, _r, _sig) =>
          new Promise((resolve) => {
            const k = `${t.port}`;
            inFlight++;
            peak = Math.max(peak, inFlight);
            perServer.set(k, (perServer.get(k) ?? 0) + 1);
            overlap = Math.max(overlap, perServer.get(k) as number);
            release.push(() => {
              inFlight--;
              perServer.set(k, (perServer.get(k) as number) - 1);
              resolve(ok);
            });
          }),
      },
    );
    for (let i = 0; i < 30; i++) {
      await flush();
      release.shift()?.();
      if (i % 5 === 0) clock.tick(); // next rounds queue while others are still in flight
    }
    await flush();
    expect(peak).toBe(3);
    expect(overlap).toBe(1);
    expect(m.states().filter((s) => s.up === true)).toHaveLength(10);
    m.stop();
  });

  it('keeps unchanged servers on reconfigure, drops removed ones, checks new ones', async () => {
    const clock = fakeClock();
    const calls: string[] = [];
    const m = new Monitor([server('a'), server('b')], {
      ...clock,
      check: async (_s, t) => {
        calls.push(`${t.port}`);
        return t.port === 2 ? refused : ok;
      },
    });
    await flush();
    await flush();
    expect(m.state('a')?.up).toBe(true);
    const before = m.state('a');
    m.reconfigure([server('a', { interval: 1 }), server('c', { target: { host: '127.0.0.1', port: 2 } })]);
    expect(m.state('a')).toEqual(before);
    expect(m.state('b')).toBeUndefined();
    await flush();
    expect(m.state('c')?.up).toBe(false);
    m.stop();
  });

  it('jitter only shortens the period: between (1 - jitter) and 1 times the interval', async () => {
    const clock = fakeClock();
    const draws = [0, 0.5, 0.999];
    const m = new Monitor(
      draws.map((_, i) => server(`rs${i}`, { interval: 2 })),
      { ...clock, jitter: 0.2, random: () => draws.shift() as number, check: async () => ok },
    );
    await flush();
    const delays = [...clock.timers].map((t) => t.ms).sort((a, b) => b - a);
    expect(delays).toHaveLength(3);
    // The check took a moment, which comes off the period.
    expect(delays[0]).toBeGreaterThan(1990);
    expect(delays[0]).toBeLessThanOrEqual(2000);
    expect(delays[1]).toBeGreaterThan(1790);
    expect(delays[1]).toBeLessThanOrEqual(1800);
    expect(delays[2]).toBeGreaterThan(1590);
    expect(delays[2]).toBeLessThanOrEqual(1600.4);
    m.stop();
  });

  it('an up server refused once is re-checked immediately before its interval', async () => {
    const clock = fakeClock();
    const script = [ok, refused, refused];
    const m = new Monitor([server('rs', { fall: 2 })], { ...clock, check: async () => script.shift() ?? ok });
    await flush();
    expect(m.state('rs')?.up).toBe(true);
    clock.tick(); // round 2: refused → immediate round 3 without the clock
    await flush();
    await flush();
    expect(m.state('rs')).toMatchObject({ up: false, rounds: 3 });
    m.stop();
  });
});

describe('Monitor with real connect checks', () => {
  it('a connect check of a service = none virtual still connects (only negotiate checks are "none")', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    const m = new Monitor([
      {
        id: 'fwm',
        target: { host: '127.0.0.1', port },
        spec: { checktype: 'connect', service: 'none', timeout: 1 },
      },
    ]);
    await expect.poll(() => m.state('fwm')?.up).toBe(false);
    expect(m.state('fwm')?.last?.reason).toBe('refused');
    m.stop();
  });

  it('sees a loopback server go down when it stops listening', async () => {
    const srv = createServer((s) => {
      s.on('error', () => {});
      s.end();
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    const events: Transition[] = [];
    const m = new Monitor([
      {
        id: 'rs1',
        target: { host: '127.0.0.1', port },
        spec: { checktype: 'connect', timeout: 1 },
        interval: 0.05,
      },
    ]);
    m.on('transition', (t) => events.push(t));
    await expect.poll(() => m.state('rs1')?.up).toBe(true);
    await new Promise((r) => srv.close(r));
    await expect.poll(() => m.state('rs1')?.up).toBe(false);
    expect(events.at(-1)?.result.reason).toBe('refused');
    m.stop();
  });
});

describe('Monitor: ldirectord semantics', () => {
  const recorder = (results: (spec: CheckSpec) => CheckResult = () => ok) => {
    const calls: { spec: CheckSpec; target: CheckTarget }[] = [];
    return {
      calls,
      check: async (spec: CheckSpec, target: CheckTarget) => {
        calls.push({ spec, target });
        return results(spec);
      },
    };
  };
  const rounds = async (clock: ReturnType<typeof fakeClock>, n: number) => {
    for (let i = 0; i < n; i++) {
      await flush();
      clock.tick();
    }
    await flush();
  };

  it('checktype = N: negotiates first, then N connects, then negotiates again (num_connects)', async () => {
    const clock = fakeClock();
    const r = recorder();
    const m = new Monitor([server('rs', { spec: { checktype: 4, service: 'http' } })], { ...clock, ...r });
    await rounds(clock, 10);
    expect(r.calls.map((c) => c.spec.checktype).join(' ')).toBe(
      'negotiate connect connect connect connect negotiate connect connect connect connect negotiate',
    );
    m.stop();
  });

  it('checktype = N: a failed connect makes the next check negotiate; a failed negotiate negotiates again', async () => {
    const clock = fakeClock();
    const script = [ok, ok, bad, bad, ok, ok, ok];
    const r = recorder(() => script.shift() ?? ok);
    const m = new Monitor([server('rs', { spec: { checktype: 2 }, fall: 1 })], { ...clock, ...r });
    await rounds(clock, 6);
    expect(r.calls.map((c) => c.spec.checktype)).toEqual([
      'negotiate', // ok
      'connect', // ok
      'connect', // fails: next negotiates
      'negotiate', // fails: stays negotiate
      'negotiate', // ok
      'connect',
      'connect',
    ]);
    m.stop();
  });

  it('checktimeout and negotiatetimeout default to each other, else 5 and 30 s', async () => {
    expect(ldirectordTimeouts({})).toEqual({ timeout: 5, negotiatetimeout: 30 });
    expect(ldirectordTimeouts({ negotiatetimeout: 20 })).toEqual({ timeout: 20, negotiatetimeout: 20 });
    expect(ldirectordTimeouts({ timeout: 3 })).toEqual({ timeout: 3, negotiatetimeout: 3 });
    expect(ldirectordTimeouts({ timeout: 3, negotiatetimeout: 9 })).toEqual({
      timeout: 3,
      negotiatetimeout: 9,
    });
    const clock = fakeClock();
    const r = recorder();
    const m = new Monitor([server('rs', { spec: { checktype: 'connect', negotiatetimeout: 20 } })], {
      ...clock,
      ...r,
    });
    await flush();
    expect(r.calls[0]?.spec).toMatchObject({ timeout: 20, negotiatetimeout: 20 });
    m.stop();
  });

  it('checks go to checkport, except external checks, which get the real port as ldirectord passes it', async () => {
    const clock = fakeClock();
    const r = recorder();
    const m = new Monitor(
      [
        server('a', {
          target: { host: '192.0.2.21', port: 80 },
          spec: { checktype: 'connect', checkport: 8080 },
        }),
        server('b', {
          target: { host: '192.0.2.22', port: 80 },
          spec: { checktype: 'external-perl', checkport: 8080, checkcommand: '/x.pl' },
        }),
      ],
      { ...clock, ...r },
    );
    await flush();
    expect(r.calls.map((c) => c.target.port)).toEqual([8080, 80]);
    expect(r.calls[1]?.spec).toMatchObject({ checktype: 'external', perl: true, checkcommand: '/x.pl' });
    m.stop();
  });

  it('a connect check of a UDP service is a ping, as in ldirectord', async () => {
    const clock = fakeClock();
    const r = recorder();
    const m = new Monitor([server('dns', { spec: { checktype: 'connect', protocol: 'udp' } })], {
      ...clock,
      ...r,
    });
    await flush();
    expect(r.calls[0]?.spec.checktype).toBe('ping');
    m.stop();
  });

  it('failurecount (fall): soft failures first, down at the Nth consecutive failure, a success resets', async () => {
    const clock = fakeClock();
    const script = [ok, bad, bad, ok, bad, bad, bad];
    const events: Transition[] = [];
    const m = new Monitor([server('rs', { fall: 3 })], {
      ...clock,
      check: async () => script.shift() ?? ok,
    });
    m.on('transition', (t) => events.push(t));
    await rounds(clock, 6);
    expect(events.map((e) => e.up)).toEqual([true, false]);
    expect(m.state('rs')).toMatchObject({ up: false, rounds: 7, failures: 3 });
    m.stop();
  });

  it('maintenancedir: a file named IP:port or IP forces the server down at once, without a check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'probes-maint-'));
    try {
      const clock = fakeClock();
      const r = recorder();
      const events: Transition[] = [];
      const m = new Monitor(
        [
          server('a', { target: { host: '192.0.2.21', port: 80 }, fall: 3 }),
          server('b', { target: { host: '192.0.2.22', port: 80 }, names: ['rs2.example.org'] }),
        ],
        { ...clock, ...r, maintenancedir: dir },
      );
      m.on('transition', (t) => events.push(t));
      await flush();
      expect(m.states().map((s) => s.up)).toEqual([true, true]);
      writeFileSync(join(dir, '192.0.2.21:80'), '');
      writeFileSync(join(dir, 'rs2'), ''); // the short name of rs2.example.org
      const before = r.calls.length;
      await rounds(clock, 1);
      expect(r.calls.length).toBe(before); // no check ran
      expect(events.slice(2).map((e) => [e.id, e.up, e.result.reason])).toEqual([
        ['a', false, 'maintenance'],
        ['b', false, 'maintenance'],
      ]);
      rmSync(join(dir, '192.0.2.21:80'));
      writeFileSync(join(dir, '192.0.2.21'), '');
      await rounds(clock, 1);
      expect(m.state('a')?.up).toBe(false);
      rmSync(join(dir, '192.0.2.21'));
      await rounds(clock, 1);
      expect(m.state('a')?.up).toBe(true);
      expect(m.state('b')?.up).toBe(false);
      m.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('maintenance file names follow ldirectord: IP:port, IP, name:port, name, short:port, short', () => {
    expect(maintenanceFileNames('172.16.1.2', 4444, ['realserver2.example.com'])).toEqual([
      '172.16.1.2:4444',
      '172.16.1.2',
      'realserver2.example.com:4444',
      'realserver2.example.com',
      'realserver2:4444',
      'realserver2',
    ]);
  });
});

describe('Monitor with checks on worker threads', () => {
  it('runs real checks on two threads and reports the same transitions', async () => {
    const srv = createServer((s) => {
      s.on('error', () => {});
      s.end();
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const servers: MonitoredServer[] = Array.from({ length: 6 }, (_, i) => ({
      id: `rs${i}`,
      target: { host: '127.0.0.1', port: i < 4 ? port : closedPort },
      spec: { checktype: 'connect', timeout: 1 },
      interval: 0.1,
    }));
    const m = new Monitor(servers, { threads: 2 });
    try {
      await expect
        .poll(() => m.states().map((s) => s.up), { timeout: 20_000 })
        .toEqual([true, true, true, true, false, false]);
      expect(m.state('rs5')?.last?.reason).toBe('refused');
      await expect.poll(() => m.state('rs0')?.rounds ?? 0, { timeout: 10_000 }).toBeGreaterThan(3);
    } finally {
      m.stop();
      srv.close();
    }
  });
});
