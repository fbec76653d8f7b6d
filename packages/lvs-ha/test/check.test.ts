import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli-main.js';
import { capture } from './support/capture.js';

const seed = join(import.meta.dirname, '..', '..', '..', 'examples', 'seed', 'ha.d');
const dirs: string[] = [];

async function seedCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lvs-ha-check-'));
  dirs.push(dir);
  await cp(seed, dir, { recursive: true });
  await chmod(join(dir, 'authkeys'), 0o600); // git does not keep the mode
  return dir;
}

async function check(...args: string[]) {
  const c = capture();
  const code = await runCli(['check', ...args], c.io);
  return { code, out: c.out(), err: c.err() };
}

afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('lvs-ha check', () => {
  it("accepts the seed article's configuration and says what it describes", async () => {
    const dir = await seedCopy();
    const r = await check('--config-dir', dir);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('nodes load1, load2; bcast eth1:694');
    expect(r.out).toContain('load1 is the preferred holder of VIP 12.3.4.50/32 on eth0, ldirectord');
    expect(r.out).toContain('tcp:12.3.4.50:80 wrr, check: negotiate http, then 4 connect checks, and again');
    expect(r.out).toContain('real 12.3.4.101:80 gate weight 5');
    expect(r.out).toContain(
      "logging: ldirectord's to syslog local0 (tag ldirectord); every line on stdout too",
    );
    expect(r.out).toContain('configuration is valid (0 error(s), 0 warning(s))');
  });

  it('reports every problem across the files with file and line, and exits 1', async () => {
    const dir = await seedCopy();
    await chmod(join(dir, 'authkeys'), 0o644);
    await writeFile(join(dir, 'haresources'), 'load3 12.3.4.51/32/eth0 ldirectord\n');
    const r = await check('--config-dir', dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${join(dir, 'authkeys')}:1:1: authkeys has mode 0644`);
    expect(r.err).toContain(
      `${join(dir, 'haresources')}:1:1: node 'load3' is not a node of ${join(dir, 'ha.cf')}`,
    );
    // a virtual service whose VIP haresources does not bring up is a warning (issue 13: both daemons accept it)
    expect(r.out).toContain(`warning: ${join(dir, 'ldirectord.cf')}:7:1: virtual service on 12.3.4.50 but`);
    expect(r.out).toContain('VIP 12.3.4.51 has no virtual service');
    expect(r.out).toContain('configuration has errors (2 error(s), 2 warning(s))');
  });

  it('finds ldirectord.cf under conf/ and the file haresources names', async () => {
    const dir = await seedCopy();
    await mkdir(join(dir, 'conf'));
    await cp(join(dir, 'ldirectord.cf'), join(dir, 'conf', 'web.cf'));
    await rm(join(dir, 'ldirectord.cf'));
    await writeFile(join(dir, 'haresources'), 'load1 12.3.4.50/32/eth0 ldirectord::web.cf\n');
    const r = await check('--config-dir', dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain(join(dir, 'conf', 'web.cf'));
  });

  it('says which file is missing', async () => {
    const r = await check('--config-dir', '/nonexistent/ha.d');
    expect(r.code).toBe(1);
    expect(r.err).toContain('cannot read /nonexistent/ha.d/ha.cf: no such file');
  });

  it('prints JSON for programs', async () => {
    const dir = await seedCopy();
    const r = await check('--config-dir', dir, '--json');
    const parsed = JSON.parse(r.out);
    expect(parsed.haCf.value.settings.nodes).toEqual(['load1', 'load2']);
    expect(parsed.problems).toEqual([]);
  });

  it('rejects unknown options with usage', async () => {
    const r = await check('--frob');
    expect(r.code).toBe(2);
    expect(r.err).toContain('usage: lvs-ha check');
  });
});

describe('lvs-ha check: what lvs-ha accepts but does not do', () => {
  // ha.cf with every directive Heartbeat accepts and lvs-ha does nothing with, one per line
  const NOT_ACTED_ON_HACF = [
    'crm respawn',
    'crm_daemon_dir /usr/lib/heartbeat',
    'crmd_spawns_pengine on',
    'record_config_changes on',
    'record_pengine_inputs on',
    'enable_config_writes on',
    'ping 10.10.10.254',
    'ping_group group1 10.10.10.253 10.10.10.254',
    'hbaping fc-card-name',
    'deadping 30',
    'respawn hacluster /usr/lib/heartbeat/ipfail',
    'apiauth ipfail gid=haclient uid=hacluster',
    'watchdog /dev/watchdog',
    'stonith baytech /etc/ha.d/conf/stonith.baytech',
    'stonith_host * baytech 10.0.0.3 mylogin mysecretpassword',
    'baud 19200',
    'serial /dev/ttyS0',
    'hopfudge 1',
    'compression bz2',
    'compression_threshold 2',
    'traditional_compression on',
    'use_logd yes',
    'conn_logd_time 60',
    'coredumps true',
    'realtime on',
    'rtprio 50',
    'debug 1',
    'uuidfrom nodename',
    'hbgenmethod file',
    'max_rexmit_delay 500ms',
    'memreserve 1000',
    'syslogmsgfmt off',
    'quorum_server quorum.example.org',
    'env HA_DEBUG=1',
    'autojoin other',
    'msgfmt netstring',
  ];
  const NOT_ACTED_ON_LD = [
    ['emailalert = "ops@example.org"', 'emailalert = ops@example.org'],
    ['emailalertfreq = 3600', 'emailalertfreq = 3600'],
    ['emailalertstatus = all', 'emailalertstatus = all'],
    ['emailalertfrom = ldirectord@example.org', 'emailalertfrom = ldirectord@example.org'],
    ['smtp = 127.0.0.1', 'smtp = 127.0.0.1'],
    ['fork = yes', 'fork = yes'],
    ['supervised = yes', 'supervised = yes'],
    ['execute = "other.cf"', 'execute = "other.cf"'],
  ] as const;
  const NOT_ACTED_ON_VIRTUAL = [
    ['monitorfile = "/var/log/ld-web.log"', 'monitorfile = /var/log/ld-web.log'],
    ['servicename = "web"', 'servicename = "web"'],
    ['comment = "the shop"', 'comment = "the shop"'],
    ['emailalert = "web-ops@example.org"', 'emailalert = web-ops@example.org'],
    ['load = "snmp"', 'load = snmp'],
  ] as const;

  it('one warning per directive, at its file and line, as the other problems; still valid (exit 0)', async () => {
    const dir = await seedCopy();
    const seedHaCf = await readFile(join(seed, 'ha.cf'), 'utf8');
    await writeFile(join(dir, 'ha.cf'), `${NOT_ACTED_ON_HACF.join('\n')}\n${seedHaCf}`);
    const seedLd = await readFile(join(seed, 'ldirectord.cf'), 'utf8');
    await writeFile(
      join(dir, 'ldirectord.cf'),
      `${NOT_ACTED_ON_LD.map(([l]) => l).join('\n')}\n${seedLd.trimEnd()}\n${NOT_ACTED_ON_VIRTUAL.map(([l]) => `\t${l}`).join('\n')}\n`,
    );
    // and callback on the first line (acted on: no warning), the others one line down
    await writeFile(
      join(dir, 'ldirectord.cf'),
      `callback = "/etc/ha.d/sync-config"\n${await readFile(join(dir, 'ldirectord.cf'), 'utf8')}`,
    );
    const r = await check('--config-dir', dir);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const warnings = r.out.split('\n').filter((l) => l.includes('is accepted but not acted on'));
    const hacf = join(dir, 'ha.cf');
    for (const [i, d] of NOT_ACTED_ON_HACF.entries())
      expect(warnings, d).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^warning: ${hacf}:${i + 1}:1: '${d.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' is accepted but not acted on: .+`,
          ),
        ),
      );
    const ld = join(dir, 'ldirectord.cf');
    const seedLines = seedLd.trimEnd().split('\n').length;
    for (const [i, [, shown]] of NOT_ACTED_ON_LD.entries())
      expect(warnings, shown).toContain(
        warnings.find((w) =>
          w.startsWith(`warning: ${ld}:${i + 2}:1: '${shown}' is accepted but not acted on: `),
        ),
      );
    for (const [i, [, shown]] of NOT_ACTED_ON_VIRTUAL.entries()) {
      const line = 1 + NOT_ACTED_ON_LD.length + seedLines + i + 1;
      expect(
        warnings.some((w) =>
          w.startsWith(`warning: ${ld}:${line}:2: '${shown}' is accepted but not acted on: `),
        ),
        `${shown} at line ${line}: ${warnings.join('\n')}`,
      ).toBe(true);
    }
    expect(warnings).toHaveLength(
      NOT_ACTED_ON_HACF.length + NOT_ACTED_ON_LD.length + NOT_ACTED_ON_VIRTUAL.length,
    );
    // callback is acted on (run as CALLBACK FILE when the file changes): no warning
    expect(warnings.filter((w) => w.includes("'callback"))).toEqual([]);
    // what each one says is lvs-ha's reason, e.g.:
    expect(r.out).toContain(
      `${hacf}:1:1: 'crm respawn' is accepted but not acted on: lvs-ha runs the haresources groups`,
    );
    expect(r.out).toContain(`${hacf}:15:1: 'stonith_host * baytech`);
    expect(r.out).toContain('no STONITH: nothing is fenced');
    expect(r.out).toContain(
      `${ld}:2:1: 'emailalert = ops@example.org' is accepted but not acted on: lvs-ha sends no email alerts`,
    );
  });

  it('values that are what lvs-ha does anyway are not warned about (crm no, use_logd no, realtime off, fork = no, msgfmt classic…)', async () => {
    const dir = await seedCopy();
    const same = [
      'crm no',
      'use_logd no',
      'realtime off',
      'coredumps off',
      'debug 0',
      'autojoin none',
      'msgfmt classic',
      'hbgenmethod time',
      'traditional_compression off',
      'syslogmsgfmt on',
    ];
    await writeFile(join(dir, 'ha.cf'), `${same.join('\n')}\n${await readFile(join(seed, 'ha.cf'), 'utf8')}`);
    await writeFile(
      join(dir, 'ldirectord.cf'),
      `fork = no\n${await readFile(join(seed, 'ldirectord.cf'), 'utf8')}`,
    );
    const r = await check('--config-dir', dir);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('not acted on');
    expect(r.out).toContain('configuration is valid (0 error(s), 0 warning(s))');
  });

  it('a service lvs-ha cannot check, and an ldirectord.cf logfile that is neither a path nor a facility', async () => {
    const dir = await seedCopy();
    const ld = (await readFile(join(seed, 'ldirectord.cf'), 'utf8'))
      .replace('logfile = "local0"', 'logfile = "locl0"')
      .replace('\tchecktype = 4\n', '\tchecktype = negotiate\n\tservice = oracle\n');
    await writeFile(join(dir, 'ldirectord.cf'), ld);
    const r = await check('--config-dir', dir);
    expect(r.code).toBe(0);
    const file = join(dir, 'ldirectord.cf');
    expect(r.out).toContain(
      `warning: ${file}:1:1: ldirectord.cf logfile "locl0" is neither a path nor a syslog facility: its lines go to stdout only`,
    );
    expect(r.out).toMatch(
      new RegExp(
        `warning: ${file}:14:\\d+: 'service = oracle' is accepted but not acted on: tcp:12\\.3\\.4\\.50:80: the oracle check is not implemented`,
      ),
    );
  });

  it('a configuration Heartbeat and ldirectord accept is not an error: a virtual service whose VIP is brought up elsewhere', async () => {
    const dir = await seedCopy();
    await writeFile(join(dir, 'haresources'), 'load1 ldirectord\n');
    const r = await check('--config-dir', dir);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      `warning: ${join(dir, 'ldirectord.cf')}:7:1: virtual service on 12.3.4.50 but ${join(dir, 'haresources')} brings up no such address: unless it is brought up elsewhere, no director receives its traffic`,
    );
    expect(r.out).toContain('configuration is valid (0 error(s), 1 warning(s))');
  });

  it('says where the lines go: ha.cf logfacility, logfile and debugfile beside ldirectord.cf logfile', async () => {
    const dir = await seedCopy();
    await writeFile(
      join(dir, 'ha.cf'),
      `logfacility daemon\nlogfile /var/log/ha-log\ndebugfile /var/log/ha-debug\n${await readFile(join(seed, 'ha.cf'), 'utf8')}`,
    );
    const r = await check('--config-dir', dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      "logging: Heartbeat's lines to syslog daemon (tag heartbeat), file /var/log/ha-log, file /var/log/ha-debug; ldirectord's to syslog local0 (tag ldirectord), file /var/log/ha-debug; every line on stdout too",
    );
  });
});

