import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type VipEvent, type VipWatcher, watchVips } from '../src/index.js';
import { describeWithNetns, Netns, veth } from './helpers/netns.js';

function next(w: VipWatcher, event: 'vip-lost' | 'vip-present', timeoutMs = 5000): Promise<VipEvent> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} in ${timeoutMs} ms`)), timeoutMs);
    w.once(event, (e: VipEvent) => {
      clearTimeout(t);
      resolve(e);
    });
  });
}

describeWithNetns('watching the VIP through rtnetlink notifications', () => {
  let a: Netns;
  let b: Netns;
  let w: VipWatcher;
  const errors: unknown[] = [];
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vip-watch-'));
    a = await Netns.create('vipw');
    b = await Netns.create('vipx');
    await veth(a, 'eth0', '02:00:5e:00:53:0a', b, 'eth0', '02:00:5e:00:53:0b');
    await a.sh('ip addr add 192.0.2.10/24 dev eth0 && ip addr add 192.0.2.50/32 dev eth0');
    await a.sh('ip addr add 2001:db8::50/64 dev eth0 nodad');
    w = await watchVips({ netns: a.name, vips: ['192.0.2.50/32/eth0', '2001:db8::50'] });
    w.on('error', (e) => errors.push(e));
  });
  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await w?.close();
    await a?.destroy();
    await b?.destroy();
  });

  it('starts from the current state', () => {
    expect(w.vipStates()).toEqual([
      { address: '192.0.2.50', interface: 'eth0', held: true },
      { address: '2001:db8::50', interface: undefined, held: true },
    ]);
  });

  it('fires when an admin deletes the VIP, and again when it comes back', async () => {
    const lost = next(w, 'vip-lost');
    await a.sh('ip addr del 192.0.2.50/32 dev eth0');
    expect(await lost).toEqual({ address: '192.0.2.50', interface: 'eth0', reason: 'deleted' });
    const back = next(w, 'vip-present');
    await a.sh('ip addr add 192.0.2.50/32 dev eth0');
    expect(await back).toMatchObject({ address: '192.0.2.50', interface: 'eth0' });
    const lost6 = next(w, 'vip-lost');
    await a.sh('ip addr del 2001:db8::50/64 dev eth0');
    expect(await lost6).toEqual({ address: '2001:db8::50', interface: 'eth0', reason: 'deleted' });
    await a.sh('ip addr add 2001:db8::50/64 dev eth0 nodad');
  });

  it('fires when the link goes down', async () => {
    await new Promise((r) => setTimeout(r, 100));
    const lost = next(w, 'vip-lost');
    await a.sh('ip link set eth0 down');
    expect(await lost).toMatchObject({ address: '192.0.2.50', reason: 'link-down' });
    await a.sh('ip link set eth0 up');
    await a.sh('ip addr add 2001:db8::50/64 dev eth0 nodad 2>/dev/null || true');
    await new Promise((r) => setTimeout(r, 300));
    expect(w.vipStates().every((v) => v.held)).toBe(true);
  });

  it('survives a burst of 10,000 address changes and still reports the deletion', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const ip = `198.51.100.${i % 250}`;
      // Different /32s share addresses across rounds; add then delete each.
      lines.push(`addr add ${ip}/32 dev eth0`, `addr del ${ip}/32 dev eth0`);
    }
    const file = join(dir, 'burst.batch');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const before = { ...w.stats };
    const started = performance.now();
    await a.sh(`ip -batch ${file}`);
    const lost = next(w, 'vip-lost', 15_000);
    await a.sh('ip addr del 192.0.2.50/32 dev eth0');
    expect(await lost).toMatchObject({ address: '192.0.2.50', interface: 'eth0' });
    const elapsed = performance.now() - started;
    const seen = w.stats.messages - before.messages;
    const overruns = w.stats.overruns - before.overruns;
    console.log(
      `burst: ${seen} notifications read, ${overruns} overruns, ${w.stats.resyncs} resyncs, deletion reported ${Math.round(elapsed)} ms after the burst began`,
    );
    // Either every notification was read, or the kernel said it dropped some and we re-read the state.
    expect(seen >= 10_000 || overruns > 0).toBe(true);
    expect(errors).toEqual([]);
    // Still alive and still watching.
    const back = next(w, 'vip-present');
    await a.sh('ip addr add 192.0.2.50/32 dev eth0');
    await back;
  }, 60_000);

  it('recovers from kernel overruns (tiny receive buffer): re-reads the state and reports the deletion', async () => {
    const small = await watchVips({ netns: a.name, vips: ['192.0.2.50/32/eth0'], receiveBufferBytes: 1 });
    const smallErrors: unknown[] = [];
    small.on('error', (e) => smallErrors.push(e));
    try {
      expect(small.vipStates()[0]!.held).toBe(true);
      const lines: string[] = [];
      for (let i = 0; i < 5000; i++)
        lines.push(`addr add 203.0.113.${i % 250}/32 dev eth0`, `addr del 203.0.113.${i % 250}/32 dev eth0`);
      // The deletion rides at the end of the burst, where it is likeliest to be dropped.
      lines.push('addr del 192.0.2.50/32 dev eth0');
      const file = join(dir, 'burst2.batch');
      writeFileSync(file, `${lines.join('\n')}\n`);
      const lost = next(small, 'vip-lost', 15_000);
      await a.sh(`ip -batch ${file}`);
      expect(await lost).toMatchObject({ address: '192.0.2.50', interface: 'eth0' });
      await new Promise((r) => setTimeout(r, 500));
      console.log(
        `tiny buffer: ${small.stats.messages} notifications read, ${small.stats.overruns} overruns, ${small.stats.resyncs} resyncs`,
      );
      expect(small.stats.overruns).toBeGreaterThan(0);
      expect(small.stats.resyncs).toBeGreaterThan(0);
      expect(small.stats.messages).toBeLessThan(10_001);
      expect(smallErrors).toEqual([]);
      expect(small.vipStates()[0]!.held).toBe(false);
    } finally {
      await small.close();
      await a.sh('ip addr add 192.0.2.50/32 dev eth0 2>/dev/null || true');
    }
  }, 60_000);

  function burstFile(tag: string, tail: string[] = []): string {
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++)
      lines.push(`addr add 203.0.113.${i % 250}/32 dev eth0`, `addr del 203.0.113.${i % 250}/32 dev eth0`);
    const file = join(dir, `${tag}.batch`);
    writeFileSync(file, `${[...lines, ...tail].join('\n')}\n`);
    return file;
  }
  const block = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

  it('keeps reading while the main thread is blocked for 2 s during the burst', async () => {
    const lost = next(w, 'vip-lost', 15_000);
    const batch = a.spawn(['ip', '-batch', burstFile('blocked', ['addr del 192.0.2.50/32 dev eth0'])]);
    block(2000); // the worker thread keeps draining the socket meanwhile
    await once(batch, 'exit');
    expect(await lost).toMatchObject({ address: '192.0.2.50', interface: 'eth0' });
    expect(errors).toEqual([]);
    await a.sh('ip addr add 192.0.2.50/32 dev eth0');
  }, 60_000);

  it('(why) the same burst aborts a process subscribed through the netlink package', async () => {
    const script = fileURLToPath(new URL('child/netlink-package-subscriber.ts', import.meta.url));
    const child = spawn(
      'ip',
      ['netns', 'exec', a.name, process.execPath, '--import', 'tsx', script, '212992', '2000'],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    while (!out.includes('subscribed')) await new Promise((r) => setTimeout(r, 50));
    await a.sh(`ip -batch ${burstFile('nlpkg')}`);
    const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
    const { code, signal } = await exited;
    clearTimeout(timer);
    console.log(
      `netlink package subscriber: exit ${code} signal ${signal}: ${out.trim().split('\n').slice(-2).join(' | ')}`,
    );
    // SIGABRT from "terminate called after throwing an instance of 'Napi::Error'", not our SIGKILL.
    expect(out).toContain("terminate called after throwing an instance of 'Napi::Error'");
    expect(signal === 'SIGABRT' || code === 134).toBe(true);
  }, 60_000);

  it('replaces a worker that died and reads the state again; a throwing listener becomes an error event', async () => {
    const resynced = new Promise((r) => w.once('resync', r));
    // White-box: kill the reader thread the way a crash would.
    await (w as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await resynced;
    expect(w.stats.workerRestarts).toBe(1);
    const boom = new Error('listener bug');
    const thrower = () => {
      throw boom;
    };
    w.on('vip-lost', thrower);
    const lost = next(w, 'vip-lost');
    await a.sh('ip addr del 192.0.2.50/32 dev eth0');
    expect(await lost).toMatchObject({ address: '192.0.2.50', reason: 'deleted' });
    w.off('vip-lost', thrower);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toContain('listener bug');
    errors.length = 0;
    await a.sh('ip addr add 192.0.2.50/32 dev eth0');
  });
});
