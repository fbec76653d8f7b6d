// sd_notify as systemd's protocol has it, against sockets the test binds (a
// path and an abstract name, as NOTIFY_SOCKET may say either): what is sent,
// the watchdog's period from a timer of the calling thread, a child process
// whose main thread blocks (its pings stop, and come back), and the
// environment our children inherit. lvs-ha under a real systemd is
// systemd.pid1.test.ts.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tsxLoader } from '@lvs-ha/lab';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BadNotifySocketError,
  BadNotifyStateError,
  clusterStatusLine,
  formatNotifyState,
  monotonicUsec,
  NotifySendError,
  notify,
  SystemdNotifier,
  watchdogInterval,
  watchdogUsec,
} from '../src/systemd.js';
import { NotifySocket } from './support/notify-socket.js';

const sockets: NotifySocket[] = [];
const open = (kind: 'path' | 'abstract') => {
  const s = new NotifySocket(kind);
  sockets.push(s);
  return s;
};
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

describe('notify()', () => {
  for (const kind of ['path', 'abstract'] as const)
    it(`sends VARIABLE=value lines to a ${kind} socket`, async () => {
      const s = open(kind);
      expect(notify({ READY: 1, STATUS: 'joined as load1' }, s.address)).toBe(true);
      expect(notify('STATUS=second', s.address)).toBe(true);
      expect((await s.next('READY', 2000)).text).toBe('READY=1\nSTATUS=joined as load1');
      expect((await s.next('STATUS', 2000, 'second')).text).toBe('STATUS=second');
    });

  it('is false without NOTIFY_SOCKET, and refuses what systemd would misread', () => {
    expect(notify({ READY: 1 }, undefined)).toBe(false);
    expect(notify({ READY: 1 }, '')).toBe(false);
    expect(() => notify({ READY: 1 }, 'run/notify')).toThrow(BadNotifySocketError);
    expect(() => notify({ READY: 1 }, 'vsock:2:1234')).toThrowError(
      expect.objectContaining({ code: 'BAD_NOTIFY_SOCKET' }),
    );
    expect(() => notify({ READY: 1 }, '@')).toThrow(BadNotifySocketError);
    expect(() => formatNotifyState({ STATUS: 'two\nlines' })).toThrow(BadNotifyStateError);
    expect(() => formatNotifyState({ 'lower-case': 'x' })).toThrowError(
      expect.objectContaining({ code: 'BAD_NOTIFY_STATE' }),
    );
    expect(() => formatNotifyState({})).toThrow(BadNotifyStateError);
  });

  it('says why a datagram could not be sent (the manager gone), and never blocks', () => {
    const s = open('path');
    const address = s.address;
    s.close();
    sockets.splice(sockets.indexOf(s), 1);
    expect(() => notify({ WATCHDOG: 1 }, address)).toThrowError(
      expect.objectContaining({ code: 'NOTIFY_SEND', errno: 'ENOENT' }),
    );
    expect(() => notify({ WATCHDOG: 1 }, '@lvs-ha-test/nobody-binds-this')).toThrow(NotifySendError);
    // with onError the notifier says it and goes on
    const errors: unknown[] = [];
    const n = new SystemdNotifier({ socket: address, onError: (e) => errors.push(e) });
    expect(n.ready('x')).toBe(false);
    expect(errors).toEqual([expect.objectContaining({ code: 'NOTIFY_SEND' })]);
    const bad = new SystemdNotifier({
      socket: 'relative',
      watchdogUsec: 1000,
      onError: (e) => errors.push(e),
    });
    expect(bad.enabled).toBe(false);
    expect(bad.watchdogInterval()).toBeUndefined();
    expect(errors[1]).toBeInstanceOf(BadNotifySocketError);
  });
});

describe('watchdogUsec() as sd_watchdog_enabled', () => {
  it('reads WATCHDOG_USEC when WATCHDOG_PID is unset or ours', () => {
    expect(watchdogUsec({ WATCHDOG_USEC: '2000000' }, 42)).toBe(2_000_000);
    expect(watchdogUsec({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: '42' }, 42)).toBe(2_000_000);
    expect(watchdogInterval({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: '42' }, 42)).toBe(2000);
    // our parent's watchdog, not ours
    expect(watchdogUsec({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: '41' }, 42)).toBeUndefined();
    for (const bad of ['', '0', '-5', '1.5', 'abc', '99999999999999999999'])
      expect(watchdogUsec({ WATCHDOG_USEC: bad }, 42)).toBeUndefined();
    expect(watchdogUsec({}, 42)).toBeUndefined();
  });
});

