// `lvs-ha systemd-unit`: the unit text (one place: examples/systemd/ is its
// output for the defaults), what it reads from the configuration (deadtime
// for WatchdogSec, resource scripts), ExecStart quoting, and Debian's own
// `systemd-analyze verify` on what it prints. The unit under a running
// systemd is systemd.pid1.test.ts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli-main.js';
import { systemdQuote, systemdUnit, watchdogSecFor } from '../src/commands/systemd-unit.js';
import { capture } from './support/capture.js';

const examples = join(import.meta.dirname, '..', '..', '..', 'examples', 'systemd');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'lvs-ha-unit-'));
  dirs.push(d);
  return d;
};
const line = (unit: string, key: string) =>
  unit
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));

describe('systemdUnit()', () => {
  it('is what examples/systemd/ holds, for the defaults', () => {
    expect(readFileSync(join(examples, 'lvs-ha.service'), 'utf8')).toBe(
      systemdUnit({ exec: ['/usr/local/bin/lvs-ha'] }),
    );
    expect(readFileSync(join(examples, 'lvs-ha-director.service'), 'utf8')).toBe(
      systemdUnit({ exec: ['/usr/local/bin/lvs-ha'], director: true }),
    );
  });

  it('Type=notify with the watchdog, SIGHUP for reload, the three capabilities', () => {
    const u = systemdUnit({ exec: ['/usr/local/bin/lvs-ha'], deadtimeMs: 10_000 });
    expect(line(u, 'Type')).toEqual(['notify']);
    expect(line(u, 'NotifyAccess')).toEqual(['main']);
    expect(line(u, 'ExecStart')).toEqual(['/usr/local/bin/lvs-ha start --config-dir /etc/ha.d']);
    expect(line(u, 'ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(line(u, 'Restart')).toEqual(['on-failure']);
    expect(line(u, 'WatchdogSec')).toEqual(['20s']);
    expect(line(u, 'KillMode')).toEqual(['mixed']);
    expect(line(u, 'TimeoutStopSec')).toEqual(['infinity']);
    expect(line(u, 'RuntimeDirectory')).toEqual(['lvs-ha']);
    expect(line(u, 'CapabilityBoundingSet')).toEqual(['CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE']);
    expect(line(u, 'AmbientCapabilities')).toEqual(['CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE']);
    expect(line(u, 'ProtectSystem')).toEqual(['full']);
    // --scripts: what init.d scripts need, and no sandboxing their daemons would inherit
    const s = systemdUnit({ exec: ['/usr/local/bin/lvs-ha'], scripts: true });
    expect(line(s, 'CapabilityBoundingSet')[0]).toMatch(
      /^CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE CAP_CHOWN .*CAP_SETUID/,
    );
    expect(line(s, 'ProtectSystem')).toEqual([]);
    expect(line(s, 'NoNewPrivileges')).toEqual([]);
    const d = systemdUnit({ exec: ['/usr/local/bin/lvs-ha'], director: true, configDir: '/srv/ha.d/' });
    expect(line(d, 'ExecStart')).toEqual(['/usr/local/bin/lvs-ha director --config /srv/ha.d/ldirectord.cf']);
    expect(line(d, 'CapabilityBoundingSet')).toEqual(['CAP_NET_ADMIN CAP_NET_RAW']);
    expect(line(d, 'RuntimeDirectory')).toEqual([]);
  });

  it('WatchdogSec after deadtime: twice it, at least deadtime + 5 s', () => {
    expect(watchdogSecFor(30_000)).toBe(60);
    expect(watchdogSecFor(2000)).toBe(7);
    expect(watchdogSecFor(500)).toBe(6);
  });

  it('quotes ExecStart arguments as systemd splits them', () => {
    expect(systemdQuote('/usr/bin/node')).toBe('/usr/bin/node');
    expect(systemdQuote('/srv/my ha.d')).toBe('"/srv/my ha.d"');
    expect(systemdQuote('100%')).toBe('100%%');
    expect(systemdQuote('$HOME')).toBe('$$HOME');
    expect(systemdQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(systemdQuote(';')).toBe('";"');
    expect(systemdQuote('')).toBe('""');
  });
});

describe('lvs-ha systemd-unit', () => {
  it('reads deadtime for WatchdogSec and says when haresources runs scripts; systemd-analyze verify finds nothing to say', async () => {
    const dir = tmp();
    const ha = join(dir, 'my ha.d');
    mkdirSync(ha);
    writeFileSync(
      join(ha, 'ha.cf'),
      'keepalive 1\ndeadtime 4\nbcast eth0\nauto_failback on\nnode load1 load2\n',
    );
    writeFileSync(join(ha, 'authkeys'), 'auth 1\n1 sha1 x\n', { mode: 0o600 });
    writeFileSync(join(ha, 'haresources'), 'load1 192.0.2.50/32/eth0 apache2\n');
    const c = capture();
    expect(await runCli(['systemd-unit', '--config-dir', ha, '--exec', '/bin/true'], c.io)).toBe(0);
    const u = c.out();
    expect(line(u, 'WatchdogSec')).toEqual(['9s']);
    expect(line(u, 'ExecStart')).toEqual([`/bin/true start --config-dir "${ha}"`]);
    expect(c.err()).toMatch(/haresources runs apache2: .*--scripts/);
    // Debian's systemd checks the unit as it would load it (the ExecStart binary must exist)
    writeFileSync(join(dir, 'lvs-ha.service'), u);
    const v = spawnSync('systemd-analyze', ['verify', join(dir, 'lvs-ha.service')], { encoding: 'utf8' });
    expect(v.error).toBeUndefined();
    const ours = `${v.stdout}${v.stderr}`.split('\n').filter((l) => l.includes('lvs-ha'));
    expect(ours, `${v.stdout}${v.stderr}`).toEqual([]);
    expect(v.status).toBe(0);
  });

  it('without a configuration: the narrow unit, said on stderr; bad usage is 2', async () => {
    const c = capture();
    expect(
      await runCli(['systemd-unit', '--config-dir', join(tmp(), 'none'), '--exec', '/bin/true'], c.io),
    ).toBe(0);
    expect(line(c.out(), 'WatchdogSec')).toEqual(['60s']);
    expect(c.err()).toMatch(/no ha.cf read/);
    const d = capture();
    expect(await runCli(['systemd-unit', '--exec', 'relative/lvs-ha'], d.io)).toBe(2);
    expect(d.err()).toMatch(/absolute path/);
    const h = capture();
    expect(await runCli(['help', 'systemd-unit'], h.io)).toBe(0);
    expect(h.out()).toMatch(/systemctl daemon-reload && systemctl enable --now lvs-ha/);
  });
});