describe('lvs-ha check: authkeys secrets', () => {
  const KEYS = ['Curr3ntS1gningKey', '0ldRotatedKey', 'c0mmentedOutKey', 'typoKeyNoMethod'];
  const authkeys = [
    '# keys: the first signs; the second is kept while the peer changes over',
    '#3 md5 c0mmentedOutKey',
    'auth 1',
    '1 sha1 Curr3ntS1gningKey # rotated in March',
    '2 md5 0ldRotatedKey',
    '4 typoKeyNoMethod',
    '',
  ].join('\n');

  it('never prints a key, an old key in a comment, or a word mistaken for a method: not in text, not in --json; methods and indices stay', async () => {
    const dir = await seedCopy();
    await writeFile(join(dir, 'authkeys'), authkeys, { mode: 0o600 });
    await chmod(join(dir, 'authkeys'), 0o644);
    const text = await check('--config-dir', dir);
    expect(text.code).toBe(1);
    expect(text.err).toContain(`${join(dir, 'authkeys')}:6:3: unknown authentication method '[redacted]'`);
    expect(text.err).toContain('authkeys has mode 0644');
    expect(text.out).toContain('signs with key 1 (sha1); 2 key(s)');
    const json = await check('--config-dir', dir, '--json');
    expect(json.code).toBe(1);
    for (const k of KEYS) {
      expect(text.out + text.err, k).not.toContain(k);
      expect(json.out + json.err, k).not.toContain(k);
    }
    const parsed = JSON.parse(json.out);
    expect(parsed.authkeys.value).toEqual({
      auth: 1,
      authLine: 3,
      keys: [
        { index: 1, method: 'sha1', key: '[redacted]', line: 4 },
        { index: 2, method: 'md5', key: '[redacted]', line: 5 },
      ],
      mode: 0o644,
    });
    expect(JSON.stringify(parsed)).not.toContain('rotated in March');
    expect(parsed.problems.map((p: { code: string }) => p.code)).toEqual([
      'BAD_VALUE',
      'INSECURE_PERMISSIONS',
    ]);
  });

  it("--json leaves the checks' passwords and RADIUS secrets out of ldirectord.cf too", async () => {
    const dir = await seedCopy();
    const ld = (await readFile(join(seed, 'ldirectord.cf'), 'utf8')).replace(
      '\tchecktype = 4\n',
      '\tchecktype = 4\n\tlogin = "monitor"\n\tpasswd = "m0nitorPassw0rd"\n',
    );
    await writeFile(join(dir, 'ldirectord.cf'), ld);
    const r = await check('--config-dir', dir, '--json');
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('m0nitorPassw0rd');
    expect(JSON.parse(r.out).ldirectord.value.virtuals[0].settings.passwd.value).toBe('[redacted]');
  });
});