describe('SystemdNotifier', () => {
  it('pings WATCHDOG=1 at once and every half of the timeout, from a timer, until stopped', async () => {
    const s = open('abstract');
    const n = new SystemdNotifier({ socket: s.address, watchdogUsec: 200_000 });
    const t0 = Date.now();
    expect(n.startWatchdog()).toBe(true);
    await s.next('WATCHDOG', 1000);
    await new Promise((r) => setTimeout(r, 1050));
    n.stopWatchdog();
    const pings = s.received.filter((m) => m.fields.WATCHDOG === '1');
    expect(pings[0]?.at ?? Number.NaN).toBeLessThan(t0 + 50);
    // 100 ms apart: 10 or 11 in 1.05 s (one more or less on a loaded machine)
    expect(pings.length).toBeGreaterThanOrEqual(9);
    expect(pings.length).toBeLessThanOrEqual(12);
    const count = pings.length;
    await new Promise((r) => setTimeout(r, 400));
    expect(s.received.filter((m) => m.fields.WATCHDOG === '1').length).toBe(count);
    // no watchdog asked for: none runs
    expect(new SystemdNotifier({ socket: s.address }).startWatchdog()).toBe(false);
  });

  it('READY, RELOADING with MONOTONIC_USEC on CLOCK_MONOTONIC, STOPPING, STATUS only when it changes', async () => {
    const s = open('path');
    const n = new SystemdNotifier({ socket: s.address });
    expect(n.enabled).toBe(true);
    n.ready('joined');
    n.reloading('reloading');
    // CLOCK_MONOTONIC counts from boot, as /proc/uptime does (no suspend in a test machine)
    const uptimeUsec = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1e6;
    n.status('joined');
    n.status('holding local');
    n.status('holding local');
    n.stopping('stopping');
    const stop = await s.next('STOPPING', 2000);
    const texts = s.received.slice(0, stop.index + 1).map((m) => m.fields);
    expect(texts[0]).toEqual({ READY: '1', STATUS: 'joined' });
    expect(texts[1]).toMatchObject({ RELOADING: '1', STATUS: 'reloading' });
    expect(Math.abs(Number(texts[1]?.MONOTONIC_USEC) - uptimeUsec)).toBeLessThan(2e6);
    expect(Number(texts[1]?.MONOTONIC_USEC)).toBeLessThanOrEqual(Number(monotonicUsec()));
    expect(texts.slice(2)).toEqual([
      { STATUS: 'joined' },
      { STATUS: 'holding local' },
      { STOPPING: '1', STATUS: 'stopping' },
    ]);
  });

  it('a status line for systemctl status', () => {
    expect(
      clusterStatusLine({
        node: 'load1',
        nodeStatus: 'active',
        holding: 'local',
        state: 'stable',
        peers: [{ name: 'load2', status: 'dead', links: {} }],
        directors: [],
        vips: ['192.0.2.50/32'],
      }),
    ).toBe('load1 active, holding local (stable), VIPs 192.0.2.50/32; load2 dead');
  });
});

describe('a real process', () => {
  const systemdTs = fileURLToPath(new URL('../src/systemd.ts', import.meta.url));
  // tsx maps the @lvs-ha packages to their sources (no build needed)
  const tsconfig = fileURLToPath(new URL('guest.tsconfig.json', import.meta.url));
  const run = (script: string, env: Record<string, string>) => {
    const child = spawn(process.execPath, ['--import', tsxLoader(), '--input-type=module', '-e', script], {
      env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    return { exited, out: () => out };
  };

  it('takes NOTIFY_SOCKET and WATCHDOG_* out of what its children inherit, and still notifies', async () => {
    const s = open('abstract');
    const p = run(
      `import { SystemdNotifier } from ${JSON.stringify(systemdTs)};
       import { execFileSync } from 'node:child_process';
       const n = SystemdNotifier.fromEnvironment();
       const env = execFileSync('sh', ['-c', 'env'], { encoding: 'utf8' });
       n.ready(env.split('\\n').filter((l) => /^(NOTIFY_SOCKET|WATCHDOG_)/.test(l)).join(' ') || 'none inherited');
       console.log('watchdog', n.watchdogInterval());`,
      { NOTIFY_SOCKET: s.address, WATCHDOG_USEC: '5000000', WATCHDOG_PID: '' },
    );
    const ready = await s.next('READY', 20_000);
    expect(ready.fields.STATUS).toBe('none inherited');
    expect(await p.exited, p.out()).toBe(0);
    expect(p.out()).toContain('watchdog 5000');
  }, 30_000);

  it('a main thread that blocks stops its pings; they come back when it runs again', async () => {
    const s = open('path');
    const p = run(
      `import { SystemdNotifier } from ${JSON.stringify(systemdTs)};
       const n = SystemdNotifier.fromEnvironment();
       n.startWatchdog();
       n.ready('up');
       setTimeout(() => {
         n.notify({ STATUS: 'blocking' });
         const until = Date.now() + 1200;
         while (Date.now() < until) {}
         n.notify({ STATUS: 'running again' });
         setTimeout(() => process.exit(0), 500);
       }, 500);
       setInterval(() => {}, 1000);`,
      { NOTIFY_SOCKET: s.address, WATCHDOG_USEC: '200000', WATCHDOG_PID: '' },
    );
    const blocking = await s.next('STATUS', 20_000, 'blocking');
    const again = await s.next('STATUS', 5000, 'running again');
    expect(await p.exited, p.out()).toBe(0);
    const pings = s.received.filter((m) => m.fields.WATCHDOG === '1').map((m) => m.at);
    const during = pings.filter((t) => t > blocking.at + 20 && t < again.at - 20);
    expect(during).toEqual([]);
    expect(again.at - blocking.at).toBeGreaterThan(1100);
    // before: every 100 ms; after: again
    expect(pings.filter((t) => t < blocking.at).length).toBeGreaterThanOrEqual(3);
    expect(pings.filter((t) => t > again.at).length).toBeGreaterThanOrEqual(3);
  }, 30_000);
});
