import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeService } from '../servers/suite.js';
import { userIds } from '../servers/users.js';

// Exim 4 from Debian (exim4-daemon-light) with its own configuration: SMTP on
// 25 and 587 (submission); port 2525 refuses every connection (554/550), the
// real server answering wrongly.
describeService(
  'smtp (exim4)',
  async (lab) => {
    const exim = userIds('Debian-exim');
    for (const sub of ['spool', 'log']) {
      mkdirSync(join(lab.dir, sub));
      chownSync(join(lab.dir, sub), exim.uid, exim.gid);
    }
    const conf = join(lab.dir, 'exim.conf');
    writeFileSync(
      conf,
      `primary_hostname = mail.example.test
daemon_smtp_ports = 25 : 587 : 2525
local_interfaces = <; 127.0.0.1.25 ; 127.0.0.1.587 ; 127.0.0.1.2525
exim_user = Debian-exim
exim_group = Debian-exim
never_users = root
tls_advertise_hosts =
spool_directory = ${lab.dir}/spool
log_file_path = ${lab.dir}/log/%slog
pid_file_path = ${lab.dir}/exim.pid
acl_smtp_connect = acl_connect
acl_smtp_rcpt = acl_rcpt
begin acl
acl_connect:
  deny condition = \${if eq{$received_port}{2525}}
       message = not accepting mail here
  accept
acl_rcpt:
  deny
begin routers
begin transports
`,
    );
    const daemon = lab.spawn('exim4', ['exim4', '-C', conf, '-bdf']);
    await lab.waitListening(25, 'tcp', daemon);
    const spec = { checktype: 'negotiate' as const, service: 'smtp' as const, negotiatetimeout: 5 };
    return {
      daemon,
      target: { host: '127.0.0.1', port: 25 },
      spec,
      wrong: spec,
      wrongTarget: { host: '127.0.0.1', port: 2525 },
    };
  },
  (ctx) => {
    it('submission checks the submission port the same way', async () => {
      const { lab, svc } = ctx();
      const r = await lab.check({ ...svc.spec, service: 'submission' }, { host: '127.0.0.1', port: 587 });
      expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
      expect(r.detail).toMatch(/^220 mail\.example\.test ESMTP Exim/);
    });
    it('reports the refusal in the detail', async () => {
      const { lab, svc } = ctx();
      const r = await lab.check(svc.spec, { host: '127.0.0.1', port: 2525 });
      expect(r.detail).toMatch(/not accepting mail here/);
    });
  },
);
