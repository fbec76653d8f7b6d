// Interop with the real Heartbeat 3.0.6: a real node ("alpha", Debian's
// daemon in its own network/mount/UTS namespaces) and our node ("beta",
// examples/hb-proto-node.ts) on one segment with the same ha.cf and authkeys.
// Each must see the other come up; when one is killed the other declares it
// dead within deadtime. The real side's view is read with cl_status.
import { RealHeartbeat, type Segment, segment } from '@lvs-ha/lab';
import { describeWithLab } from '@lvs-ha/lab/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OurNode } from './support/our-node.js';

const KEEPALIVE_MS = 250;
const DEADTIME_MS = 2000;
// slack for wall-clock checks: cl_status polling (200 ms), process start-up
// and a 2-core machine shared with other suites (qemu guests among them)
const SLACK_MS = 3000;

type Method = 'crc' | 'md5' | 'sha1';

function haCf(media: string, deadtimeMs = DEADTIME_MS): string {
  return [
    'logfile /var/log/ha-log',
    `keepalive ${KEEPALIVE_MS}ms`,
    `deadtime ${deadtimeMs}ms`,
    'warntime 1',
    'initdead 4',
    'udpport 694',
    media,
    'auto_failback on',
    'node alpha beta',
    '',
  ].join('\n');
}

const authkeys = (m: Method) => `auth 3\n3 ${m}${m === 'crc' ? '' : ' interop-secret'}\n`;

