import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeService } from '../servers/suite.js';
import { userIds } from '../servers/users.js';

const BIN = '/usr/lib/postgresql/15/bin';
const asPostgres = ['setpriv', '--reuid=postgres', '--regid=postgres', '--clear-groups'];

// PostgreSQL 15 from Debian: initdb into a temp dir, password (SCRAM) logins over TCP.
describeService(
  'pgsql (postgresql)',
  async (lab) => {
    const pg = userIds('postgres');
    const data = join(lab.dir, 'data');
    const run = join(lab.dir, 'run');
    for (const d of [data, run]) {
      mkdirSync(d, { mode: 0o700 });
      chownSync(d, pg.uid, pg.gid);
    }
    const pw = join(run, 'pw');
    writeFileSync(pw, 'secret-1\n');
    chownSync(pw, pg.uid, pg.gid);
    execFileSync(
      asPostgres[0]!,
      [
        ...asPostgres.slice(1),
        `${BIN}/initdb`,
        '-D',
        data,
        '-U',
        'probe',
        `--pwfile=${pw}`,
        '--auth=scram-sha-256',
      ],
      { stdio: 'ignore', timeout: 120_000 },
    );
    const daemon = lab.spawn('postgres', [
      ...asPostgres,
      `${BIN}/postgres`,
      '-D',
      data,
      '-k',
      run,
      '-p',
      '5432',
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'shared_buffers=16MB',
      '-c',
      'fsync=off',
    ]);
    await lab.waitListening(5432, 'tcp', daemon);
    const base = {
      checktype: 'negotiate' as const,
      service: 'pgsql' as const,
      negotiatetimeout: 10,
      login: 'probe',
      passwd: 'secret-1',
      database: 'postgres',
    };
    const spec = { ...base, request: "/SELECT datname FROM pg_database WHERE datname = 'postgres'" };
    await lab.waitUp(spec, { host: '127.0.0.1', port: 5432 });
    return {
      daemon,
      target: { host: '127.0.0.1', port: 5432 },
      spec,
      wrong: { ...base, request: "/SELECT datname FROM pg_database WHERE datname = 'absent'" },
    };
  },
  (ctx) => {
    it('is down with bad-response when the password is wrong', async () => {
      const { lab, svc } = ctx();
      const r = await lab.check({ ...svc.spec, passwd: 'nope' }, svc.target);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: 'bad-response' });
      expect(r.detail).toMatch(/password authentication failed/);
    });
    it('is down with bad-response when the database does not exist', async () => {
      const { lab, svc } = ctx();
      const r = await lab.check({ ...svc.spec, database: 'nodb' }, svc.target);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: 'bad-response' });
    });
  },
  // ldirectord's DBI check needs DBD::Pg, which Debian's ldirectord only suggests.
  { ldirectord: false },
);
