// The wiring, once, end to end: `lvs-ha start` (the real command, from the
// sources) in a network namespace, its ha.cf asking `logfacility local1`, a
// logfile and a debugfile, Debian's rsyslogd started here on a socket of its
// own (LVS_HA_SYSLOG_SOCKET). Its peer never shows up: after initdead it is
// declared dead and our node brings its VIP up; SIGTERM takes it down. Each
// of those lines must reach rsyslogd as local1/heartbeat and the files in
// Heartbeat's format, beside stdout.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BackgroundProcess, type Netns, type Segment, segment, tsxLoader } from '@lvs-ha/lab';
import { describeWithLab } from '@lvs-ha/lab/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArgs } from './support/built-cli.js';
import { noRsyslog, Rsyslogd } from './support/rsyslog.js';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
// tsx maps the @lvs-ha packages to their sources (no build needed)
const tsconfig = fileURLToPath(new URL('guest.tsconfig.json', import.meta.url));

// Where Debian's rsyslogd is missing the suite is skipped with the reason
// printed, as describeWithLab does for root/netns (whose needs have no
// 'rsyslogd'); the root SkipGuardReporter turns the skip into a failure under
// CI=true, and setup-system.sh installs rsyslog, so CI always runs it.
if (noRsyslog) {
  process.stderr.write(`[logging] skipping "lvs-ha start logs to rsyslogd": ${noRsyslog}\n`);
  describe.skip(`lvs-ha start logs to rsyslogd (skipped: ${noRsyslog})`, () => {
    it('needs rsyslogd', () => {});
  });
} else
  describeWithLab(['root', 'netns'], 'lvs-ha start logs to rsyslogd and its files, as ha.cf asks', () => {
    let seg: Segment;
    let dir: string;
    let daemon: Rsyslogd;
    let node: BackgroundProcess | undefined;
    beforeAll(async () => {
      seg = await segment(['load1']);
      dir = mkdtempSync(join(tmpdir(), 'lvs-ha-logging-netns-'));
      mkdirSync(join(dir, 'ha.d'));
      writeFileSync(
        join(dir, 'ha.d', 'ha.cf'),
        [
          'logfacility local1',
          `logfile ${dir}/ha-log`,
          `debugfile ${dir}/ha-debug`,
          'keepalive 200ms',
          'deadtime 1',
          'warntime 500ms',
          'initdead 2',
          'bcast eth0',
          'auto_failback on',
          'node load1 load2',
          '',
        ].join('\n'),
      );
      writeFileSync(join(dir, 'ha.d', 'authkeys'), 'auth 1\n1 sha1 logging-test\n', { mode: 0o600 });
      writeFileSync(join(dir, 'ha.d', 'haresources'), 'load1 192.0.2.50/32/eth0\n');
      daemon = new Rsyslogd(dir);
      await daemon.start();
    });
    afterAll(async () => {
      await node?.stop().catch(() => undefined);
      await daemon?.stop();
      await seg?.destroy();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('node dead, group taken, vip up; at SIGTERM vip down: in rsyslogd as local1/heartbeat, in logfile and debugfile, on stdout', async () => {
      const [load1] = seg.nodes as [Netns];
      node = await load1.start(
        [
          'node',
          '--import',
          tsxLoader(),
          cli,
          ...startArgs(join(dir, 'ha.d'), 'load1', join(dir, 'control.sock')),
        ],
        { env: { TSX_TSCONFIG_PATH: tsconfig, LVS_HA_SYSLOG_SOCKET: daemon.socket } },
      );
      const up = await daemon
        .waitFor(
          [
            /^local1\.info heartbeat\[\d+\] info: node load2 dead$/,
            /^local1\.info heartbeat\[\d+\] info: acquire .*192\.0\.2\.50/,
            /^local1\.info heartbeat\[\d+\] info: vip 192\.0\.2\.50\/32\/eth0 up on eth0$/,
          ],
          60_000,
        )
        .catch(async (e: Error) => {
          throw new Error(`${e.message}\nlvs-ha start:\n${await node?.output()}`);
        });
      const pid = /\[(\d+)\]/.exec(up[2] as string)?.[1];
      expect(pid).toBeDefined();
      // the same lines in Heartbeat's file format, with the node's name and our pid
      const stamp = `[A-Z][a-z]{2} \\d{2} \\d{2}:\\d{2}:\\d{2} load1 heartbeat: \\[${pid}\\]:`;
      const fileHas = (file: string, re: RegExp) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .some((l) => re.test(l));
      const vipUp = new RegExp(`^${stamp} info: vip 192\\.0\\.2\\.50/32/eth0 up on eth0$`);
      for (const f of ['ha-log', 'ha-debug']) {
        const t0 = Date.now();
        while (!fileHas(join(dir, f), vipUp)) {
          if (Date.now() - t0 > 10_000) throw new Error(`${f}:\n${readFileSync(join(dir, f), 'utf8')}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      expect(await node.output()).toMatch(/^vip 192\.0\.2\.50\/32\/eth0 up on eth0$/m);

      await node.stop(); // SIGTERM: Heartbeat's shutdown, the VIP released
      await daemon.waitFor(
        [/^local1\.info heartbeat\[\d+\] info: vip 192\.0\.2\.50\/32\/eth0 down on eth0$/],
        30_000,
      );
      expect(
        fileHas(
          join(dir, 'ha-log'),
          new RegExp(`^${stamp} info: vip 192\\.0\\.2\\.50/32/eth0 down on eth0$`),
        ),
      ).toBe(true);
      node = undefined;
    }, 120_000);
  });
