// The haresources hand-over against the real Heartbeat 3.0.6: a real node
// ("alpha", owns hbflag) and our node ("beta", owns hbflagb), bcast, sha1.
// The real side's view is cl_status rscstatus and its hbflag/hbflagb state
// files (its ResourceManager really ran the scripts); ours is the example's
// "resources" lines.
import { RealHeartbeat, type Segment, segment } from '@lvs-ha/lab';
import { describeWithLab } from '@lvs-ha/lab/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OurNode } from './support/our-node.js';

const haCf = (autoFailback: string) =>
  [
    'logfile /var/log/ha-log',
    'keepalive 250ms',
    'deadtime 2',
    'warntime 1',
    'initdead 6',
    'udpport 694',
    'bcast eth0',
    `auto_failback ${autoFailback}`,
    'node alpha beta',
    '',
  ].join('\n');
const authkeys = 'auth 1\n1 sha1 resources-secret\n';
const haresources = 'alpha hbflag\nbeta hbflagb\n';
// Heartbeat waits RQSTDELAY (10 s) for an unstable peer before taking its own groups
const SETTLE_MS = 40_000;
// Under load the real daemon now and then loses a notice its own scripts send
// it through its FIFO ("msg2string: Message with zero fields" in its log; the
// lost mach_down notice leaves it in "transition" for good). One retry, with
// fresh daemons, keeps that from failing the suite; our side has no FIFO.
const REAL_DAEMON_RETRY = 1;

