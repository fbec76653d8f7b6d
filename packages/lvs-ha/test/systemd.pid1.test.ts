// `lvs-ha start` as the unit `lvs-ha systemd-unit` prints, under Debian's own
// systemd 252 — PID 1 of its own namespaces inside a network namespace
// (support/systemd-pid1.ts: this machine's PID 1 is not systemd). What
// systemd itself says is read from it: systemctl show, and the notifications
// its debug log says it received.
//
// - start: `systemctl start` returns once READY=1 came from the main pid,
//   after the node has joined ("started as load1"), with STATUS=; the main
//   process has exactly CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE
//   (bounding, effective, ambient); a resource script it ran has no
//   NOTIFY_SOCKET or WATCHDOG_*; WATCHDOG=1 every WatchdogSec/2; STATUS=
//   follows the node (its group and VIP taken after initdead);
// - `systemctl reload`: SIGHUP, RELOADING=1 with MONOTONIC_USEC, then READY=1;
// - a hung main thread (the control socket's block-main fault): the pings
//   stop while the membership thread still sends heartbeats (seen on the
//   wire by a peer namespace), systemd's watchdog kills it (SIGABRT, which
//   leaves the VIP on eth0) and starts it again: the new process takes the
//   leftover VIP down before it joins, READY=1 again;
// - `systemctl stop`: STOPPING=1, a clean exit.
//
// WatchdogSec is 3 s by a drop-in (the unit's own is 2 x deadtime, 20 s, so
// that the node's own watchdog acts first): here systemd's is the one tested.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BackgroundProcess,
  hostRunner,
  type Netns,
  type Segment,
  segment,
  tsxLoader,
  until,
} from '@lvs-ha/lab';
import { describeWithLab } from '@lvs-ha/lab/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askControl } from '../src/control.js';
import { SystemdPid1, systemdPid1Missing } from './support/systemd-pid1.js';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const tsconfig = fileURLToPath(new URL('guest.tsconfig.json', import.meta.url));
const UNIT = 'lvs-ha.service';
// CAP_NET_BIND_SERVICE (10), CAP_NET_ADMIN (12), CAP_NET_RAW (13)
const CAPS = (1n << 10n) | (1n << 12n) | (1n << 13n);

const haCf = [
  'keepalive 500ms',
  'deadtime 10',
  'warntime 5',
  'initdead 10',
  'bcast eth0',
  'auto_failback on',
  'node load1 load2',
  '',
].join('\n');
// the node's own group: a VIP and a script that writes down the environment it was given
const haresources = 'load1 192.0.2.50/32/eth0 envdump\n';
const envdump =
  '#!/bin/sh\nenv > "$(dirname "$0")/../envdump.$1"\n[ "$1" = status ] && echo stopped\nexit 0\n';

