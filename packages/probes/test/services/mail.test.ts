import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { imapQuote } from '../../src/index.js';
import { selfSignedCert } from '../servers/cert.js';
import type { ServiceLab } from '../servers/lab.js';
import { ldirectordCheck } from '../servers/ldirectord.js';
import { describeServices, type ServiceContext } from '../servers/suite.js';
import { userIds } from '../servers/users.js';

it('quotes IMAP strings', () => {
  expect(imapQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
});

const USER = 'probe';
const PASS = 'secret-1';

/** Debian's Dovecot with its own configuration: pop3 110, pop3s 995, imap 143, imaps 993. */
async function startDovecot(lab: ServiceLab) {
  const { cert, key } = selfSignedCert(lab.dir);
  const dovecot = userIds('dovecot');
  const home = join(lab.dir, 'home');
  mkdirSync(home);
  chownSync(home, dovecot.uid, dovecot.gid);
  // "closed" authenticates but may not log in (nologin): the server says no
  // without counting an authentication failure (which would make Dovecot's
  // auth penalty slow every later login from 127.0.0.1 by seconds).
  writeFileSync(
    join(lab.dir, 'passwd'),
    `${USER}:{PLAIN}${PASS}\nclosed:{PLAIN}${PASS}::::::nologin reason=closed for maintenance\n`,
  );
  const conf = join(lab.dir, 'dovecot.conf');
  writeFileSync(
    conf,
    `protocols = imap pop3
listen = 127.0.0.1
base_dir = ${lab.dir}/run
state_dir = ${lab.dir}/state
log_path = ${lab.dir}/dovecot.log
ssl = yes
ssl_cert = <${cert}
ssl_key = <${key}
disable_plaintext_auth = no
auth_mechanisms = plain
auth_failure_delay = 0
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${lab.dir}/passwd
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=${home}/%u
}
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 993
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 110
  }
  inet_listener pop3s {
    port = 995
    ssl = yes
  }
}
`,
  );
  const daemon = lab.spawn('dovecot', ['dovecot', '-F', '-c', conf]);
  for (const p of [110, 143, 993, 995]) await lab.waitListening(p, 'tcp', daemon);
  return daemon;
}

// The four services share the file's namespace; each gets its own Dovecot
// (the last case of each stops it) and its five cases against its own port.
describeServices(
  'mail (dovecot)',
  (
    [
      ['pop', 110],
      ['pops', 995],
      ['imap', 143],
      ['imaps', 993],
    ] as const
  ).map(([service, port]) => ({
    name: `${service} (dovecot)`,
    start: async (lab: ServiceLab) => {
      const daemon = await startDovecot(lab);
      const base = { checktype: 'negotiate' as const, service, negotiatetimeout: 5, login: USER };
      return {
        daemon,
        target: { host: '127.0.0.1', port },
        spec: { ...base, passwd: PASS },
        wrong: { ...base, login: 'closed', passwd: PASS },
      };
    },
    late: (ctx: () => ServiceContext) => {
      it('is down with bad-response on a wrong password', async () => {
        const { lab, svc } = ctx();
        const r = await lab.check({ ...svc.spec, passwd: 'wrong' }, svc.target);
        expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: 'bad-response' });
      });
    },
    more: (ctx: () => ServiceContext) => {
      if (!service.endsWith('s')) return;
      it("does not verify the self-signed certificate, where Debian's ldirectord (Perl's IO::Socket::SSL defaults) does and says down", async () => {
        const { lab, svc } = ctx();
        expect((await lab.check(svc.spec, svc.target)).ok).toBe(true);
        expect(await ldirectordCheck(lab.ns, svc.spec, svc.target)).toBe('down');
      });
      it('is down with reason tls when the port does not talk TLS', async () => {
        const { lab, svc } = ctx();
        const plain = service === 'pops' ? 110 : 143;
        const r = await lab.check(svc.spec, { host: '127.0.0.1', port: plain });
        expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: 'tls' });
      });
    },
  })),
);