describe('lvs-ha check --ldirectord FILE', () => {
  it("checks a lone ldirectord.cf as 'lvs-ha director' reads it: what it describes, where its lines go, what it does not do", async () => {
    const dir = await seedCopy();
    const file = join(dir, 'ldirectord.cf');
    const r = await check('--ldirectord', file);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${file}: 1 virtual service(s), check every 5s, quiescent no`);
    expect(r.out).toContain('  tcp:12.3.4.50:80 wrr, check: negotiate http, then 4 connect checks');
    expect(r.out).toContain(
      "logging: ldirectord's to syslog local0 (tag ldirectord); every line on stdout too",
    );
    expect(r.out).toContain(`lvs-ha check: ${file}: configuration is valid (0 error(s), 0 warning(s))`);
    await writeFile(file, `emailalert = "ops@example.org"\n${await readFile(file, 'utf8')}`);
    const again = await check('--ldirectord', file);
    expect(again.out).toContain(
      `warning: ${file}:1:1: 'emailalert = ops@example.org' is accepted but not acted on: lvs-ha sends no email alerts`,
    );
    const json = JSON.parse((await check('--ldirectord', file, '--json')).out);
    expect(json.ldirectord.value.virtuals[0].reals).toHaveLength(2);
    expect(json.problems.map((p: { code: string }) => p.code)).toEqual(['NOT_ACTED_ON']);
  });

  it('reports a broken one with file and line (exit 1), a missing one, and refuses it beside --config-dir', async () => {
    const dir = await seedCopy();
    const file = join(dir, 'ldirectord.cf');
    await writeFile(file, 'virtual = 12.3.4.50:80\n\treal = 12.3.4.100:80 gate\n\tschedular = wrr\n');
    const r = await check('--ldirectord', file);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`^error: ${file}:3:2: .*schedular`, 'm'));
    const missing = await check('--ldirectord', join(dir, 'nope.cf'));
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('no such file');
    const both = await check('--ldirectord', file, '--config-dir', dir);
    expect(both.code).toBe(2);
    expect(both.err).toContain('--config-dir and --ldirectord exclude each other');
  });
});
