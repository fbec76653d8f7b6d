// The active/active mode's pure parts in the CLI: `lvs-ha check` of a
// directory with bgp.cf (what ldirectord.cf asks against the mode, at its
// line), `lvs-ha status`'s text of an active/active director, the BGP
// families of /metrics. The mode itself runs in the qemu guest
// (active-active.lab.test.ts).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActiveReport } from '@lvs-ha/cluster';
import { afterEach, describe, expect, it } from 'vitest';
import { bgpMetricsText } from '../src/bgp-metrics.js';
import { runCli } from '../src/cli-main.js';
import { formatClusterStatus } from '../src/commands/control.js';
import { capture } from './support/capture.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function activeDir(ld: string, bgp: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lvs-ha-active-'));
  dirs.push(dir);
  await writeFile(join(dir, 'ldirectord.cf'), ld);
  await writeFile(join(dir, 'bgp.cf'), bgp);
  return dir;
}

const BGP =
  'router-id 192.0.2.11\nlocal-as 64513\nneighbor 192.0.2.1 as 64512 password "s3cret"\nbfd 100ms 3\n';

describe('lvs-ha check, a directory with bgp.cf', () => {
  it('describes the active/active director (no ha.cf needed) and accepts a plain ldirectord.cf', async () => {
    const dir = await activeDir(
      'virtual=203.0.113.60:80\n\treal=192.0.2.21:80 gate\n\tchecktype=connect\n',
      BGP,
    );
    const c = capture();
    const code = await runCli(['check', '--config-dir', dir], c.io);
    expect(c.err()).toBe('');
    expect(code).toBe(0);
    expect(c.out()).toContain(
      'bgp.cf: active/active director, router id 192.0.2.11, AS 64513; BGP to 192.0.2.1 (AS 64512); BFD 100 ms x 3',
    );
    expect(c.out()).toContain('announces 203.0.113.60 while a real server of theirs is up');
  });

  it("says at ldirectord.cf's lines what the mode refuses and overrides; exit 1 on an error", async () => {
    const dir = await activeDir(
      'quiescent=no\nvirtual=203.0.113.60:80\n\treal=192.0.2.21:80 gate\n\tscheduler=wlc\n',
      BGP,
    );
    const c = capture();
    expect(await runCli(['check', '--config-dir', dir], c.io)).toBe(1);
    expect(c.err()).toContain(`error: ${dir}/ldirectord.cf:4:1: active/active (bgp.cf): scheduler = wlc`);
    expect(c.out()).toContain(`warning: ${dir}/ldirectord.cf:1:1: active/active (bgp.cf): quiescent = no`);
  });

  it('--json: the mode, bgp.cf with the neighbor password redacted, the problems', async () => {
    const dir = await activeDir('virtual=203.0.113.60:80\n\treal=192.0.2.21:80 gate\n', BGP);
    const c = capture();
    expect(await runCli(['check', '--config-dir', dir, '--json'], c.io)).toBe(0);
    const j = JSON.parse(c.out());
    expect(j.mode).toBe('active-active');
    expect(j.bgp.value.neighbors[0]).toMatchObject({ address: '192.0.2.1', password: '(redacted)' });
    expect(c.out()).not.toContain('s3cret');
  });
});

const REPORT = {
  node: 'director1',
  nodeStatus: 'active',
  peers: [],
  holding: 'all',
  state: 'active/active (active)',
  directors: ['/etc/ha.d/ldirectord.cf'],
  vips: ['203.0.113.60'],
  mode: 'active-active',
  routing: {
    running: true,
    pid: 4242,
    restarts: 1,
    sessions: [
      {
        name: 'up4_192_0_2_1',
        neighbor: '192.0.2.1',
        state: 'up',
        bgpState: 'Established',
        info: 'Established',
        bfd: 'Up',
      },
    ],
    vips: [{ vip: '203.0.113.60', protocol: 'vip4_203_0_113_60', wanted: true, announced: true }],
  },
  announce: [
    { vip: '203.0.113.60', virtuals: ['tcp:203.0.113.60:80'], healthy: true, wanted: true, announced: true },
  ],
  ipvs: [],
} satisfies ActiveReport;

describe('lvs-ha status of an active/active director', () => {
  it('BIRD, each BGP session with its BFD state, each VIP announced or not and why', () => {
    expect(formatClusterStatus(REPORT)).toBe(
      'node director1 (this node): active (active/active, no pair)\n' +
        'bird: running (pid 4242), restarted 1 time(s)\n' +
        'bgp up4_192_0_2_1 to 192.0.2.1: Established, bfd Up\n' +
        'vip 203.0.113.60: announced (a real server is up) for tcp:203.0.113.60:80\n',
    );
    const down = {
      ...REPORT,
      announce: [{ ...REPORT.announce[0], healthy: false, wanted: false, announced: true }],
    };
    expect(formatClusterStatus(down)).toContain(
      'vip 203.0.113.60: announced (no real server up; withdrawing) for tcp:203.0.113.60:80',
    );
  });
});

describe('/metrics of an active/active director', () => {
  it('BIRD up and its restarts, the BGP and BFD sessions, the VIPs wanted and announced', async () => {
    const text = await bgpMetricsText(REPORT.routing);
    const lines = text.split('\n').filter((l) => !l.startsWith('#'));
    expect(lines).toEqual(
      expect.arrayContaining([
        'lvs_ha_bird_up 1',
        'lvs_ha_bird_restarts_total 1',
        'lvs_ha_bgp_session_state{session="up4_192_0_2_1",neighbor="192.0.2.1",state="Established"} 1',
        'lvs_ha_bgp_session_state{session="up4_192_0_2_1",neighbor="192.0.2.1",state="Idle"} 0',
        'lvs_ha_bgp_session_up{session="up4_192_0_2_1",neighbor="192.0.2.1"} 1',
        'lvs_ha_bfd_session_up{session="up4_192_0_2_1",neighbor="192.0.2.1"} 1',
        'lvs_ha_vip_announce_wanted{vip="203.0.113.60"} 1',
        'lvs_ha_vip_announced{vip="203.0.113.60"} 1',
      ]),
    );
  });
});
