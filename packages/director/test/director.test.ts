// The Director against real connect checks (listeners on loopback) and the
// IPVS binding on the ipvs package's fake kernel (the kernel's own errnos),
// so the table it keeps can be read back after every change.
import { createServer, type Server } from 'node:net';
import { parseLdirectordCfStrict, resolveLdirectordDefaults } from '@lvs-ha/ha-config';
import { Ipvs, type TableService } from '@lvs-ha/ipvs';
import { until as poll } from '@lvs-ha/lab';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeKernel } from '../../ipvs/test/helpers/fake-kernel.js';
import {
  type Applied,
  Director,
  type DirectorError,
  type DirectorFallback,
  type DirectorSysctlChange,
  type DirectorTransition,
  describeSysctlChange,
} from '../src/index.js';

const resolve = (text: string) => resolveLdirectordDefaults(parseLdirectordCfStrict(text));

async function listen(): Promise<Server & { port: number }> {
  const s = createServer((c) => c.destroy());
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return Object.assign(s, { port: (s.address() as { port: number }).port });
}
const closed = (s: Server) => new Promise<void>((r) => s.close(() => r()));
const cf = (a: number, b: number, extra = '') => `
checkinterval = 1
checktimeout = 1
fallback = 127.0.0.9:80 gate
${extra}
virtual = 192.0.2.50:80
	real = 127.0.0.1:${a} gate 5
	real = 127.0.0.1:${b} gate 3
	scheduler = wrr
	checktype = connect
`;
const dests = (t: TableService[], port = 80) =>
  t
    .find((s) => s.port === port)
    ?.destinations.map((d) => `${d.address}:${d.port}/${d.weight}`)
    .sort();