describeWithLab(['root', 'netns'], 'interop with the real Heartbeat 3.0.6', () => {
  let seg: Segment;
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    seg = await segment(['alpha', 'beta']);
  });
  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    await seg?.destroy();
  });

  /** `full: false` stops after the real node saw us die (the IPv6 variants, to keep the suite short). */
  async function scenario(method: Method, media: { real: string; ours: string }, full = true): Promise<void> {
    const [nsA, nsB] = seg.nodes as [(typeof seg.nodes)[0] & object, (typeof seg.nodes)[0] & object];
    const real = await RealHeartbeat.start({
      ns: nsA,
      name: 'alpha',
      haCf: haCf(media.real),
      authkeys: authkeys(method),
    });
    cleanups.push(() => real.cleanup());
    let ours = await OurNode.start(nsB, 'beta', { haCf: haCf(media.ours), authkeys: authkeys(method) });
    cleanups.push(() => ours.cleanup());
    try {
      // both see each other up (the real node: active once it exchanged node lists with us)
      await ours.waitFor(
        (l) => l.event === 'status' && l.node === 'alpha' && l.status === 'active',
        20_000,
        'alpha active',
      );
      expect(await real.waitStatus(['nodestatus', 'beta'], 'active', 20_000)).toBe('active');
      await ours.waitFor(
        (l) => l.event === 'status' && l.node === 'beta' && l.status === 'active',
        10_000,
        'our own active',
      );
      expect(ours.lines.filter((l) => l.event === 'rejected')).toEqual([]);

      // we crash: the real node declares us dead within deadtime
      ours.kill('SIGKILL');
      await ours.exited;
      const killedAt = Date.now();
      expect(await real.waitStatus(['nodestatus', 'beta'], 'dead', DEADTIME_MS + 10_000)).toBe('dead');
      const realDetectMs = Date.now() - killedAt;
      expect(realDetectMs).toBeLessThan(DEADTIME_MS + SLACK_MS);
      if (!full) {
        console.log(`[interop ${method} ${media.ours}] real detected our death in ${realDetectMs} ms`);
        return;
      }

      // we come back; then the real node crashes and we declare it dead within deadtime
      await ours.cleanup();
      ours = await OurNode.start(nsB, 'beta', { haCf: haCf(media.ours), authkeys: authkeys(method) });
      cleanups.push(() => ours.cleanup());
      await ours.waitFor(
        (l) => l.event === 'status' && l.node === 'alpha' && l.status === 'active',
        20_000,
        'alpha active again',
      );
      // our node past initdead (node lists exchanged), so its deadtime applies
      await ours.waitFor(
        (l) => l.event === 'status' && l.node === 'beta' && l.status === 'active',
        10_000,
        'our own active again',
      );
      expect(await real.waitStatus(['nodestatus', 'beta'], 'active', 20_000)).toBe('active');
      await real.stop('crash');
      const crashedAt = Date.now();
      await ours.waitFor(
        (l) => l.event === 'status' && l.node === 'alpha' && l.status === 'dead',
        DEADTIME_MS + 10_000,
        'alpha dead',
      );
      const oursDetectMs = Date.now() - crashedAt;
      // our own measure: silence before we declared it dead, against the deadtime it advertised
      const deadLine = ours.lines.find(
        (l) => l.event === 'status' && l.node === 'alpha' && l.status === 'dead',
      );
      // Heartbeat advertises deadtime + 2 s for a while after it starts
      // (hb_add_deadtime); peers, Heartbeat and we alike, go by what it says
      const advertised = deadLine?.deadtimeMs as number;
      expect([DEADTIME_MS, DEADTIME_MS + 2000]).toContain(advertised);
      expect(deadLine?.silentMs as number).toBeGreaterThan(advertised);
      expect(deadLine?.silentMs as number).toBeLessThan(advertised + 500);
      expect(oursDetectMs).toBeLessThan(advertised + SLACK_MS);
      console.log(
        `[interop ${method} ${media.ours}] real detected our death in ${realDetectMs} ms, we detected its in ${oursDetectMs} ms (${String(deadLine?.silentMs)} ms after its last status, deadtime it advertised ${advertised} ms)`,
      );
    } catch (e) {
      console.log(
        `real node's log:\n${(await real.log()).slice(-6000)}\nour node's lines:\n${ours.lines.map((l) => JSON.stringify(l)).join('\n')}\n${ours.stderr}`,
      );
      throw e;
    } finally {
      await ours.cleanup();
      await real.cleanup();
    }
  }

  for (const method of ['crc', 'md5', 'sha1'] as const) {
    it(`bcast, ${method}: each sees the other up, and dead within deadtime`, async () => {
      await scenario(method, { real: 'bcast eth0', ours: 'bcast eth0' });
    }, 120_000);
  }
  it('ucast, sha1', async () => {
    await scenario('sha1', { real: 'ucast eth0 192.0.2.2', ours: 'ucast eth0 192.0.2.1' });
  }, 120_000);
  it('30 % loss each way on our side: gaps are filled by retransmission both ways, nobody is declared dead', async () => {
    const [nsA, nsB] = seg.nodes as [(typeof seg.nodes)[0] & object, (typeof seg.nodes)[0] & object];
    // deadtime 3 s = 12 keepalives: a false death would need 12 status messages lost in a row
    const files = { haCf: haCf('bcast eth0', 3000), authkeys: authkeys('sha1') };
    const real = await RealHeartbeat.start({ ns: nsA, name: 'alpha', ...files });
    cleanups.push(() => real.cleanup());
    const ours = await OurNode.start(nsB, 'beta', files, { HBPROTO_LOSS: '0.3' });
    cleanups.push(() => ours.cleanup());
    try {
      await ours.waitFor(
        (l) => l.event === 'status' && l.node === 'alpha' && l.status === 'active',
        30_000,
        'alpha active',
      );
      expect(await real.waitStatus(['nodestatus', 'beta'], 'active', 30_000)).toBe('active');
      // Never dead. (A retransmitted older status can flip the real node's view
      // back to "up" until the next one: Heartbeat compares status times in
      // whole seconds, so it takes an old status from the same second.)
      for (let i = 0; i < 12; i++) {
        expect(['active', 'up']).toContain(await real.clStatus('nodestatus', 'beta'));
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(await real.waitStatus(['nodestatus', 'beta'], 'active', 5_000)).toBe('active');
      expect(
        ours.lines.filter((l) => l.event === 'status' && l.node === 'alpha' && l.status === 'dead'),
      ).toEqual([]);
      ours.kill('SIGHUP');
      const counters = await ours.waitFor((l) => l.event === 'counters', 10_000, 'counters');
      // we asked the real node for what we missed, and answered its requests
      expect(counters.rexmitRequested).toBeGreaterThan(0);
      expect(counters.rexmitSent).toBeGreaterThan(0);
      expect((counters.auth as { failed: number }).failed).toBe(0);
      const log = await real.log();
      expect(log).toMatch(/lost packet\(s\) for \[beta\]/);
      expect(log).not.toMatch(/Irretrievably lost packet/);
      console.log(`[interop loss] our counters: ${JSON.stringify(counters)}`);
    } catch (e) {
      console.log(
        `real node's log:\n${(await real.log()).slice(-5000)}\nours:\n${ours.lines.map((l) => JSON.stringify(l)).join('\n')}`,
      );
      throw e;
    } finally {
      await ours.cleanup();
      await real.cleanup();
    }
  }, 120_000);
  it('ucast6, md5: each sees the other up; the real node sees our death', async () => {
    await scenario('md5', { real: 'ucast6 eth0 2001:db8::2', ours: 'ucast6 eth0 2001:db8::1' }, false);
  }, 120_000);
  it('mcast6, crc: each sees the other up; the real node sees our death', async () => {
    await scenario(
      'crc',
      { real: 'mcast6 eth0 ff12::1:2:3:4 694 1 0', ours: 'mcast6 eth0 ff12::1:2:3:4 694 1 0' },
      false,
    );
  }, 120_000);
  it('mcast, sha1', async () => {
    await scenario('sha1', { real: 'mcast eth0 239.0.0.94 694 1 0', ours: 'mcast eth0 239.0.0.94 694 1 0' });
  }, 120_000);
});