describeWithLab(['root', 'netns'], 'resource hand-over with the real Heartbeat 3.0.6', () => {
  let seg: Segment;
  // cleanup of whatever a failed start left behind (cleanup() is idempotent)
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    seg = await segment(['alpha', 'beta']);
  });
  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    await seg?.destroy();
  });

  async function pair(autoFailback: string) {
    const [nsA, nsB] = seg.nodes as [(typeof seg.nodes)[0] & object, (typeof seg.nodes)[0] & object];
    const files = { haCf: haCf(autoFailback), authkeys, haresources };
    // ours first (tsx takes seconds to start), so that both start within initdead
    const ours = await OurNode.start(nsB, 'beta', files);
    cleanups.push(() => ours.cleanup());
    await ours.waitFor((l) => l.event === 'started', 30_000, 'start');
    const real = await RealHeartbeat.start({ ns: nsA, name: 'alpha', ...files });
    cleanups.push(() => real.cleanup());
    return { real, ours, nsB, files };
  }

  async function dump(real: RealHeartbeat, ours: OurNode): Promise<string> {
    const log = (await real.log())
      .split('\n')
      .filter((l) => !/harc|Core dumps|core_pattern|core_uses_pid|Logging daemon/.test(l))
      .slice(-60)
      .join('\n');
    return `real log:\n${log}\nours:\n${ours.lines.map((l) => JSON.stringify(l)).join('\n')}\n${ours.stderr.slice(-2000)}`;
  }

  it('auto_failback on: start-up, our death, our return, hb_standby and hb_takeover on each side', {
    timeout: 240_000,
    retry: REAL_DAEMON_RETRY,
  }, async () => {
    let { real, ours, nsB, files } = await pair('on');
    try {
      // start-up: each holds its own group
      expect(await real.waitStatus(['rscstatus'], 'local', SETTLE_MS)).toBe('local');
      await ours.waitHolding((h) => h.rscstatus === 'local', SETTLE_MS, 'our group');
      expect(await real.flag('hbflag')).toBe('running');
      expect(await real.flag('hbflagb')).toBe('');

      // we crash: the real node takes our group
      ours.kill('SIGKILL');
      await ours.exited;
      expect(await real.waitStatus(['rscstatus'], 'all', 20_000)).toBe('all');
      expect(await real.flag('hbflagb')).toBe('running');

      // we return: auto_failback gives our group back
      await ours.cleanup();
      ours = await OurNode.start(nsB, 'beta', files);
      await ours.waitHolding(
        (h) => h.holding === 'local' && h.rscstatus === 'local',
        SETTLE_MS,
        'our group back',
      );
      expect(await real.waitStatus(['rscstatus'], 'local', SETTLE_MS)).toBe('local');
      expect(await real.flag('hbflagb')).toBe('stopped');
      expect(
        ours.lines.some(
          (l) => l.event === 'action' && l.action === 'acquire' && (l.groups as string[]).includes('hbflagb'),
        ),
      ).toBe(true);

      // hb_standby on the real node: everything comes to us
      await real.inside(['/usr/share/heartbeat/hb_standby', 'all']);
      await ours.waitHolding(
        (h) => h.holding === 'all' && h.rscstatus === 'all',
        30_000,
        'all after the real standby',
      );
      expect(await real.waitStatus(['rscstatus'], 'none', 20_000)).toBe('none');
      expect(await real.flag('hbflag')).toBe('stopped');

      // hb_standby on our side (SIGUSR1): everything goes to the real node
      ours.kill('SIGUSR1');
      expect(await real.waitStatus(['rscstatus'], 'all', 30_000)).toBe('all');
      await ours.waitHolding((h) => h.holding === 'none', 20_000, 'none after our standby');
      expect(await real.flag('hbflag')).toBe('running');
      expect(await real.flag('hbflagb')).toBe('running');

      // hb_takeover on our side (SIGUSR2): the real node's rc.d/hb_takeover makes it go standby
      ours.kill('SIGUSR2');
      await ours.waitHolding(
        (h) => h.holding === 'all' && h.rscstatus === 'all',
        30_000,
        'all after our takeover',
      );
      expect(await real.waitStatus(['rscstatus'], 'none', 20_000)).toBe('none');

      // hb_takeover on the real node: we go standby
      await real.inside(['/usr/share/heartbeat/hb_takeover', 'all']);
      expect(await real.waitStatus(['rscstatus'], 'all', 30_000)).toBe('all');
      await ours.waitHolding((h) => h.holding === 'none', 20_000, 'none after the real takeover');
    } catch (e) {
      console.log(await dump(real, ours));
      throw e;
    } finally {
      await ours.cleanup();
      await real.cleanup();
    }
  });

  it('auto_failback off: the real node keeps our group when we return; a real crash gives us everything', {
    timeout: 240_000,
    retry: REAL_DAEMON_RETRY,
  }, async () => {
    let { real, ours, nsB, files } = await pair('off');
    try {
      expect(await real.waitStatus(['rscstatus'], 'local', SETTLE_MS)).toBe('local');
      await ours.waitHolding((h) => h.rscstatus === 'local', SETTLE_MS, 'our group');
      ours.kill('SIGKILL');
      await ours.exited;
      expect(await real.waitStatus(['rscstatus'], 'all', 20_000)).toBe('all');
      await ours.cleanup();
      ours = await OurNode.start(nsB, 'beta', files);
      await ours.waitHolding((h) => h.rscstatus === 'none', SETTLE_MS, 'stable with nothing');
      expect(await real.waitStatus(['rscstatus'], 'all', 20_000)).toBe('all');
      // the real node crashes: we take everything
      await real.stop('crash');
      await ours.waitHolding((h) => h.holding === 'all', 20_000, 'all after the real crash');
    } catch (e) {
      console.log(await dump(real, ours));
      throw e;
    } finally {
      await ours.cleanup();
      await real.cleanup();
    }
  });

  it('auto_failback legacy: each takes its group with ip-request; ours is taken when we die and given back on request', {
    timeout: 240_000,
    retry: REAL_DAEMON_RETRY,
  }, async () => {
    let { real, ours, nsB, files } = await pair('legacy');
    try {
      await ours.waitHolding((h) => h.holding === 'local', SETTLE_MS, 'our group');
      for (let i = 0; i < 100 && (await real.flag('hbflag')) !== 'running'; i++)
        await new Promise((r) => setTimeout(r, 200));
      expect(await real.flag('hbflag')).toBe('running');
      expect(await real.flag('hbflagb')).not.toBe('running');
      ours.kill('SIGKILL');
      await ours.exited;
      for (let i = 0; i < 100 && (await real.flag('hbflagb')) !== 'running'; i++)
        await new Promise((r) => setTimeout(r, 200));
      expect(await real.flag('hbflagb')).toBe('running');
      await ours.cleanup();
      ours = await OurNode.start(nsB, 'beta', files);
      await ours.waitHolding((h) => h.holding === 'local', SETTLE_MS, 'our group back');
      for (let i = 0; i < 100 && (await real.flag('hbflagb')) !== 'stopped'; i++)
        await new Promise((r) => setTimeout(r, 200));
      expect(await real.flag('hbflagb')).toBe('stopped');
      expect(await real.flag('hbflag')).toBe('running');
    } catch (e) {
      console.log(await dump(real, ours));
      throw e;
    } finally {
      await ours.cleanup();
      await real.cleanup();
    }
  });
});
