import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeService } from '../servers/suite.js';

// Leafnode from Debian (the small NNTP server), started per connection the way
// Debian's inetd line does (as user news), with socat in inetd's place (nofork: leafnode gets the TCP socket itself and
// checks that the peer is on a local network). Its
// configuration and spool are bind-mounted over /etc/news/leafnode and
// /var/spool/news inside a private mount namespace, so the host's stay
// untouched. Port 1119 runs the same leafnode without a configuration: it
// answers "503 Unable to read configuration file" (the wrong answer).
describeService(
  'nntp (leafnode)',
  async (lab) => {
    const etc = join(lab.dir, 'etc');
    const empty = join(lab.dir, 'empty');
    const spool = join(lab.dir, 'spool');
    mkdirSync(etc);
    mkdirSync(empty);
    writeFileSync(
      join(etc, 'config'),
      'server = news.example.test\nexpire = 20\nhostname = news.probes.lvs-ha.internal\n',
    );
    execFileSync('cp', ['-a', '/var/spool/news', spool]);
    const listen = (port: number) =>
      `socat TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork EXEC:/usr/sbin/leafnode,su=news,nofork`;
    // Leafnode insists on a fully-qualified, non-reserved host name (.test and
    // .example are refused): give it one in its own
    // UTS namespace, and a hosts file that resolves it.
    writeFileSync(
      join(lab.dir, 'hosts'),
      '127.0.0.1 localhost\n127.0.1.1 news.probes.lvs-ha.internal news\n',
    );
    const script = [
      'hostname news.probes.lvs-ha.internal',
      `mount --bind ${join(lab.dir, 'hosts')} /etc/hosts`,
      `mount --bind ${etc} /etc/news/leafnode`,
      `mount --bind ${spool} /var/spool/news`,
      `(unshare -m --propagation private sh -c 'mount --bind ${empty} /etc/news/leafnode && exec ${listen(1119)}' &)`,
      `exec ${listen(119)}`,
    ].join(' && ');
    const daemon = lab.spawn('leafnode', [
      'unshare',
      '-m',
      '-u',
      '--propagation',
      'private',
      'sh',
      '-c',
      script,
    ]);
    await lab.waitListening(119, 'tcp', daemon);
    await lab.waitListening(1119, 'tcp', daemon);
    const spec = { checktype: 'negotiate' as const, service: 'nntp' as const, negotiatetimeout: 5 };
    return {
      daemon,
      target: { host: '127.0.0.1', port: 119 },
      spec,
      wrong: spec,
      wrongTarget: { host: '127.0.0.1', port: 1119 },
    };
  },
  (ctx) => {
    it('reports the greeting', async () => {
      const { lab, svc } = ctx();
      const r = await lab.check(svc.spec, svc.target);
      expect(r.detail).toMatch(/^20[01] Leafnode NNTP/);
      const wrong = await lab.check(svc.spec, { host: '127.0.0.1', port: 1119 });
      expect(wrong.detail).toMatch(/^503/);
    });
  },
);
