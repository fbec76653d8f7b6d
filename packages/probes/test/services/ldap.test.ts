import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ldapBase } from '../../src/index.js';
import { selfSignedCert } from '../servers/cert.js';
import type { ServiceLab } from '../servers/lab.js';
import { describeServices, type ServiceContext } from '../servers/suite.js';

it('searches the request without its leading slash, as ldirectord', () => {
  expect(ldapBase('/dc=example,dc=test')).toBe('dc=example,dc=test');
});

/** Debian's slapd with a slapd.conf of its own: one mdb database, ldap 389 and ldaps 636. */
async function startSlapd(lab: ServiceLab) {
  const { cert, key } = selfSignedCert(lab.dir);
  const db = join(lab.dir, 'db');
  mkdirSync(db);
  const conf = join(lab.dir, 'slapd.conf');
  writeFileSync(
    conf,
    `include /etc/ldap/schema/core.schema
pidfile ${lab.dir}/slapd.pid
argsfile ${lab.dir}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCertificateFile ${cert}
TLSCertificateKeyFile ${key}
database mdb
maxsize 10485760
suffix "dc=example,dc=test"
rootdn "cn=admin,dc=example,dc=test"
rootpw secret-1
directory ${db}
`,
  );
  const ldif = join(lab.dir, 'base.ldif');
  writeFileSync(
    ldif,
    `dn: dc=example,dc=test
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: cn=health,dc=example,dc=test
objectClass: device
cn: health
`,
  );
  execFileSync('slapadd', ['-f', conf, '-l', ldif], { stdio: 'ignore' });
  const daemon = lab.spawn('slapd', [
    'slapd',
    '-d',
    '0',
    '-f',
    conf,
    '-h',
    'ldap://127.0.0.1:389/ ldaps://127.0.0.1:636/',
  ]);
  await lab.waitListening(389, 'tcp', daemon);
  await lab.waitListening(636, 'tcp', daemon);
  return daemon;
}

describeServices(
  'ldap (slapd)',
  (
    [
      ['ldap', 389],
      ['ldaps', 636],
    ] as const
  ).map(([service, port]) => ({
    name: `${service} (slapd)`,
    start: async (lab: ServiceLab) => {
      const daemon = await startSlapd(lab);
      const base = { checktype: 'negotiate' as const, service, negotiatetimeout: 5 };
      return {
        daemon,
        target: { host: '127.0.0.1', port },
        spec: { ...base, request: '/cn=health,dc=example,dc=test', receive: 'cn=health' },
        wrong: { ...base, request: '/cn=health,dc=example,dc=test', receive: 'cn=other' },
      };
    },
    more: (ctx: () => ServiceContext) => {
      it('binds as login/passwd', async () => {
        const { lab, svc } = ctx();
        const r = await lab.check(
          { ...svc.spec, login: 'cn=admin,dc=example,dc=test', passwd: 'secret-1' },
          svc.target,
        );
        expect(r, JSON.stringify(r)).toMatchObject({ ok: true, detail: 'cn=health,dc=example,dc=test' });
      });
      it('is down with bad-response when the bind is refused', async () => {
        const { lab, svc } = ctx();
        const r = await lab.check(
          { ...svc.spec, login: 'cn=admin,dc=example,dc=test', passwd: 'x' },
          svc.target,
        );
        expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: 'bad-response' });
        expect(r.detail).toMatch(/bind failed/);
      });
      if (service === 'ldaps') {
        it('is down with reason tls when the port does not talk TLS', async () => {
          const { lab, svc } = ctx();
          const r = await lab.check(svc.spec, { host: '127.0.0.1', port: 389 });
          expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: 'tls' });
        });
      }
      it('is down with bad-response when the entry does not exist', async () => {
        const { lab, svc } = ctx();
        const r = await lab.check({ ...svc.spec, request: '/cn=gone,dc=example,dc=test' }, svc.target);
        expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: 'bad-response' });
      });
    },
  })),
);
