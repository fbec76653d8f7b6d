// A real Prometheus server (Debian's) scrapes `lvs-ha start --listen` and
// what it stored agrees with the addresses on the node, read from outside.
// One node in a network namespace on this machine, its peer never started
// (so it takes its group after initdead and reports the peer dead).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BackgroundProcess, type Netns, type Segment, segment, tsxLoader, until } from '@lvs-ha/lab';
import { describeWithLab } from '@lvs-ha/lab/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const env = { TSX_TSCONFIG_PATH: fileURLToPath(new URL('guest.tsconfig.json', import.meta.url)) };
const PROMETHEUS = '/usr/bin/prometheus';
const VIP = '192.0.2.50';
const LISTEN = '127.0.0.1:9110';
const PROM = 'http://127.0.0.1:9090';

// scripts/setup-system.sh installs Debian's prometheus; without it the suite
// is skipped with the reason (a failure under CI=true, by the skip guard)
const describeWithPrometheus: typeof describeWithLab = existsSync(PROMETHEUS)
  ? describeWithLab
  : (_needs, name, fn) => {
      process.stderr.write(`[lab] skipping "${name}": needs ${PROMETHEUS} (apt-get install prometheus)\n`);
      describe.skip(`${name} (skipped: needs ${PROMETHEUS})`, fn);
    };

describeWithPrometheus(['root', 'netns'], 'a real Prometheus scrapes lvs-ha start', () => {
  let seg: Segment;
  let load1: Netns;
  let dir: string;
  let ours: BackgroundProcess | undefined;
  let prometheus: BackgroundProcess | undefined;

  beforeAll(async () => {
    seg = await segment(['load1']);
    [load1] = seg.nodes as [Netns];
    dir = mkdtempSync(join(tmpdir(), 'lvs-ha-prom-'));
    mkdirSync(join(dir, 'ha.d'));
    mkdirSync(join(dir, 'tsdb'));
    writeFileSync(
      join(dir, 'ha.d', 'ha.cf'),
      [
        `logfile ${join(dir, 'ha-log')}`,
        'keepalive 250ms',
        'deadtime 1',
        'initdead 2',
        'udpport 694',
        'bcast eth0',
        'auto_failback on',
        'node load1 load2',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'ha.d', 'authkeys'), 'auth 1\n1 sha1 prometheus-test\n', { mode: 0o600 });
    writeFileSync(join(dir, 'ha.d', 'haresources'), `load1 IPaddr2::${VIP}/32/eth0\n`);
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 900ms',
        'scrape_configs:',
        '  - job_name: lvs-ha',
        '    static_configs:',
        `      - targets: ['${LISTEN}']`,
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await prometheus?.stop().catch(() => undefined);
    await ours?.stop().catch(() => undefined);
    await seg?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** until() with both logs; a read that fails (Prometheus not up yet) counts as not yet. Resolves with the value. */
  const soon = async <T>(what: string, get: () => Promise<T | undefined>, ms: number): Promise<T> =>
    (
      await until(what, () => get().catch(() => undefined), ms, {
        everyMs: 250,
        detail: async () =>
          `lvs-ha:\n${await ours?.output()}\nprometheus:\n${(await prometheus?.output())?.slice(-3000)}`,
      })
    ).value;
  // one instant query of Prometheus's HTTP API, from inside the namespace
  const query = async (expr: string) => {
    const r = await load1.exec(
      ['curl', '-sS', '--fail', '--get', '--data-urlencode', `query=${expr}`, `${PROM}/api/v1/query`],
      {
        check: true,
      },
    );
    const body = JSON.parse(r.stdout) as {
      status: string;
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    expect(body.status).toBe('success');
    return body.data.result;
  };
  const value = async (expr: string) => {
    const r = await query(expr);
    return r.length === 1 ? Number(r[0]?.value[1]) : undefined;
  };
  const holdsVip = async () =>
    (await load1.exec(['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0'], { check: true })).stdout.includes(
      ` ${VIP}/32 `,
    );

  it('stores the node, peer and VIP series as the node is; the target goes down when lvs-ha stops', {
    timeout: 180_000,
  }, async () => {
    ours = await load1.start(
      [
        'node',
        '--import',
        tsxLoader(),
        cli,
        'start',
        '--config-dir',
        join(dir, 'ha.d'),
        '--node',
        'load1',
        '--control',
        join(dir, 'load1.sock'),
        '--listen',
        LISTEN,
      ],
      { env },
    );
    prometheus = await load1.start([
      PROMETHEUS,
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      '--web.listen-address=127.0.0.1:9090',
    ]);
    // alone, load1 takes its group after initdead; the VIP is on eth0
    await soon('load1 holds its VIP', async () => ((await holdsVip()) ? true : undefined), 90_000);
    // Prometheus scraped it: the target is up, and the series say what the addresses say
    await soon(
      'Prometheus sees the VIP held',
      async () => ((await value(`lvs_ha_vip_held{vip="${VIP}"}`)) === 1 ? true : undefined),
      60_000,
    );
    expect(await value('up{job="lvs-ha"}')).toBe(1);
    expect(await holdsVip()).toBe(true);
    expect(await value('lvs_ha_node_status{node="load2",status="dead"}')).toBe(1);
    expect(await value('lvs_ha_node_status{node="load2",status="active"}')).toBe(0);
    // every series Prometheus stored from us carries the job and instance labels it gave them
    const names = await query('count by (__name__) ({job="lvs-ha"})');
    expect(names.map((s) => s.metric.__name__)).toEqual(
      expect.arrayContaining([
        'lvs_ha_node_status',
        'lvs_ha_vip_held',
        'lvs_ha_heartbeat_packets_sent_total',
      ]),
    );
    // our keepalives go out every 250 ms: the stored counter grows at about 4/s
    const rate = await soon(
      'a rate of sent keepalives',
      async () => {
        const v = await value('rate(lvs_ha_heartbeat_packets_sent_total[5s])');
        return v !== undefined && v > 0 ? v : undefined;
      },
      30_000,
    );
    expect(rate).toBeGreaterThan(1);
    expect(rate).toBeLessThan(12);

    // a clean stop takes the VIP down; Prometheus's next scrapes find no target
    await ours.stop();
    ours = undefined;
    await soon('the VIP is down', async () => ((await holdsVip()) ? undefined : true), 30_000);
    await soon(
      'Prometheus marks the target down',
      async () => ((await value('up{job="lvs-ha"}')) === 0 ? true : undefined),
      30_000,
    );
  });
});
