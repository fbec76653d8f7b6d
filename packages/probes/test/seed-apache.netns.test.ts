// The seed's check, verbatim from examples/seed/ha.d/ldirectord.cf
// (checktype = 4, /server-status expecting "Apache Server Status",
// negotiatetimeout = 20), run by the Monitor on load1 against Debian's Apache
// with mod_status on the seed's real servers. Only the addresses change (the
// seed's 12.3.4.x are not ours to use) and checkinterval goes from 5 to 1 s
// to keep the test short. A third real server is added for the black hole.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ApacheServer, Lab, seedTopologyWith } from '@lvs-ha/lab';
import { describeWithLab } from '@lvs-ha/lab/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { monitorFromLdirectordCf } from '../src/index.js';
import { type Prober, startProber } from './helpers/prober.js';

const seedCf = readFileSync(
  fileURLToPath(new URL('../../../examples/seed/ha.d/ldirectord.cf', import.meta.url)),
  'utf8',
);

describeWithLab(['netns'], "the seed's check against Apache with mod_status", () => {
  let lab: Lab;
  let prober: Prober;
  const maint = mkdtempSync(join(tmpdir(), 'probes-maint-'));
  const apache: Record<string, ApacheServer> = {};

  beforeAll(async () => {
    lab = await Lab.start(seedTopologyWith({ realServers: 3 }));
    const [a1, a2, a3] = await Promise.all(['rs1', 'rs2', 'rs3'].map((h) => lab.host(h).startApache()));
    Object.assign(apache, { rs1: a1, rs2: a2, rs3: a3 });
    prober = await startProber(lab.host('load1').ns);
  });
  afterAll(async () => {
    await prober?.close();
    for (const pid of (await lab?.host('rs2').ns.pids()) ?? []) process.kill(pid, 'SIGCONT');
    for (const a of Object.values(apache)) await a.stop().catch(() => {});
    await lab?.stop();
    rmSync(maint, { recursive: true, force: true });
  });

  it('is up on healthy Apache; down when stopped (refused), SIGSTOPped (timeout at negotiatetimeout) and black-holed (timeout); up again after', async () => {
    const cf = seedCf
      .replace('checkinterval = 5', `checkinterval = 1\nmaintenancedir = ${maint}`)
      .replaceAll('12.3.4.50', '192.0.2.50')
      .replace('real = 12.3.4.100:80 gate 5', 'real = 192.0.2.21:80 gate 5')
      .replace('real = 12.3.4.101:80 gate 5', 'real = 192.0.2.22:80 gate 5\n\treal = 192.0.2.23:80 gate 5');
    // The check lines themselves are the seed's.
    for (const line of [
      'checktype = 4',
      'request = "/server-status"',
      'receive = "Apache Server Status"',
      'negotiatetimeout = 20',
    ])
      expect(cf).toContain(line);
    const { servers, options } = monitorFromLdirectordCf(cf);
    expect(options).toEqual({ maintenancedir: maint });
    expect(servers).toHaveLength(3);
    const id = (ip: string) => `tcp:192.0.2.50:80/${ip}:80`;
    await prober.call('monitor', { servers, monitorOptions: { ...options, jitter: 0 } });
    for (const ip of ['192.0.2.21', '192.0.2.22', '192.0.2.23']) {
      const t = await prober.transition((t) => t.id === id(ip) && t.up, 15_000);
      expect(t.result.detail).toMatch(/^HTTP\/1\.1 200 OK/); // the first check negotiates
    }

    const t0 = Date.now();
    await apache.rs1?.stop(); // stopped
    // Hung: every Apache process stopped (signalled from outside: a shell inside would stop itself).
    const signalAll = async (sig: NodeJS.Signals) => {
      for (const pid of await lab.host('rs2').ns.pids()) process.kill(pid, sig);
    };
    await signalAll('SIGSTOP');
    await lab.host('rs3').ns.sh('ip rule add pref 10 ipproto tcp sport 80 blackhole'); // port black-holed

    const [stopped, hung, holed] = await Promise.all([
      prober.transition((t) => t.id === id('192.0.2.21') && !t.up, 10_000),
      prober.transition((t) => t.id === id('192.0.2.22') && !t.up, 40_000),
      prober.transition((t) => t.id === id('192.0.2.23') && !t.up, 40_000),
    ]);
    expect(stopped.result.reason).toBe('refused');
    expect(stopped.at - t0).toBeLessThan(3000);
    // Connect checks still pass on a stopped Apache (the kernel accepts); the
    // negotiate round waits negotiatetimeout = 20 s for an answer.
    expect(hung.result.reason).toBe('timeout');
    expect(hung.result.durationMs).toBeGreaterThanOrEqual(19_900);
    // A connect check to a black hole waits checktimeout, which defaults to negotiatetimeout.
    expect(holed.result.reason).toBe('timeout');
    expect(holed.result.durationMs).toBeGreaterThanOrEqual(19_900);

    const t1 = Date.now();
    await signalAll('SIGCONT');
    await lab.host('rs3').ns.sh('ip rule del pref 10');
    apache.rs1 = await lab.host('rs1').startApache();
    for (const ip of ['192.0.2.21', '192.0.2.22', '192.0.2.23']) {
      const back = await prober.transition((t) => t.id === id(ip) && t.up && t.at >= t1, 15_000);
      expect(back.result.ok).toBe(true);
    }

    // maintenancedir (a global the seed does not set): a file named after rs2 takes it out.
    const t2 = Date.now();
    writeFileSync(join(maint, '192.0.2.22'), '');
    const out = await prober.transition((t) => t.id === id('192.0.2.22') && !t.up && t.at >= t2, 5_000);
    expect(out.result).toMatchObject({ reason: 'maintenance' });
    expect(out.result.detail).toContain(`${maint}/192.0.2.22 exists`);
    const t3 = Date.now();
    rmSync(join(maint, '192.0.2.22'));
    await prober.transition((t) => t.id === id('192.0.2.22') && t.up && t.at >= t3, 5_000);
  }, 120_000);
});
