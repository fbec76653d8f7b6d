import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { type CheckResult, Monitor, type MonitoredServer, type Transition } from '../src/index.js';

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
  it('sees a loopback server go down when it stops listening', async () => {
    const srv = createServer((s) => s.end());
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