describe('Director', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function setup(text: string, kernel = new FakeKernel()) {
    const ipvs = await Ipvs.open({ transport: kernel });
    const sysctls = new Map([['net.ipv4.vs.expire_nodest_conn', '0']]);
    const sysctl = {
      get: async (n: string) => {
        const v = sysctls.get(n);
        if (v === undefined) throw new Error(`ENOENT: /proc/sys/${n}`);
        return v;
      },
      set: async (n: string, v: string) => void sysctls.set(n, v),
    };
    const director = new Director({ ipvs, retryMs: 200, sysctl });
    const sysctlChanges: DirectorSysctlChange[] = [];
    director.on('sysctl', (c) => sysctlChanges.push(c));
    const applied: Applied[] = [];
    const errors: DirectorError[] = [];
    const transitions: DirectorTransition[] = [];
    director.on('applied', (a) => applied.push(a));
    director.on('error', (e) => errors.push(e));
    director.on('transition', (t) => transitions.push(t));
    cleanup.push(() => ipvs.close());
    // the test's condition, read every 50 ms; the timeout says what the director last applied
    const until = (pred: () => Promise<boolean> | boolean, ms = 5000) =>
      poll('the condition', pred, ms, { everyMs: 50, detail: () => JSON.stringify(applied.at(-1)) });
    return {
      ipvs,
      director,
      applied,
      errors,
      transitions,
      until,
      config: resolve(text),
      sysctls,
      sysctlChanges,
    };
  }

  it('keeps the table to the checks: both up, one down (removed), all down (fallback), back up', async () => {
    const [a, b] = [await listen(), await listen()];
    cleanup.push(
      () => closed(a),
      () => closed(b),
    );
    const { ipvs, director, until, transitions, config } = await setup(cf(a.port, b.port));
    cleanup.push(async () => {
      await director.stop();
    });
    // At start nothing is checked and nothing is in the table: the fallback serves.
    const first = await director.start(config);
    expect(first.status[0]).toMatchObject({ id: 'tcp:192.0.2.50:80', fallback: '127.0.0.9:80' });
    expect(dests(await ipvs.getTable())).toEqual(['127.0.0.9:80/1']);
    await until(
      async () =>
        dests(await ipvs.getTable())?.length === 2 && dests(await ipvs.getTable())?.[0] !== '127.0.0.9:80/1',
    );
    expect(dests(await ipvs.getTable())).toEqual([`127.0.0.1:${a.port}/5`, `127.0.0.1:${b.port}/3`].sort());

    await closed(a);
    await until(async () => dests(await ipvs.getTable())?.length === 1);
    expect(dests(await ipvs.getTable())).toEqual([`127.0.0.1:${b.port}/3`]);
    expect(transitions.find((t) => !t.up)).toMatchObject({
      virtual: 'tcp:192.0.2.50:80',
      real: { address: '127.0.0.1', port: a.port },
      result: { reason: 'refused' },
    });

    await closed(b);
    await until(async () => dests(await ipvs.getTable())?.[0] === '127.0.0.9:80/1');
    expect(director.status()[0]?.fallback).toBe('127.0.0.9:80');

    b.listen(b.port, '127.0.0.1');
    await until(async () => dests(await ipvs.getTable())?.[0] === `127.0.0.1:${b.port}/3`);
    expect(dests(await ipvs.getTable())).toEqual([`127.0.0.1:${b.port}/3`]);
  });

  it('drain waits until no active connection was counted for settleMs: a connection that becomes active after the weight went to 0 is waited for', async () => {
    const [a, b] = [await listen(), await listen()];
    cleanup.push(
      () => closed(a),
      () => closed(b),
    );
    const kernel = new FakeKernel();
    const { ipvs, director, until, config } = await setup(cf(a.port, b.port), kernel);
    cleanup.push(async () => {
      await director.stop();
    });
    await director.start(config);
    await until(async () => dests(await ipvs.getTable())?.length === 2);
    const real = `127.0.0.1:${a.port}`;
    /** The fake kernel's entry of the drained real server (a weight change replaces it: looked up each time). */
    const entry = () =>
      [...kernel.services.values()].flatMap((e) => [...e.dests.values()]).find((d) => d.port === a.port);
    // as in the kernel: a connection scheduled just before the weight change is SYN_RECV
    // (inactive) at the first read, ESTABLISHED (active) one round trip later, closed after a while
    const timers = [
      setTimeout(() => Object.assign(entry() ?? {}, { activeConns: 1 }), 150),
      setTimeout(() => Object.assign(entry() ?? {}, { activeConns: 0 }), 700),
    ];
    cleanup.push(() => timers.forEach(clearTimeout));
    const t0 = performance.now();
    const r = await director.drain({ real }, { waitMs: 10_000, pollMs: 50, settleMs: 500 });
    const ms = performance.now() - t0;
    expect(r).toMatchObject({ drained: true, removed: false, reals: [{ real, activeConns: 0 }] });
    // not at the first read (0), nor before the active one closed (700 ms) and 500 ms of none after it
    expect(ms).toBeGreaterThanOrEqual(1150);
    expect(ms).toBeLessThan(5000);
    expect(dests(await ipvs.getTable())).toContain(`${real}/0`);
    // a drain that runs out of time while one is active is not drained
    Object.assign(entry() ?? {}, { activeConns: 2 });
    const late = await director.drain({ real }, { waitMs: 300, pollMs: 50, settleMs: 500 });
    expect(late).toMatchObject({ drained: false, reals: [{ real, activeConns: 2 }] });
  });

  it('start sets expire_nodest_conn to 1 and says so (a new connection is not sent to a drained or removed real server by an old entry)', async () => {
    const [a, b] = [await listen(), await listen()];
    cleanup.push(
      () => closed(a),
      () => closed(b),
    );
    const { director, config, sysctls, sysctlChanges } = await setup(cf(a.port, b.port));
    cleanup.push(async () => {
      await director.stop();
    });
    await director.start(config);
    expect(sysctls.get('net.ipv4.vs.expire_nodest_conn')).toBe('1');
    expect(sysctlChanges).toEqual([{ name: 'net.ipv4.vs.expire_nodest_conn', value: '1', was: '0' }]);
    expect(describeSysctlChange(sysctlChanges[0] as DirectorSysctlChange)).toMatch(
      /^sysctl net\.ipv4\.vs\.expire_nodest_conn 0 -> 1 /,
    );
  });

  it('a sysctl that cannot be read is a warning, and the Director starts', async () => {
    const [a, b] = [await listen(), await listen()];
    cleanup.push(
      () => closed(a),
      () => closed(b),
    );
    const { director, config, sysctls, sysctlChanges, ipvs, until } = await setup(cf(a.port, b.port));
    cleanup.push(async () => {
      await director.stop();
    });
    sysctls.clear();
    await director.start(config);
    expect(sysctlChanges).toEqual([
      { name: 'net.ipv4.vs.expire_nodest_conn', value: '1', error: expect.stringMatching(/ENOENT/) },
    ]);
    expect(describeSysctlChange(sysctlChanges[0] as DirectorSysctlChange)).toMatch(/^warning sysctl /);
    await until(async () => dests(await ipvs.getTable())?.length === 2);
  });

  it('firstRoundMs: the first table waits for the first checks, so no fallback while real servers are up', async () => {
    const [a, b] = [await listen(), await listen()];
    cleanup.push(
      () => closed(a),
      () => closed(b),
    );
    const { ipvs, director, config } = await setup(cf(a.port, b.port));
    cleanup.push(async () => {
      await director.stop();
    });
    const t0 = performance.now();
    const first = await director.start(config, { firstRoundMs: 3000 });
    // connect checks on loopback answer in milliseconds: the wait ends with them, not at the deadline
    expect(performance.now() - t0).toBeLessThan(2500);
    expect(first.status[0]?.fallback).toBeUndefined();
    expect(first.operations.map((o) => o.op)).toEqual(['add-service', 'add-destination', 'add-destination']);
    expect(dests(await ipvs.getTable())).toEqual([`127.0.0.1:${a.port}/5`, `127.0.0.1:${b.port}/3`].sort());
  });

  it('report(): the kernel entry of each real server beside what its checks say', async () => {
    const [a, b] = [await listen(), await listen()];
    cleanup.push(() => closed(a));
    await closed(b); // b refuses from the start
    const { ipvs, director, until, config } = await setup(cf(a.port, b.port));
    cleanup.push(async () => {
      await director.stop();
    });
    await director.start(config);
    await until(async () => dests(await ipvs.getTable())?.[0] === `127.0.0.1:${a.port}/5`);
    await until(async () => (await director.report())[0]?.reals[1]?.health === 'down');
    const [v] = await director.report();
    expect(v).toMatchObject({
      id: 'tcp:192.0.2.50:80',
      service: '192.0.2.50:80/tcp',
      scheduler: 'wrr',
      inKernel: true,
    });
    expect(v?.fallback).toBeUndefined();
    expect(v?.reals[0]).toMatchObject({
      address: '127.0.0.1',
      port: a.port,
      health: 'up',
      configuredWeight: 5,
      kernel: { weight: 5, activeConns: 0, inactiveConns: 0 },
      last: { ok: true },
    });
    expect(v?.reals[1]).toMatchObject({
      port: b.port,
      health: 'down',
      last: { ok: false, reason: 'refused' },
    });
    expect(v?.reals[1]?.kernel).toBeUndefined();
  });

  it('leaves services it does not own alone; reload removes a virtual no longer named; stop cleans up', async () => {
    const [a, b] = [await listen(), await listen()];
    cleanup.push(
      () => closed(a),
      () => closed(b),
    );
    const text = `${cf(a.port, b.port)}
virtual = 192.0.2.50:443
	real = 127.0.0.1:${a.port} gate 1
	checktype = connect
`;
    const { ipvs, director, until, config } = await setup(text);
    cleanup.push(() => void director.stop().catch(() => {}));
    await ipvs.addService({ protocol: 'tcp', address: '198.51.100.1', port: 25, scheduler: 'rr' });
    await director.start(config);
    await until(
      async () =>
        (await ipvs.getTable()).find((s) => s.port === 443)?.destinations[0]?.address === '127.0.0.1',
    );
    await until(async () => dests(await ipvs.getTable())?.length === 2);
    expect((await ipvs.getTable()).map((s) => s.port).sort()).toEqual([25, 443, 80]);

    await director.reload(resolve(cf(a.port, b.port)));
    expect((await ipvs.getTable()).map((s) => s.port).sort()).toEqual([25, 80]);
    // The unchanged real servers kept their state: no check needed to keep them.
    expect(dests(await ipvs.getTable())).toEqual([`127.0.0.1:${a.port}/5`, `127.0.0.1:${b.port}/3`].sort());

    const removed = await director.stop();
    expect(removed).toEqual([{ op: 'delete-service', service: expect.objectContaining({ port: 80 }) }]);
    expect((await ipvs.getTable()).map((s) => s.port)).toEqual([25]);
  });

  it('a change the kernel refuses is reported with its reason and tried again; the rest of the table stands', async () => {
    const [a, b] = [await listen(), await listen()];
    cleanup.push(
      () => closed(a),
      () => closed(b),
    );
    const text = `${cf(a.port, b.port)}
virtual = 192.0.2.50:8080
	real = 127.0.0.1:${a.port} gate 1
	scheduler = nosuchsched
	checktype = connect
`;
    const { ipvs, director, errors, until, config } = await setup(text);
    cleanup.push(async () => {
      await director.stop();
    });
    await director.start(config);
    await until(() => errors.length >= 2); // the first attempt and a retry
    expect(errors[0]).toMatchObject({ code: 'IPVS_APPLY', name: 'DirectorError' });
    expect(errors[0]?.message).toMatch(/refused \d+ of \d+ changes/);
    expect(errors[0]?.message).toMatch(/nosuchsched/);
    await until(
      async () =>
        dests(await ipvs.getTable())?.length === 2 &&
        !dests(await ipvs.getTable())?.[0]?.startsWith('127.0.0.9'),
    );
    expect((await ipvs.getTable()).map((s) => s.port)).toEqual([80]);
  });

  it('start fails with IPVS_READ when the table cannot be read', async () => {
    const kernel = new FakeKernel();
    const { director, config } = await setup(cf(1, 2), kernel);
    const broken = {
      getTable: () => Promise.reject(new Error('EPERM')),
      reconcile: () => Promise.reject(new Error('no')),
    };
    const d = new Director({ ipvs: broken, retryMs: 60_000 });
    d.on('error', () => {});
    await expect(d.start(config)).rejects.toMatchObject({
      code: 'IPVS_READ',
      message: /cannot read the IPVS table: EPERM/,
    });
    await d.stop().catch(() => {});
    await director.stop();
  });

  it("says when the fallback goes in and out: 'fallback' on when the last real server is down, off when one is back", async () => {
    const [a, b] = [await listen(), await listen()];
    cleanup.push(
      () => closed(a),
      () => closed(b),
    );
    const { ipvs, director, until, config } = await setup(cf(a.port, b.port));
    cleanup.push(async () => {
      await director.stop();
    });
    const said: DirectorFallback[] = [];
    director.on('fallback', (f) => said.push(f));
    // at start nothing is checked yet: the fallback carries the service, then the checks take it out
    await director.start(config);
    await until(() => said.length === 2);
    expect(said).toEqual([
      { virtual: 'tcp:192.0.2.50:80', server: '127.0.0.9:80', on: true },
      { virtual: 'tcp:192.0.2.50:80', server: '127.0.0.9:80', on: false },
    ]);
    await closed(a);
    await closed(b);
    await until(() => said.length === 3);
    expect(said[2]).toEqual({ virtual: 'tcp:192.0.2.50:80', server: '127.0.0.9:80', on: true });
    expect(dests(await ipvs.getTable())).toEqual(['127.0.0.9:80/1']);
    a.listen(a.port, '127.0.0.1');
    await until(() => said.length === 4);
    expect(said[3]).toEqual({ virtual: 'tcp:192.0.2.50:80', server: '127.0.0.9:80', on: false });
    expect(dests(await ipvs.getTable())).toEqual([`127.0.0.1:${a.port}/5`]);
  });
});
