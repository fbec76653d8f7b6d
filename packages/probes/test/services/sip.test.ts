import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parseSipResponse, sipOptionsRequest } from '../../src/index.js';
import { describeService } from '../servers/suite.js';

it('builds the OPTIONS request ldirectord sends and reads the status line', () => {
  const req = sipOptionsRequest('health@example.test', '127.0.0.1:40000', 'UDP', '0123456789abcdef');
  expect(req).toMatch(
    /^OPTIONS sip:health@example\.test SIP\/2\.0\r\nVia: SIP\/2\.0\/UDP 127\.0\.0\.1:40000;branch=/,
  );
  expect(req.endsWith('Content-Length: 0\r\n\r\n')).toBe(true);
  expect(parseSipResponse('SIP/2.0 404 Not here\r\nVia: x\r\n\r\n')?.status).toBe(404);
  expect(parseSipResponse('HTTP/1.1 200 OK\r\n\r\n')).toBeUndefined();
});

// Kamailio from Debian with a routing script of its own: OPTIONS for
// sip:health@... gets 200 OK, anything else 404 (the wrong answer).
describeService(
  'sip (kamailio)',
  async (lab) => {
    const run = join(lab.dir, 'run');
    mkdirSync(run);
    const cfg = join(lab.dir, 'kamailio.cfg');
    writeFileSync(
      cfg,
      `#!KAMAILIO
debug=1
log_stderror=yes
children=2
tcp_children=2
auto_aliases=no
listen=udp:127.0.0.1:5060
listen=tcp:127.0.0.1:5060
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "sl.so"
request_route {
  if (method=="OPTIONS" && uri=~"^sip:health@") {
    sl_send_reply("200", "OK");
    exit;
  }
  sl_send_reply("404", "Not here");
}
`,
    );
    const daemon = lab.spawn('kamailio', [
      'kamailio',
      '-f',
      cfg,
      '-DD',
      '-E',
      '-m',
      '32',
      '-M',
      '4',
      '-Y',
      run,
    ]);
    await lab.waitListening(5060, 'udp', daemon);
    await lab.waitListening(5060, 'tcp', daemon);
    const base = { checktype: 'negotiate' as const, service: 'sip' as const, negotiatetimeout: 5 };
    return {
      daemon,
      proto: 'udp',
      target: { host: '127.0.0.1', port: 5060 },
      spec: { ...base, login: 'health@example.test' },
      wrong: { ...base, login: 'nobody@example.test' },
    };
  },
  (ctx) => {
    it('reports the status line', async () => {
      const { lab, svc } = ctx();
      const r = await lab.check(svc.spec, svc.target);
      expect(r.detail).toBe('SIP/2.0 200 OK');
    });
    it('talks TCP when the virtual service is TCP', async () => {
      const { lab, svc } = ctx();
      const up = await lab.check({ ...svc.spec, protocol: 'tcp' }, svc.target);
      expect(up, JSON.stringify(up)).toMatchObject({ ok: true });
      const wrong = await lab.check({ ...svc.wrong, protocol: 'tcp' }, svc.target);
      expect(wrong, JSON.stringify(wrong)).toMatchObject({ ok: false, reason: 'bad-response' });
      expect(wrong.detail).toMatch(/^SIP\/2\.0 404 Not here/);
    });
    it('over TCP is down with timeout when Kamailio is hung', async () => {
      const { lab, svc } = ctx();
      svc.daemon.pause();
      try {
        const r = await lab.check({ ...svc.spec, protocol: 'tcp', negotiatetimeout: 1 }, svc.target);
        expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: 'timeout' });
      } finally {
        svc.daemon.resume();
      }
    });
  },
);
