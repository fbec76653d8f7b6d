import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { bridge, cleanupStaleNetns, LabError, Netns, OUTPUT_LIMIT, runLocal, veth } from '../src/index.js';
import { describeWithLab } from '../src/vitest.js';

/** A pid that exists and is not a zombie waiting for its (re)parent to reap it. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describeWithLab(['root', 'netns'], 'Netns on this machine', () => {
  const made: Netns[] = [];
  afterAll(async () => {
    for (const ns of made) await ns.destroy();
  });

  it('creates a uniquely named namespace with lo up, runs commands in it, and destroys it', async () => {
    const ns = await Netns.create('t');
    made.push(ns);
    expect(ns.name).toMatch(new RegExp(`^lvsha-${process.pid}-(\\d+_)?\\d+-t$`));
    expect(existsSync(`/run/netns/${ns.name}`)).toBe(true);
    const r = await ns.exec(['ip', '-o', 'link', 'show', 'lo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('UP');
    const fail = await ns.exec(['sh', '-c', 'echo oops >&2; exit 3']);
    expect(fail).toEqual({ stdout: '', stderr: 'oops\n', code: 3 });
    await ns.destroy();
    expect(existsSync(`/run/netns/${ns.name}`)).toBe(false);
    await expect(ns.exec(['true'])).rejects.toBeInstanceOf(LabError);
    await expect(runLocal(['sleep', '20'], { timeoutMs: 200 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(runLocal(['sh', '-c', 'exit 4'], { check: true })).rejects.toMatchObject({
      code: 'COMMAND_FAILED',
      exitCode: 4,
    });
  });

  it('connects two namespaces through a bridge in a third and pings across', async () => {
    const [a, b, sw] = await Promise.all([Netns.create('a'), Netns.create('b'), Netns.create('sw')]);
    made.push(a, b, sw);
    await veth(a, 'eth0', sw, 'a0');
    await veth(b, 'eth0', sw, 'b0');
    await bridge(sw, 'br0', ['a0', 'b0']);
    await a.addAddress('eth0', '192.0.2.1/24');
    await b.addAddress('eth0', '192.0.2.2/24');
    const ping = await a.exec(['ping', '-c', '1', '-W', '2', '192.0.2.2']);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    // Nothing leaked into the root namespace.
    const root = await b.runner.exec(['ip', '-o', 'link']);
    expect(root.stdout).not.toMatch(/\ba0\b|\bb0\b/);
    // Cutting the bridge port stops the traffic.
    await sw.linkDown('b0');
    const lost = await a.exec(['ping', '-c', '1', '-W', '1', '192.0.2.2']);
    expect(lost.code).not.toBe(0);
  });

  it('spawns a long-running process inside and kills every process on destroy', async () => {
    const ns = await Netns.create('p');
    made.push(ns);
    const child = ns.spawn(['sleep', '30']);
    await new Promise((r) => child.once('spawn', r));
    let pids: number[] = [];
    for (let i = 0; i < 150 && pids.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      pids = await ns.pids();
    }
    expect(pids.length).toBeGreaterThan(0);
    const closed = new Promise((r) => child.once('close', r));
    await ns.destroy();
    await closed;
    expect(child.signalCode ?? child.exitCode).not.toBe(0);
  });

  it('keeps the end of a background process’s output, at most OUTPUT_LIMIT bytes', async () => {
    const ns = await Netns.create('out');
    made.push(ns);
    const p = await ns.start(['sh', '-c', 'head -c 3000000 /dev/zero | tr "\\0" a; echo END']);
    for (let i = 0; i < 50 && (await p.running()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await p.running()).toBe(false);
    const out = await p.output();
    expect(out.length).toBe(OUTPUT_LIMIT);
    expect(out.endsWith('aaaEND\n')).toBe(true);
  });

  it('removes namespaces and processes left behind by a killed process', async () => {
    // A child process creates a lab namespace, starts a sleeper in it, and is SIGKILLed.
    // Plain JS so the child needs no TypeScript loader; it names its namespace the way Netns does.
    const script = `
      const { execFileSync, spawn } = require('node:child_process');
      const name = 'lvsha-' + process.pid + '-1-stale';
      execFileSync('ip', ['netns', 'add', name]);
      require('node:fs').mkdirSync('/tmp/lvsha-apache-' + process.pid + '-rs9-test', { recursive: true });
      spawn('ip', ['netns', 'exec', name, 'sleep', '60'], { detached: true, stdio: 'ignore' }).unref();
      process.stdout.write(name + '\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const name = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (b: Buffer) => resolve(b.toString().trim()));
      child.once('exit', (c) => reject(new Error(`child exited ${c}`)));
    });
    expect(existsSync(`/run/netns/${name}`)).toBe(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(`/run/netns/${name}`)).toBe(true);
    // The sleeper joins the namespace once `ip netns exec` has run (slow on a busy machine).
    let sleeper = '';
    for (let i = 0; i < 150 && !sleeper; i++) {
      await new Promise((r) => setTimeout(r, 20));
      sleeper = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout.trim();
    }
    expect(sleeper).not.toBe('');
    const removed = cleanupStaleNetns();
    expect(removed).toContain(name);
    expect(existsSync(`/tmp/lvsha-apache-${child.pid}-rs9-test`)).toBe(false);
    expect(existsSync(`/run/netns/${name}`)).toBe(false);
    // The sleeper inside was killed too.
    const pid = Number(sleeper.split(/\s+/)[0]);
    for (let i = 0; i < 150 && running(pid); i++) await new Promise((r) => setTimeout(r, 20));
    expect(running(pid)).toBe(false);
  });
});
