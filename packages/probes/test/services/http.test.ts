import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { proxyUri } from '../../src/index.js';
import type { ServiceLab } from '../servers/lab.js';
import { ldirectordCheck } from '../servers/ldirectord.js';
import { startNginx } from '../servers/nginx.js';
import { describeServices, type ServiceCase, type ServiceContext } from '../servers/suite.js';

it('asks the proxy for the absolute URI, as ldirectord builds it', () => {
  const t = { host: '192.0.2.21', port: 3128 };
  expect(proxyUri(t, '/http://www.example.test/health')).toBe('http://www.example.test/health');
  expect(proxyUri(t, 'health')).toBe('http://192.0.2.21:3128/health');
  expect(proxyUri({ host: '2001:db8::1', port: 3128 }, '/x')).toBe('http://[2001:db8::1]:3128/x');
});

// http and https (check.ts) against Debian's nginx, https with a self-signed certificate.
const web: ServiceCase[] = (
  [
    ['http', 80],
    ['https', 443],
  ] as const
).map(([service, port]) => ({
  name: `${service} (nginx)`,
  start: async (lab: ServiceLab) => {
    const daemon = await startNginx(lab);
    const base = {
      checktype: 'negotiate' as const,
      service,
      negotiatetimeout: 5,
      request: '/server-status',
      virtualhost: 'rs1.example.test',
    };
    return {
      daemon,
      target: { host: '127.0.0.1', port },
      spec: { ...base, receive: 'status: ok' },
      wrong: { ...base, receive: 'Apache Server Status' },
    };
  },
  more: (ctx: () => ServiceContext) => {
    if (service === 'https') {
      it("does not verify the self-signed certificate, where Debian's ldirectord (Perl's IO::Socket::SSL defaults) does and says down", async () => {
        const { lab, svc } = ctx();
        expect((await lab.check(svc.spec, svc.target)).ok).toBe(true);
        expect(await ldirectordCheck(lab.ns, svc.spec, svc.target)).toBe('down');
      });
    }
    it('is down with bad-response on a 404', async () => {
      const { lab, svc } = ctx();
      const r = await lab.check({ ...svc.spec, request: '/missing' }, svc.target);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: 'bad-response' });
      expect(r.detail).toMatch(/^HTTP\/1\.1 404/);
    });
  },
}));

// http_proxy: Debian's tinyproxy as the real server, forwarding to nginx.
const proxy: ServiceCase = {
  name: 'http_proxy (tinyproxy)',
  start: async (lab: ServiceLab) => {
    await startNginx(lab);
    const conf = join(lab.dir, 'tinyproxy.conf');
    writeFileSync(
      conf,
      `User nobody
Group nogroup
Port 3128
Listen 127.0.0.1
Timeout 10
MaxClients 20
Allow 127.0.0.1
LogLevel Warning
LogFile "${lab.dir}/tinyproxy.log"
PidFile "${lab.dir}/tinyproxy.pid"
`,
    );
    const daemon = lab.spawn('tinyproxy', ['tinyproxy', '-d', '-c', conf]);
    await lab.waitListening(3128, 'tcp', daemon);
    const base = {
      checktype: 'negotiate' as const,
      service: 'http_proxy' as const,
      negotiatetimeout: 5,
      request: '/http://127.0.0.1:80/server-status',
    };
    return {
      daemon,
      target: { host: '127.0.0.1', port: 3128 },
      spec: { ...base, receive: 'status: ok' },
      wrong: { ...base, receive: 'Apache Server Status' },
    };
  },
  more: (ctx: () => ServiceContext) => {
    it('is down with bad-response when the proxy cannot reach the origin', async () => {
      const { lab, svc } = ctx();
      const r = await lab.check({ ...svc.spec, request: '/http://127.0.0.1:81/server-status' }, svc.target);
      expect(r, JSON.stringify(r)).toMatchObject({ ok: false, reason: 'bad-response' });
      expect(r.detail).toMatch(/^HTTP\/1\.[01] 5\d\d/);
    });
  },
};

describeServices('web (nginx, tinyproxy)', [...web, proxy]);