const missing = systemdPid1Missing();
if (missing) process.stderr.write(`[systemd] ${missing}\n`);
(missing ? describe.skip : describe)(
  `lvs-ha start under a real systemd${missing ? ` (skipped: ${missing})` : ''}`,
  () =>
    describeWithLab(['root', 'netns'], 'systemd 252 as PID 1 in a network namespace', () => {
      let seg: Segment;
      let load1: Netns;
      let peer: Netns;
      let base: string;
      let ha: string;
      let sd: SystemdPid1;
      let wire: BackgroundProcess;
      let unit: string;
      const out = () => readFileSync(join(base, 'out.log'), 'utf8');
      const dump = () =>
        `node's output:\n${out().slice(-3000)}\nsystemd (${UNIT} lines):\n${sd
          .log()
          .split('\n')
          .filter((l) => l.includes(UNIT) && !l.includes('Sent message') && !l.includes('WATCHDOG=1'))
          .slice(-40)
          .join('\n')}`;
      const show = (props: string[]) => sd.show(UNIT, props);
      const mainPid = async () => Number((await show(['MainPID'])).MainPID);
      const capsOf = (pid: number) => {
        const status = readFileSync(sd.hostPath(`/proc/${pid}/status`), 'utf8');
        const cap = (name: string) =>
          BigInt(`0x${new RegExp(`^${name}:\\s*([0-9a-f]+)`, 'm').exec(status)?.[1]}`);
        return { bounding: cap('CapBnd'), effective: cap('CapEff'), ambient: cap('CapAmb') };
      };

      beforeAll(async () => {
        seg = await segment(['load1', 'peer']);
        [load1, peer] = seg.nodes as [Netns, Netns];
        // not under /tmp: the unit has PrivateTmp=yes
        base = mkdtempSync('/var/lib/lvs-ha-systemd-test-');
        ha = join(base, 'ha.d');
        mkdirSync(join(ha, 'resource.d'), { recursive: true });
        writeFileSync(join(ha, 'ha.cf'), haCf);
        writeFileSync(join(ha, 'authkeys'), 'auth 1\n1 sha1 systemd-test\n', { mode: 0o600 });
        writeFileSync(join(ha, 'haresources'), haresources);
        writeFileSync(join(ha, 'resource.d', 'envdump'), envdump, { mode: 0o755 });
        writeFileSync(join(base, 'out.log'), '');
        // load1's heartbeats as the peer's wire sees them, with their times
        wire = await peer.start([
          'tcpdump',
          '-l',
          '-n',
          '-tt',
          '-i',
          'eth0',
          'udp port 694 and src 192.0.2.1',
        ]);
        sd = await SystemdPid1.boot({ netns: load1.name, hostname: 'load1', baseDir: base });
        // the unit as an operator installs it: printed by lvs-ha systemd-unit (here from the sources, with tsx)
        const printed = await hostRunner.exec(
          [process.execPath, '--import', tsxLoader(), cli, 'systemd-unit', '--config-dir', ha],
          { check: true, env: { TSX_TSCONFIG_PATH: tsconfig } },
        );
        unit = printed.stdout;
        sd.install(UNIT, unit);
        sd.install(
          `${UNIT}.d/test.conf`,
          [
            '[Service]',
            `Environment=TSX_TSCONFIG_PATH=${tsconfig} LVS_HA_FAULT_INJECTION=1`,
            `StandardOutput=append:${base}/out.log`,
            `StandardError=append:${base}/out.log`,
            'WatchdogSec=3s',
            'LimitCORE=0',
            // the unit runs lvs-ha from this checkout, which may live under /tmp or /root
            // (a CI clone): an installed lvs-ha is under /usr, which the sandbox leaves visible
            'PrivateTmp=no',
            'ProtectHome=no',
            '',
          ].join('\n'),
        );
        await sd.systemctl(['daemon-reload'], { check: true });
      }, 120_000);

      afterAll(async () => {
        await sd?.shutdown();
        await wire?.stop().catch(() => undefined);
        await seg?.destroy();
        if (base) rmSync(base, { recursive: true, force: true });
      });

      it('the unit: Type=notify, the watchdog after deadtime, the three capabilities', () => {
        expect(unit).toMatch(/^Type=notify$/m);
        expect(unit).toMatch(/^WatchdogSec=20s$/m); // 2 x deadtime 10 s
        expect(unit).toMatch(
          /^ExecStart=\S+node --import file:\S+ \S+\/cli\.ts start --config-dir \S+ha\.d$/m,
        );
        expect(unit).toMatch(/^CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE$/m);
      });

      it('systemctl start returns once READY=1 came, after the node joined; STATUS=, capabilities, no NOTIFY_SOCKET for scripts, WATCHDOG=1 every 1.5 s', async () => {
        const t0 = Date.now();
        const r = await sd.systemctl(['start', UNIT], { timeoutMs: 90_000 });
        const startMs = Date.now() - t0;
        expect(r.code, `${r.stderr}\n${dump()}`).toBe(0);
        process.stderr.write(
          `[systemd] systemctl start returned after ${startMs} ms (tsx from the sources)\n`,
        );
        const s = await show(['ActiveState', 'SubState', 'StatusText', 'MainPID', 'NotifyAccess', 'Type']);
        expect(s).toMatchObject({
          ActiveState: 'active',
          SubState: 'running',
          NotifyAccess: 'main',
          Type: 'notify',
        });
        expect(s.StatusText).toMatch(/^load1 (up|active), holding \S+ \(\S+\); load2 /);
        const pid = Number(s.MainPID);
        const ready = sd.notifications(UNIT).find((n) => n.fields.includes('READY=1'));
        expect(ready?.pid, dump()).toBe(pid);
        expect(ready?.fields.some((f) => f.startsWith('STATUS=load1 '))).toBe(true);
        // READY=1 came after the node had joined
        expect(out()).toContain('started as load1');
        expect(capsOf(pid)).toEqual({ bounding: CAPS, effective: CAPS, ambient: CAPS });
        // the idle check ran the resource script: systemd's INVOCATION_ID, but none of the notify variables
        const env = readFileSync(join(ha, 'envdump.status'), 'utf8');
        expect(env).toMatch(/^INVOCATION_ID=/m);
        expect(env).not.toMatch(/^(NOTIFY_SOCKET|WATCHDOG_USEC|WATCHDOG_PID)=/m);
        // the pings, as systemd records them (µs of CLOCK_MONOTONIC), over 5 s
        const stamps: number[] = [];
        const t1 = Date.now();
        while (Date.now() - t1 < 5000) {
          const w = Number((await show(['WatchdogTimestampMonotonic'])).WatchdogTimestampMonotonic);
          if (stamps.at(-1) !== w) stamps.push(w);
          await new Promise((r) => setTimeout(r, 100));
        }
        const gaps = stamps.slice(2).map((w, i) => (w - (stamps[i + 1] as number)) / 1000);
        process.stderr.write(
          `[systemd] WATCHDOG=1 intervals (ms): ${gaps.map((g) => g.toFixed(0)).join(' ')}\n`,
        );
        expect(gaps.length).toBeGreaterThanOrEqual(2);
        for (const g of gaps) expect(Math.abs(g - 1500)).toBeLessThan(300);
        expect(
          sd.notifications(UNIT).filter((n) => n.pid === pid && n.fields.includes('WATCHDOG=1')).length,
        ).toBeGreaterThanOrEqual(3);
      }, 120_000);

      it('STATUS= follows the node: its group and VIP taken after initdead', async () => {
        const { value: status, ms } = await until(
          'StatusText says the group is held',
          async () => {
            const t = (await show(['StatusText'])).StatusText;
            return t && /holding (local|all) .*VIPs 192\.0\.2\.50\/32/.test(t) ? t : undefined;
          },
          30_000,
          { detail: dump },
        );
        process.stderr.write(`[systemd] StatusText=${status} (${ms} ms later)\n`);
        const addrs = (await load1.exec(['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0'], { check: true }))
          .stdout;
        expect(addrs).toContain(' 192.0.2.50/32 ');
      }, 60_000);

      it('systemctl reload: SIGHUP, RELOADING=1 with MONOTONIC_USEC, then READY=1', async () => {
        const pid = await mainPid();
        const before = sd.notifications(UNIT).length;
        const r = await sd.systemctl(['reload', UNIT]);
        expect(r.code, `${r.stderr}\n${dump()}`).toBe(0);
        const { value: seen } = await until(
          'RELOADING=1 then READY=1',
          async () => {
            const n = sd
              .notifications(UNIT)
              .slice(before)
              .filter((x) => !x.fields.includes('WATCHDOG=1'));
            const i = n.findIndex((x) => x.fields.includes('RELOADING=1'));
            return i >= 0 && n.slice(i + 1).some((x) => x.fields.includes('READY=1'))
              ? n.slice(i)
              : undefined;
          },
          10_000,
          { detail: dump },
        );
        expect(seen[0]?.pid).toBe(pid);
        expect(seen[0]?.fields.some((f) => /^MONOTONIC_USEC=\d+$/.test(f))).toBe(true);
        expect((await show(['ActiveState'])).ActiveState).toBe('active');
        expect(await mainPid()).toBe(pid);
      }, 60_000);

      it('a hung main thread: the pings stop, the heartbeats go on, systemd kills it and starts it again', async () => {
        const pid = await mainPid();
        const w0 = Number((await show(['WatchdogTimestampMonotonic'])).WatchdogTimestampMonotonic);
        const a = await askControl(sd.hostPath('/run/lvs-ha/control.sock'), {
          op: 'fault',
          fault: 'block-main',
          ms: 8000,
        });
        expect(a).toEqual({ ok: true });
        const blockedAt = Date.now(); // the block starts 50 ms after the answer
        // the last ping before the block, then none until systemd gives up
        const { value: killed, ms: killMs } = await until(
          'systemd sees the watchdog timeout',
          async () => {
            const s = await show([
              'Result',
              'MainPID',
              'NRestarts',
              'ActiveState',
              'WatchdogTimestampMonotonic',
            ]);
            return s.Result === 'watchdog' || Number(s.NRestarts) > 0 ? s : undefined;
          },
          10_000,
          { detail: dump },
        );
        process.stderr.write(`[systemd] watchdog kill ${killMs} ms after the block began (WatchdogSec=3s)\n`);
        expect(killMs).toBeGreaterThan(1000);
        expect(killMs).toBeLessThan(5000);
        const lastPing = Number(killed.WatchdogTimestampMonotonic);
        expect((lastPing - w0) / 1000).toBeLessThan(1700); // at most the one ping due before the block
        expect(sd.log()).toMatch(new RegExp(`${UNIT.replace('.', '\\.')}: Watchdog timeout \\(limit 3s\\)!`));
        // the membership thread kept sending while the main thread was blocked
        const beats = (await wire.output())
          .split('\n')
          .map((l) => Number(l.split(' ')[0]) * 1000)
          .filter((t) => t > blockedAt + 200 && t < blockedAt + killMs - 200);
        expect(beats.length, await wire.output()).toBeGreaterThanOrEqual(2);
        // started again: a new main pid, READY=1 again
        const { value: again, ms: backMs } = await until(
          'active again after the restart',
          async () => {
            const s = await show(['ActiveState', 'SubState', 'MainPID', 'NRestarts', 'StatusText']);
            return s.ActiveState === 'active' && s.SubState === 'running' && Number(s.MainPID) !== pid
              ? s
              : undefined;
          },
          60_000,
          { detail: dump },
        );
        process.stderr.write(
          `[systemd] active again ${backMs} ms after the kill (RestartSec=2s, tsx start-up)\n`,
        );
        expect(Number(again.NRestarts)).toBe(1);
        // SIGABRT left the VIP on eth0; the new process took it down before joining
        expect(out()).toMatch(/Resource (IPaddr )?192\.0\.2\.50\/32\S* is active, and should not be!/);
        expect(again.StatusText).toMatch(/^load1 /);
        expect(
          sd.notifications(UNIT).some((n) => n.pid === Number(again.MainPID) && n.fields.includes('READY=1')),
        ).toBe(true);
      }, 120_000);

      it('systemctl stop: STOPPING=1, a clean exit', async () => {
        const pid = await mainPid();
        const r = await sd.systemctl(['stop', UNIT], { timeoutMs: 60_000 });
        expect(r.code, `${r.stderr}\n${dump()}`).toBe(0);
        const s = await show(['ActiveState', 'Result', 'ExecMainStatus', 'ExecMainCode']);
        expect(s).toMatchObject({ ActiveState: 'inactive', Result: 'success', ExecMainStatus: '0' });
        expect(sd.notifications(UNIT).some((n) => n.pid === pid && n.fields.includes('STOPPING=1'))).toBe(
          true,
        );
        expect(out()).toMatch(/stopped\n$/);
      }, 90_000);
    }),
);
