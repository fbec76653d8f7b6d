import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { sqlQuery } from '../../src/index.js';
import { describeService } from '../servers/suite.js';
import { userIds } from '../servers/users.js';

it('runs request without its leading slash, as ldirectord', () => {
  expect(sqlQuery('/SELECT 1')).toBe('SELECT 1');
});

// MariaDB from Debian: a fresh data directory, a user, a table the check reads.
describeService(
  'mysql (mariadb)',
  async (lab) => {
    const mysql = userIds('mysql');
    const data = join(lab.dir, 'data');
    const run = join(lab.dir, 'run');
    for (const d of [data, run]) {
      mkdirSync(d);
      chownSync(d, mysql.uid, mysql.gid);
    }
    execFileSync(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${data}`,
        '--user=mysql',
        '--skip-test-db',
        '--auth-root-authentication-method=socket',
      ],
      { stdio: 'ignore', timeout: 120_000 },
    );
    const init = join(lab.dir, 'init.sql');
    writeFileSync(
      init,
      `CREATE DATABASE IF NOT EXISTS lvs;
CREATE TABLE IF NOT EXISTS lvs.director_slave (name VARCHAR(32), enabled INT);
INSERT INTO lvs.director_slave VALUES ('rs1', 1);
CREATE USER IF NOT EXISTS 'probe'@'%' IDENTIFIED BY 'secret-1';
GRANT SELECT ON lvs.* TO 'probe'@'%';
`,
    );
    const daemon = lab.spawn('mariadbd', [
      'mariadbd',
      '--no-defaults',
      `--datadir=${data}`,
      '--user=mysql',
      `--socket=${join(run, 'mysql.sock')}`,
      `--pid-file=${join(run, 'mysql.pid')}`,
      `--init-file=${init}`,
      '--bind-address=127.0.0.1',
      '--port=3306',
      '--skip-name-resolve',
      '--performance-schema=OFF',
      '--innodb-buffer-pool-size=16M',
      `--log-error=${join(run, 'error.log')}`,
    ]);
    await lab.waitListening(3306, 'tcp', daemon);
    const base = {
      checktype: 'negotiate' as const,
      service: 'mysql' as const,
      negotiatetimeout: 10,
      login: 'probe',
      passwd: 'secret-1',
      database: 'lvs',
    };
    const spec = { ...base, request: 'SELECT * FROM director_slave WHERE enabled = 1' };
    await lab.waitUp(spec, { host: '127.0.0.1', port: 3306 });
    return {
      daemon,
      target: { host: '127.0.0.1', port: 3306 },
      spec,
      wrong: { ...base, request: 'SELECT * FROM director_slave WHERE enabled = 2' },
    };
  },
  (ctx) => {
    it('is down with bad-response when the password is wrong', async () => {
      const { lab, svc } = ctx();
      const r = await lab.check({ ...svc.spec, passwd: 'nope' }, svc.target);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: 'bad-response' });
      expect(r.detail).toMatch(/Access denied/);
    });
    it('is down with bad-response when the query fails', async () => {
      const { lab, svc } = ctx();
      const r = await lab.check({ ...svc.spec, request: 'SELECT * FROM missing_table' }, svc.target);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: 'bad-response' });
    });
    it('is never up without a login or a request (as ldirectord)', async () => {
      const { lab, svc } = ctx();
      const r = await lab.check({ ...svc.spec, login: '' }, svc.target);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: 'error' });
    });
  },
  // ldirectord's DBI check needs DBD::mysql, which Debian's ldirectord only suggests.
  { ldirectord: false },
);
