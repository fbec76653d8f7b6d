import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeService } from '../servers/suite.js';

// FreeRADIUS 3.2 from Debian with a radiusd.conf of its own: one client
// (127.0.0.1, its secret), pap against a users file, auth on udp/1812.
describeService(
  'radius (freeradius)',
  async (lab) => {
    const d = lab.dir;
    for (const sub of ['log', 'run', 'acct']) mkdirSync(join(d, sub));
    writeFileSync(join(d, 'dictionary'), '');
    writeFileSync(join(d, 'users'), 'probe Cleartext-Password := "secret-1"\n\tReply-Message := "welcome"\n');
    writeFileSync(
      join(d, 'radiusd.conf'),
      `prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
logdir = ${d}/log
raddbdir = ${d}
radacctdir = ${d}/acct
name = freeradius
confdir = ${d}
modconfdir = ${d}
run_dir = ${d}/run
db_dir = ${d}
libdir = /usr/lib/freeradius
pidfile = ${d}/run/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no
log {
  destination = stdout
}
security {
  reject_delay = 0
  status_server = no
}
client localhost {
  ipaddr = 127.0.0.1
  secret = shared-secret
}
modules {
  pap {
  }
  files {
    filename = ${d}/users
  }
}
server default {
  listen {
    type = auth
    ipaddr = 127.0.0.1
    port = 1812
  }
  authorize {
    files
    pap
  }
  authenticate {
    pap
  }
}
`,
    );
    const daemon = lab.spawn('freeradius', ['freeradius', '-f', '-l', 'stdout', '-d', d]);
    await lab.waitListening(1812, 'udp', daemon);
    const base = {
      checktype: 'negotiate' as const,
      service: 'radius' as const,
      negotiatetimeout: 5,
      login: 'probe',
      secret: 'shared-secret',
    };
    return {
      daemon,
      proto: 'udp',
      target: { host: '127.0.0.1', port: 1812 },
      spec: { ...base, passwd: 'secret-1' },
      wrong: { ...base, passwd: 'wrong' },
    };
  },
  (ctx) => {
    it('reports the Access-Accept and its Reply-Message', async () => {
      const { lab, svc } = ctx();
      const r = await lab.check(svc.spec, svc.target);
      expect(r.detail).toBe('Access-Accept: welcome');
    });
    it('is down when the secret is wrong (the server drops or the reply does not verify)', async () => {
      const { lab, svc } = ctx();
      const r = await lab.check({ ...svc.spec, secret: 'other', negotiatetimeout: 1.5 }, svc.target);
      expect(r.ok).toBe(false);
      expect(['bad-response', 'timeout']).toContain(r.reason);
    });
  },
);
