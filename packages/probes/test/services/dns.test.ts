import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { dnsQuestion } from '../../src/index.js';
import { describeService } from '../servers/suite.js';

it('asks A for a name and PTR for an address, as Net::DNS search does', () => {
  expect(dnsQuestion('/www.example.test')).toEqual({ name: 'www.example.test', type: 'A' });
  expect(dnsQuestion('192.0.2.21')).toEqual({ name: '21.2.0.192.in-addr.arpa', type: 'PTR' });
  expect(dnsQuestion('2001:db8::1').name).toBe(
    '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa',
  );
});

// dnsmasq from Debian, answering from its own hosts file only (no upstream).
describeService(
  'dns (dnsmasq)',
  async (lab) => {
    const hosts = join(lab.dir, 'hosts');
    writeFileSync(hosts, '192.0.2.21 rs1.example.test\n');
    const daemon = lab.spawn('dnsmasq', [
      'dnsmasq',
      '--keep-in-foreground',
      '--no-daemon',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      `--addn-hosts=${hosts}`,
      '--listen-address=127.0.0.1,::1',
      '--bind-interfaces',
      '--port=53',
      `--pid-file=${join(lab.dir, 'dnsmasq.pid')}`,
      '--user=root',
    ]);
    await lab.waitListening(53, 'udp', daemon);
    const base = { checktype: 'negotiate' as const, service: 'dns' as const, negotiatetimeout: 5 };
    return {
      daemon,
      proto: 'udp',
      target: { host: '127.0.0.1', port: 53 },
      spec: { ...base, request: 'rs1.example.test', receive: '192\\.0\\.2\\.21' },
      wrong: { ...base, request: 'rs1.example.test', receive: '198\\.51\\.100\\.' },
    };
  },
  (ctx) => {
    it('answers PTR queries for an address', async () => {
      const { lab, svc } = ctx();
      const r = await lab.check({ ...svc.spec, request: '192.0.2.21', receive: 'rs1\\.example' }, svc.target);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
    });
    it('asks over TCP when the virtual service is TCP', async () => {
      const { lab, svc } = ctx();
      const r = await lab.check({ ...svc.spec, protocol: 'tcp' }, svc.target);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
    });
    it('checks an IPv6 real server (real6) over UDP and TCP', async () => {
      const { lab, svc } = ctx();
      for (const protocol of ['udp', 'tcp'] as const) {
        const r = await lab.check({ ...svc.spec, protocol }, { host: '::1', port: 53 });
        expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
      }
    });
    it('is down for a name the server does not know (NXDOMAIN)', async () => {
      const { lab, svc } = ctx();
      const r = await lab.check({ ...svc.spec, request: 'nobody.example.test' }, svc.target);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: 'bad-response' });
    });
  },
);
