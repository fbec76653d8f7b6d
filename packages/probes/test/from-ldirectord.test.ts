import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Monitor, monitorFromLdirectordCf } from '../src/index.js';

const seed = readFileSync(
  fileURLToPath(new URL('../../../examples/seed/ha.d/ldirectord.cf', import.meta.url)),
  'utf8',
);

describe('monitorFromLdirectordCf', () => {
  it("turns the seed's ldirectord.cf into one server per real, with the seed's check", () => {
    const { servers, options, skipped } = monitorFromLdirectordCf(seed);
    expect(skipped).toEqual([]);
    expect(options).toEqual({});
    expect(servers.map((s) => s.id)).toEqual([
      'tcp:12.3.4.50:80/12.3.4.100:80',
      'tcp:12.3.4.50:80/12.3.4.101:80',
    ]);
    expect(servers[0]).toMatchObject({
      virtual: 'tcp:12.3.4.50:80',
      target: { host: '12.3.4.100', port: 80 },
      interval: 5, // global checkinterval
      fall: 1,
      line: 8,
      spec: {
        checktype: 4,
        service: 'http', // from port 80
        request: '/server-status',
        receive: 'Apache Server Status',
        negotiatetimeout: 20,
        timeout: 20, // checktimeout defaults to negotiatetimeout
        httpmethod: 'GET',
        protocol: 'tcp',
        virtual: { host: '12.3.4.50', port: 80 },
      },
    });
    expect(servers[0]?.spec.checkport).toBeUndefined();
  });

  it('applies globals, per-virtual overrides, per-real request/receive, checkport and maintenancedir', () => {
    const cf = [
      'checktimeout = 3',
      'checkinterval = 2',
      'failurecount = 3',
      'checkcount = 2',
      'maintenancedir = /run/ldirectord-maint',
      'fork = yes',
      '',
      'virtual = 192.0.2.50:80',
      '\treal = 198.51.100.21:8080 masq 1 "/alive", "yes"',
      '\treal = 198.51.100.22:8080 masq',
      '\tservice = http',
      '\tchecktype = negotiate',
      '\trequest = "health"',
      '\treceive = "ok"',
      '\tvirtualhost = www.example.org',
      '\tcheckport = 8081',
      '\tcheckinterval = 7',
      '\tfailurecount = 1',
      '',
      'virtual = 192.0.2.50:53',
      '\treal = 198.51.100.23:53 gate',
      '\tchecktype = ping',
      '\tcheckcount = 4',
      '',
      'virtual = 7',
      '\treal = 198.51.100.24 gate',
      '\tchecktype = external-perl',
      '\tcheckcommand = "/etc/ha.d/check.pl"',
      '\tservice = https',
      '',
      'virtual6 = [2001:db8::50]:80',
      '\treal6 = [2001:db8::21]:80 gate',
      '\tchecktype = connect',
      '\tnegotiatetimeout = 9',
      '',
    ].join('\n');
    const { servers, options } = monitorFromLdirectordCf(cf);
    expect(options).toEqual({ maintenancedir: '/run/ldirectord-maint' });
    const [a, b, dns, fwm, six] = servers;
    expect(a).toMatchObject({
      target: { host: '198.51.100.21', port: 8080 },
      interval: 7, // per virtual, because fork = yes
      fall: 1,
      spec: {
        checktype: 'negotiate',
        request: '/alive', // the real's own pair
        receive: 'yes',
        virtualhost: 'www.example.org',
        checkport: 8081,
        timeout: 3,
        negotiatetimeout: 3,
      },
    });
    expect(b?.spec).toMatchObject({ request: '/health', receive: 'ok', checkport: 8081 });
    expect(dns).toMatchObject({
      fall: 3,
      spec: { checktype: 'ping', protocol: 'udp', checkcount: 4, service: 'dns' },
    });
    expect(fwm).toMatchObject({
      id: 'fwm:7/198.51.100.24:0',
      target: { host: '198.51.100.24', port: 0 },
      spec: {
        checktype: 'external-perl',
        checkcommand: '/etc/ha.d/check.pl',
        virtual: { host: '7', port: 0 },
        checkport: 443, // ld_checkport: no real port, so the service's
      },
    });
    expect(six).toMatchObject({
      target: { host: '2001:db8::21', port: 80 },
      // ld_setup: the virtual's own negotiatetimeout comes before the global checktimeout.
      spec: {
        checktype: 'connect',
        timeout: 9,
        negotiatetimeout: 9,
        virtual: { host: '2001:db8::50', port: 80 },
      },
    });
  });

  it('throws ldirectord’s own objections with the line', () => {
    expect(() => monitorFromLdirectordCf('virtual = 192.0.2.50:80\n\tchecktype = sometimes\n')).toThrow(
      /checktype/,
    );
  });
});

describe('reloading ldirectord.cf', () => {
  it('keeps the state of real servers whose check did not change', async () => {
    const cf = (receive: string) =>
      [
        'checkinterval = 1',
        'virtual = 192.0.2.50:80',
        '\treal = 192.0.2.21:80 gate',
        '\treal = 192.0.2.22:80 gate',
        '\tchecktype = negotiate',
        '\treceive = "Apache"',
        '',
        'virtual = 192.0.2.51:80',
        '\treal = 192.0.2.21:80 gate',
        '\tchecktype = negotiate',
        `\treceive = "${receive}"`,
        '',
      ].join('\n');
    const checked: string[] = [];
    const m = new Monitor(monitorFromLdirectordCf(cf('old')).servers, {
      setTimer: () => 0,
      clearTimer: () => {},
      check: async (_spec, t) => {
        checked.push(t.host);
        return { ok: true, detail: '', durationMs: 1 };
      },
    });
    await new Promise((r) => setImmediate(r));
    expect(m.states().map((s) => [s.id, s.up, s.rounds])).toEqual([
      ['tcp:192.0.2.50:80/192.0.2.21:80', true, 1],
      ['tcp:192.0.2.50:80/192.0.2.22:80', true, 1],
      ['tcp:192.0.2.51:80/192.0.2.21:80', true, 1],
    ]);
    checked.length = 0;
    m.reconfigure(monitorFromLdirectordCf(cf('new')).servers);
    await new Promise((r) => setImmediate(r));
    // Only the virtual whose receive changed starts over (checked again at once).
    expect(checked).toEqual(['192.0.2.21']);
    expect(m.states().map((s) => [s.id, s.rounds])).toEqual([
      ['tcp:192.0.2.50:80/192.0.2.21:80', 1],
      ['tcp:192.0.2.50:80/192.0.2.22:80', 1],
      ['tcp:192.0.2.51:80/192.0.2.21:80', 1],
    ]);
    m.stop();
  });
});
