import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parseEpsv, parsePasv } from '../../src/index.js';
import { describeService } from '../servers/suite.js';

it('reads the data port from a 227 reply', () => {
  expect(parsePasv('227 Entering Passive Mode (127,0,0,1,117,48).')).toBe(30000);
  expect(parsePasv('227 nonsense')).toBeUndefined();
  expect(parseEpsv('229 Entering Extended Passive Mode (|||30001|)')).toBe(30001);
  expect(parseEpsv('229 (|||0|)')).toBeUndefined();
});

// vsftpd from Debian: anonymous downloads from a temp root, passive mode.
describeService(
  'ftp (vsftpd)',
  async (lab) => {
    const root = join(lab.dir, 'root');
    const empty = join(lab.dir, 'empty');
    mkdirSync(root, { mode: 0o755 });
    mkdirSync(empty, { mode: 0o755 });
    writeFileSync(join(root, 'health.txt'), 'real server ok\n', { mode: 0o644 });
    const conf = join(lab.dir, 'vsftpd.conf');
    writeFileSync(
      conf,
      [
        // Both families (the namespace's 127.0.0.1 and ::1): real and real6.
        'listen=NO',
        'listen_ipv6=YES',
        'listen_port=21',
        'background=NO',
        'anonymous_enable=YES',
        'local_enable=NO',
        'write_enable=NO',
        `anon_root=${root}`,
        `secure_chroot_dir=${empty}`,
        'pasv_enable=YES',
        'pasv_min_port=30000',
        'pasv_max_port=30100',
        'seccomp_sandbox=NO',
        'xferlog_enable=NO',
        'syslog_enable=NO',
        `vsftpd_log_file=${join(lab.dir, 'vsftpd.log')}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const daemon = lab.spawn('vsftpd', ['vsftpd', conf]);
    await lab.waitListening(21, 'tcp', daemon);
    const base = { checktype: 'negotiate' as const, service: 'ftp' as const, negotiatetimeout: 5 };
    return {
      daemon,
      target: { host: '127.0.0.1', port: 21 },
      spec: { ...base, request: 'health.txt', receive: 'server ok' },
      wrong: { ...base, request: 'health.txt', receive: 'maintenance' },
    };
  },
  (ctx) => {
    it('checks an IPv6 real server (real6) with EPSV', async () => {
      const { lab, svc } = ctx();
      const r = await lab.check(svc.spec, { host: '::1', port: 21 });
      expect(r, JSON.stringify(r)).toMatchObject({ ok: true, detail: 'real server ok\n' });
    });
    it('is down when the file is missing (550)', async () => {
      const { lab, svc } = ctx();
      const r = await lab.check({ ...svc.spec, request: 'missing.txt' }, svc.target);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: 'bad-response' });
      expect(r.detail).toMatch(/^550/);
    });
    it('is down when the login is refused', async () => {
      const { lab, svc } = ctx();
      const r = await lab.check({ ...svc.spec, login: 'root', passwd: 'x' }, svc.target);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: 'bad-response' });
    });
  },
);
