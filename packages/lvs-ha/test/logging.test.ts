// The logger's rules on real inputs: the lines the ClusterNode and the
// Director say (their own words), the seed's files with logging added,
// real log files in a temp directory, and a real AF_UNIX datagram socket
// standing in for /dev/log (the real syslog daemon is
// logging.rsyslog.test.ts's).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigDir } from '@lvs-ha/ha-config';
import { until } from '@lvs-ha/lab';
import {
  AF_UNIX,
  errnoName,
  libc,
  MSG_DONTWAIT,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  sockaddrUn,
} from '@lvs-ha/sys';
import { afterEach, describe, expect, it } from 'vitest';
import {
  directorLogger,
  formatHeartbeatLine,
  formatLdirectordLine,
  formatSyslogDatagram,
  LogFile,
  type LoggingError,
  levelOfLine,
  loggerFromPlan,
  nodeLogPlan,
  SyslogClient,
  sourceOfLine,
  teeIo,
} from '../src/logging.js';
import { capture } from './support/capture.js';

const seed = join(import.meta.dirname, '..', '..', '..', 'examples', 'seed', 'ha.d');
// Wednesday 2 December 2026, 16:38:15 local time (the formats are local time, as syslog's)
const when = new Date(2026, 11, 2, 16, 38, 15);
const dirs: string[] = [];
const closers: (() => unknown)[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'lvs-ha-logging-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  for (const f of closers.splice(0).reverse()) await f();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** until() as these tests use it: 5 s, every 20 ms. */
const soon = (what: string, pred: () => boolean) => until(what, pred, 5000, { everyMs: 20 });

// Lines as cluster-node.ts, resources.ts, sync.ts and the Director word them.
const HEARTBEAT_LINES = [
  'started as load1',
  'node load2 dead',
  'link load2 eth1 up',
  'resources all (stable)',
  'acquire foreign (peer dead): 12.3.4.50/32/eth0',
  'release local (shutdown): 12.3.4.50/32/eth0',
  'vip 12.3.4.50/32/eth0 up on eth0',
  'vip 12.3.4.50/32/eth0 down on eth0',
  'giving 12.3.4.50/32/eth0 up to the peer (hb_standby all): it could not be started here',
  'error start ldirectord::ldirectord.cf: no ldirectord.cf',
  'warning Resource IPaddr 12.3.4.50/32/eth0 is active, and should not be! (left by a run that did not release it: taken down on eth0)',
  'warning Cluster node load2 returning after partition: giving up our resources and joining again',
  'connection sync: master daemon started on eth1',
  'error vip 12.3.4.50/32/eth0 cannot be taken down: EPERM',
];
const LDIRECTORD_LINES = [
  'tcp:12.3.4.50:80 real 12.3.4.100:80 down (refused)',
  'tcp:12.3.4.50:80 real 12.3.4.100:80 up',
  'tcp:12.3.4.50:80 fallback 127.0.0.1:80 on (no real server up)',
  'fwm:7 real 10.0.0.1:0 down (timeout)',
  'add real 12.3.4.100:80 to 12.3.4.50:80/tcp (gate, weight 5)',
  'edit real 12.3.4.100:80 of 12.3.4.50:80/tcp (gate, weight 0)',
  'delete virtual 12.3.4.50:80/tcp',
  'ldirectord /etc/ha.d/ldirectord.cf started',
  'ldirectord /etc/ha.d/ldirectord.cf changed (autoreload): reloading',
  'reloaded /etc/ha.d/ldirectord.cf',
  'reload of /etc/ha.d/ldirectord.cf refused: the running configuration stays',
  "error /etc/ha.d/ldirectord.cf:7:1: unknown directive 'scheduller'",
  'error IPVS_APPLY: cannot change the IPVS table: EPERM',
  'warning ldirectord ldirectord.cf: no such file',
];

describe('lines: level and source', () => {
  it('error/warning lines are err/warning, the rest info', () => {
    expect(levelOfLine('error vip 12.3.4.50/32/eth0 cannot be taken down: EPERM')).toBe('err');
    expect(levelOfLine('error: /etc/ha.d/ldirectord.cf:3:1: x')).toBe('err');
    expect(levelOfLine('warning Resource IPaddr … is active, and should not be!')).toBe('warning');
    expect(levelOfLine('vip 12.3.4.50/32/eth0 up on eth0')).toBe('info');
    expect(levelOfLine('errors are not errors unless the word is alone')).toBe('info');
  });

  it("tells the Director's lines from Heartbeat's by their form", () => {
    for (const l of HEARTBEAT_LINES) expect(sourceOfLine(l), l).toBe('heartbeat');
    for (const l of LDIRECTORD_LINES) expect(sourceOfLine(l), l).toBe('ldirectord');
  });
});

describe('formats', () => {
  it("Heartbeat's file line, ldirectord's, and glibc's syslog datagram", () => {
    expect(
      formatHeartbeatLine({ date: when, host: 'load1', pid: 23905, level: 'info', line: 'node load2 dead' }),
    ).toBe('Dec 02 16:38:15 load1 heartbeat: [23905]: info: node load2 dead');
    expect(
      formatHeartbeatLine({
        date: when,
        host: 'load1',
        pid: 1,
        level: 'err',
        line: 'error vip X cannot be taken down',
      }),
    ).toBe('Dec 02 16:38:15 load1 heartbeat: [1]: ERROR: vip X cannot be taken down');
    expect(
      formatLdirectordLine({
        date: when,
        config: 'ldirectord.cf',
        pid: 1234,
        line: 'reloaded /x/ldirectord.cf',
      }),
    ).toBe('[Wed Dec  2 16:38:15 2026|ldirectord.cf|1234] reloaded /x/ldirectord.cf');
    expect(
      formatSyslogDatagram({
        facility: 16,
        level: 'warning',
        date: when,
        tag: 'ldirectord',
        pid: 1234,
        message: 'warning x',
      }),
    ).toBe('<132>Dec  2 16:38:15 ldirectord[1234]: warning x');
    const long = formatSyslogDatagram({
      facility: 3,
      level: 'info',
      date: when,
      tag: 'heartbeat',
      pid: 1,
      message: 'é'.repeat(10_000),
    });
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(8096);
    expect(long).toMatch(/^<30>Dec {2}2 16:38:15 heartbeat\[1\]: é+$/);
  });
});

describe('what the files ask', () => {
  it("the seed's files with ha.cf's logging: Heartbeat to local1, logfile and debugfile; ldirectord to local0 and the debugfile", async () => {
    const dir = tmp();
    await cp(seed, dir, { recursive: true });
    writeFileSync(
      join(dir, 'ha.cf'),
      `logfacility local1\nlogfile ${dir}/ha-log\ndebugfile ${dir}/ha-debug\n${readFileSync(join(seed, 'ha.cf'), 'utf8')}`,
    );
    const plan = nodeLogPlan(await loadConfigDir(dir));
    expect(plan).toEqual({
      heartbeat: [
        { kind: 'syslog', facility: 17, facilityName: 'local1', tag: 'heartbeat' },
        { kind: 'file', path: `${dir}/ha-log`, format: 'heartbeat' },
        { kind: 'file', path: `${dir}/ha-debug`, format: 'heartbeat' },
      ],
      ldirectord: [
        { kind: 'syslog', facility: 16, facilityName: 'local0', tag: 'ldirectord' },
        { kind: 'file', path: `${dir}/ha-debug`, format: 'heartbeat' },
      ],
      ldirectordConfig: 'ldirectord.cf',
      problems: [],
    });
  });

  it('logfacility none, a path as ldirectord.cf logfile, nothing asked, a facility that is none', async () => {
    const dir = tmp();
    await cp(seed, dir, { recursive: true });
    writeFileSync(join(dir, 'ha.cf'), `logfacility none\n${readFileSync(join(seed, 'ha.cf'), 'utf8')}`);
    writeFileSync(
      join(dir, 'ldirectord.cf'),
      readFileSync(join(seed, 'ldirectord.cf'), 'utf8').replace('"local0"', '"/var/log/ld.log"'),
    );
    expect(nodeLogPlan(await loadConfigDir(dir))).toMatchObject({
      heartbeat: [],
      ldirectord: [{ kind: 'file', path: '/var/log/ld.log', format: 'ldirectord' }],
    });
    writeFileSync(join(dir, 'ldirectord.cf'), 'virtual = 12.3.4.50:80\n\treal = 12.3.4.100:80 gate\n');
    expect(nodeLogPlan(await loadConfigDir(dir))).toMatchObject({ heartbeat: [], ldirectord: [] });
    writeFileSync(
      join(dir, 'ldirectord.cf'),
      'logfile = "locl0"\nvirtual = 12.3.4.50:80\n\treal = 12.3.4.100:80 gate\n',
    );
    expect(nodeLogPlan(await loadConfigDir(dir))).toMatchObject({
      ldirectord: [],
      problems: ['ldirectord.cf logfile "locl0" is neither a path nor a syslog facility'],
    });
  });
});

describe('log files', () => {
  it('Heartbeat lines in logfile, every line in debugfile, ldirectord lines in its own file, in order, with stdout unchanged', async () => {
    const dir = tmp();
    const c = capture();
    const logger = loggerFromPlan(
      {
        heartbeat: [
          { kind: 'file', path: join(dir, 'ha-log'), format: 'heartbeat' },
          { kind: 'file', path: join(dir, 'ha-debug'), format: 'heartbeat' },
        ],
        ldirectord: [
          { kind: 'file', path: join(dir, 'ldirectord.log'), format: 'ldirectord' },
          { kind: 'file', path: join(dir, 'ha-debug'), format: 'heartbeat' },
        ],
        ldirectordConfig: 'web.cf',
        problems: [],
      },
      { host: 'load1', pid: 4242, now: () => when, echo: c.io.stdout },
    );
    closers.push(() => logger.close());
    const said = [
      'node load2 dead',
      'acquire foreign (peer dead): 12.3.4.50/32/eth0',
      'tcp:12.3.4.50:80 real 12.3.4.100:80 down (refused)',
      'vip 12.3.4.50/32/eth0 up on eth0',
      'warning Resource IPaddr 12.3.4.50/32/eth0 is active, and should not be!',
      'error IPVS_APPLY: cannot change the IPVS table: EPERM',
    ];
    for (const l of said) logger.line(l);
    await logger.flush();
    expect(c.out()).toBe(said.map((l) => `${l}\n`).join(''));
    const hb = 'Dec 02 16:38:15 load1 heartbeat: [4242]:';
    expect(readFileSync(join(dir, 'ha-log'), 'utf8')).toBe(
      [
        `${hb} info: node load2 dead`,
        `${hb} info: acquire foreign (peer dead): 12.3.4.50/32/eth0`,
        `${hb} info: vip 12.3.4.50/32/eth0 up on eth0`,
        `${hb} WARN: Resource IPaddr 12.3.4.50/32/eth0 is active, and should not be!`,
        '',
      ].join('\n'),
    );
    expect(readFileSync(join(dir, 'ldirectord.log'), 'utf8')).toBe(
      [
        '[Wed Dec  2 16:38:15 2026|web.cf|4242] tcp:12.3.4.50:80 real 12.3.4.100:80 down (refused)',
        '[Wed Dec  2 16:38:15 2026|web.cf|4242] error IPVS_APPLY: cannot change the IPVS table: EPERM',
        '',
      ].join('\n'),
    );
    expect(readFileSync(join(dir, 'ha-debug'), 'utf8').split('\n').slice(0, -1)).toEqual([
      `${hb} info: node load2 dead`,
      `${hb} info: acquire foreign (peer dead): 12.3.4.50/32/eth0`,
      `${hb} info: tcp:12.3.4.50:80 real 12.3.4.100:80 down (refused)`,
      `${hb} info: vip 12.3.4.50/32/eth0 up on eth0`,
      `${hb} WARN: Resource IPaddr 12.3.4.50/32/eth0 is active, and should not be!`,
      `${hb} ERROR: IPVS_APPLY: cannot change the IPVS table: EPERM`,
    ]);
  });

  it('a file that cannot be written is said once, never thrown, and written again once it can be', async () => {
    const dir = tmp();
    const errors: LoggingError[] = [];
    const recovered: string[] = [];
    const file = new LogFile({
      path: join(dir, 'not-yet', 'ha-log'),
      format: (r) => r.line,
      onError: (e) => errors.push(e),
      onRecovered: (m) => recovered.push(m),
    });
    file.write({ date: when, source: 'heartbeat', level: 'info', line: 'one' });
    await file.flush();
    file.write({ date: when, source: 'heartbeat', level: 'info', line: 'two' });
    await file.flush();
    expect(errors.map((e) => e.code)).toEqual(['FILE_WRITE']);
    expect(errors[0]?.message).toContain('ENOENT');
    mkdirSync(join(dir, 'not-yet'));
    file.write({ date: when, source: 'heartbeat', level: 'info', line: 'three' });
    await file.flush();
    expect(readFileSync(join(dir, 'not-yet', 'ha-log'), 'utf8')).toBe('three\n');
    expect(recovered).toEqual([`file ${join(dir, 'not-yet', 'ha-log')}: writing again`]);
  });

  it("lvs-ha director's tee: every line it prints (stdout and stderr) goes to ldirectord.cf's logfile", async () => {
    const dir = tmp();
    const c = capture();
    const logger = directorLogger('/etc/ha.d/ldirectord.cf', join(dir, 'ld.log'), c.io, {
      pid: 7,
      now: () => when,
    });
    const io = teeIo(c.io, logger);
    io.stdout('started: 1 virtual service(s) from /etc/ha.d/ldirectord.cf\n');
    io.stdout('add real 12.3.4.100:80 ');
    io.stdout('to 12.3.4.50:80/tcp (gate, weight 5)\n');
    io.stderr('error IPVS_APPLY: cannot change the IPVS table: EPERM\n');
    await logger.flush();
    expect(c.out()).toBe(
      'started: 1 virtual service(s) from /etc/ha.d/ldirectord.cf\nadd real 12.3.4.100:80 to 12.3.4.50:80/tcp (gate, weight 5)\n',
    );
    expect(readFileSync(join(dir, 'ld.log'), 'utf8')).toBe(
      [
        '[Wed Dec  2 16:38:15 2026|ldirectord.cf|7] started: 1 virtual service(s) from /etc/ha.d/ldirectord.cf',
        '[Wed Dec  2 16:38:15 2026|ldirectord.cf|7] add real 12.3.4.100:80 to 12.3.4.50:80/tcp (gate, weight 5)',
        '[Wed Dec  2 16:38:15 2026|ldirectord.cf|7] error IPVS_APPLY: cannot change the IPVS table: EPERM',
        '',
      ].join('\n'),
    );
    expect(c.err()).toBe('error IPVS_APPLY: cannot change the IPVS table: EPERM\n');
  });
});

describe('SyslogClient on a real AF_UNIX socket', () => {
  const c = libc();
  /** A datagram socket bound at `path`: what a syslog daemon listens on. */
  const receiver = (path: string) => {
    const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const sa = sockaddrUn(path);
    expect(c.bind(fd, sa, sa.length), errnoName(c.errno())).toBe(0);
    const got: string[] = [];
    const buf = new Uint8Array(9000);
    const read = () => {
      for (;;) {
        const n = c.recv(fd, buf, buf.length, MSG_DONTWAIT);
        if (n < 0) return got;
        got.push(new TextDecoder().decode(buf.subarray(0, n)));
      }
    };
    let open = true;
    const close = () => {
      if (open) c.close(fd);
      open = false;
    };
    closers.push(close);
    return { read, close };
  };

  it("sends glibc's datagram; waits while nobody listens (ENOENT, then ECONNREFUSED) and sends what waited, in order, when a daemon is back", async () => {
    const dir = tmp();
    const path = join(dir, 'log');
    const errors: LoggingError[] = [];
    const recovered: string[] = [];
    const client = new SyslogClient({
      facility: 16,
      facilityName: 'local0',
      tag: 'ldirectord',
      path,
      pid: 99,
      retryMs: 50,
      onError: (e) => errors.push(e),
      onRecovered: (m) => recovered.push(m),
    });
    closers.push(() => client.close());
    const rec = (line: string) => ({
      date: when,
      source: 'ldirectord' as const,
      level: levelOfLine(line),
      line,
    });

    client.write(rec('before any daemon'));
    expect(client.waiting).toBe(1);
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      ['SYSLOG_UNAVAILABLE', `syslog local0 ${path}: ENOENT: keeping up to 1000 line(s) until it answers`],
    ]);

    const first = receiver(path);
    await soon('what waited is sent', () => first.read().length === 1);
    client.write(rec('error IPVS_APPLY: x'));
    await soon('the next', () => first.read().length === 2);
    expect(first.read()).toEqual([
      '<134>Dec  2 16:38:15 ldirectord[99]: before any daemon',
      '<131>Dec  2 16:38:15 ldirectord[99]: error IPVS_APPLY: x',
    ]);
    expect(recovered).toEqual([`syslog local0 ${path}: sending again after ENOENT`]);

    // the daemon dies and leaves its socket file: ECONNREFUSED; a new one binds the same path
    first.close();
    client.write(rec('while it restarts 1'));
    client.write(rec('while it restarts 2'));
    expect(client.waiting).toBe(2);
    expect(errors.at(-1)?.message).toContain('ECONNREFUSED');
    rmSync(path);
    const second = receiver(path);
    client.write(rec('after'));
    await soon('the waiting lines and the new one', () => second.read().length === 3);
    expect(second.read().map((d) => d.replace(/^.*\]: /, ''))).toEqual([
      'while it restarts 1',
      'while it restarts 2',
      'after',
    ]);
  });

  it('keeps at most maxQueue lines while nobody listens, says once that it drops, and a bad path is said, not thrown', async () => {
    const dir = tmp();
    const errors: LoggingError[] = [];
    const client = new SyslogClient({
      facility: 3,
      tag: 'heartbeat',
      path: join(dir, 'log'),
      maxQueue: 3,
      retryMs: 20,
      onError: (e) => errors.push(e),
    });
    closers.push(() => client.close());
    for (let i = 1; i <= 5; i++)
      client.write({ date: when, source: 'heartbeat', level: 'info', line: `line ${i}` });
    expect(client.waiting).toBe(3);
    expect(errors.map((e) => e.code)).toEqual(['SYSLOG_UNAVAILABLE', 'SYSLOG_DROPPED']);
    const r = receiver(join(dir, 'log'));
    await soon('the last three', () => r.read().length === 3);
    expect(r.read().map((d) => d.replace(/^.*\]: /, ''))).toEqual(['line 3', 'line 4', 'line 5']);

    const bad: LoggingError[] = [];
    const nowhere = new SyslogClient({
      facility: 3,
      tag: 'x',
      path: `/${'x'.repeat(200)}`,
      onError: (e) => bad.push(e),
    });
    nowhere.write({ date: when, source: 'heartbeat', level: 'info', line: 'nothing' });
    expect(bad.map((e) => e.code)).toEqual(['BAD_DESTINATION']);
  });
});
