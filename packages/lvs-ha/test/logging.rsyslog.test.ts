// The logger against Debian's rsyslogd, started here on a socket of its own:
// the seed's files with ha.cf's logging (logfacility local1, logfile,
// debugfile) and ldirectord.cf's `logfile = "local0"`. Each line must arrive
// with the facility, severity and tag (programname) the files ask, and keep
// arriving across a restart of the daemon; the files get their timestamps
// and levels. Every check polls with a deadline.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfigDir } from '@lvs-ha/ha-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoggingError, nodeLogger } from '../src/logging.js';
import { capture } from './support/capture.js';
import { noRsyslog, Rsyslogd } from './support/rsyslog.js';

const seed = join(import.meta.dirname, '..', '..', '..', 'examples', 'seed', 'ha.d');
if (noRsyslog) process.stderr.write(`[logging] skipping the rsyslog tests: ${noRsyslog}\n`);

describe.skipIf(noRsyslog !== undefined)(
  `the logger and a real rsyslogd${noRsyslog ? ` (skipped: ${noRsyslog})` : ''}`,
  () => {
    let dir: string;
    let daemon: Rsyslogd;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'lvs-ha-rsyslog-'));
      await cp(seed, join(dir, 'ha.d'), { recursive: true });
      // git keeps no 0600: a clean clone's seed authkeys is 0644, which Heartbeat (and we) refuse
      chmodSync(join(dir, 'ha.d', 'authkeys'), 0o600);
      writeFileSync(
        join(dir, 'ha.d', 'ha.cf'),
        `logfacility local1\nlogfile ${dir}/ha-log\ndebugfile ${dir}/ha-debug\n${readFileSync(join(seed, 'ha.cf'), 'utf8')}`,
      );
      daemon = new Rsyslogd(dir);
      await daemon.start();
    });
    afterAll(async () => {
      await daemon?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("Heartbeat's lines to local1 as heartbeat, ldirectord's to local0 as ldirectord, with their severities; the files too; across a restart of rsyslogd", async () => {
      const config = await loadConfigDir(join(dir, 'ha.d'));
      expect(config.problems.filter((p) => p.severity === 'error')).toEqual([]);
      const c = capture();
      const errors: LoggingError[] = [];
      const logger = nodeLogger(config, c.io, {
        syslogPath: daemon.socket,
        host: 'load1',
        onError: (e) => errors.push(e),
      });
      const pid = process.pid;
      logger.line('node load2 dead');
      logger.line('acquire foreign (peer dead): 12.3.4.50/32/eth0');
      logger.line('vip 12.3.4.50/32/eth0 up on eth0');
      logger.line('warning Resource IPaddr 12.3.4.50/32/eth0 is active, and should not be!');
      logger.line('error vip 12.3.4.50/32/eth0 cannot be taken down: EPERM');
      logger.line('tcp:12.3.4.50:80 real 12.3.4.100:80 down (refused)');
      logger.line('tcp:12.3.4.50:80 fallback 127.0.0.1:80 on (no real server up)');
      logger.line('error IPVS_APPLY: cannot change the IPVS table: EPERM');
      logger.line('reload of /etc/ha.d/ldirectord.cf refused: the running configuration stays');

      const got = await daemon.waitFor([
        /^local1\.info heartbeat\[\d+\] info: node load2 dead$/,
        /^local1\.info heartbeat\[\d+\] info: vip 12\.3\.4\.50\/32\/eth0 up on eth0$/,
        /^local1\.warning heartbeat\[\d+\] WARN: Resource IPaddr/,
        /^local1\.err heartbeat\[\d+\] ERROR: vip 12\.3\.4\.50\/32\/eth0 cannot be taken down: EPERM$/,
        /^local0\.info ldirectord\[\d+\] tcp:12\.3\.4\.50:80 real 12\.3\.4\.100:80 down \(refused\)$/,
        /^local0\.info ldirectord\[\d+\] tcp:12\.3\.4\.50:80 fallback 127\.0\.0\.1:80 on/,
        /^local0\.err ldirectord\[\d+\] error IPVS_APPLY: cannot change the IPVS table: EPERM$/,
        /^local0\.info ldirectord\[\d+\] reload of \/etc\/ha\.d\/ldirectord\.cf refused/,
      ]);
      for (const l of got) expect(l).toContain(`[${pid}]`);
      // nothing crossed over: no Director line under heartbeat, no Heartbeat line under ldirectord
      expect(daemon.lines().filter((l) => /^local1.* (tcp:|error IPVS)/.test(l))).toEqual([]);
      expect(daemon.lines().filter((l) => /^local0.* (node |vip )/.test(l))).toEqual([]);
      expect(c.out().split('\n')).toContain('vip 12.3.4.50/32/eth0 up on eth0');

      // the files: Heartbeat's format and levels; the debugfile has every line
      await logger.flush();
      const stamp = '[A-Z][a-z]{2} \\d{2} \\d{2}:\\d{2}:\\d{2} load1 heartbeat: \\[\\d+\\]:';
      const haLog = readFileSync(join(dir, 'ha-log'), 'utf8').split('\n').filter(Boolean);
      expect(haLog).toHaveLength(5);
      expect(haLog[2]).toMatch(new RegExp(`^${stamp} info: vip 12\\.3\\.4\\.50/32/eth0 up on eth0$`));
      expect(haLog[3]).toMatch(new RegExp(`^${stamp} WARN: Resource IPaddr`));
      expect(haLog[4]).toMatch(
        new RegExp(`^${stamp} ERROR: vip 12\\.3\\.4\\.50/32/eth0 cannot be taken down`),
      );
      const debug = readFileSync(join(dir, 'ha-debug'), 'utf8').split('\n').filter(Boolean);
      expect(debug).toHaveLength(9);
      expect(debug[7]).toMatch(new RegExp(`^${stamp} ERROR: IPVS_APPLY: cannot change the IPVS table`));

      // rsyslogd restarted: lines said while it is away wait, and arrive once it is back
      await daemon.stop();
      logger.line('node load2 active');
      logger.line('tcp:12.3.4.50:80 real 12.3.4.100:80 up');
      expect(errors.map((e) => e.code)).toContain('SYSLOG_UNAVAILABLE');
      await daemon.start();
      logger.line('release foreign (auto_failback): 12.3.4.50/32/eth0');
      await daemon.waitFor([
        /^local1\.info heartbeat\[\d+\] info: node load2 active$/,
        /^local0\.info ldirectord\[\d+\] tcp:12\.3\.4\.50:80 real 12\.3\.4\.100:80 up$/,
        /^local1\.info heartbeat\[\d+\] info: release foreign \(auto_failback\): 12\.3\.4\.50\/32\/eth0$/,
      ]);
      await logger.close();
    });

    it('does not hold the event loop up: 5,000 lines in bursts of 100, a burst takes a few milliseconds', async () => {
      const config = await loadConfigDir(join(dir, 'ha.d'));
      const logger = nodeLogger(config, capture().io, { syslogPath: daemon.socket, host: 'load1' });
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      // in bursts of 100, as a reload of a large table says them; each burst is
      // synchronous work on the event loop (sendto with MSG_DONTWAIT, a queued append)
      const bursts: number[] = [];
      for (let burst = 0; burst < 50; burst++) {
        const t0 = performance.now();
        for (let i = 0; i < 100; i++)
          logger.line(`tcp:12.3.4.50:80 real 10.0.${burst}.${i}:80 down (refused)`);
        bursts.push(performance.now() - t0);
        await new Promise((r) => setImmediate(r));
      }
      await logger.flush();
      h.disable();
      bursts.sort((a, b) => a - b);
      const median = bursts[25] as number;
      process.stderr.write(
        `[logging] 100 lines (syslog + debugfile): median ${median.toFixed(1)} ms, slowest ${bursts[49]?.toFixed(1)} ms; event-loop delay max ${(h.max / 1e6).toFixed(1)} ms (the machine is shared)\n`,
      );
      expect(median).toBeLessThan(25);
      await daemon.waitFor([/10\.0\.49\.99:80 down/], 20_000);
      await logger.close();
    });
  },
);
