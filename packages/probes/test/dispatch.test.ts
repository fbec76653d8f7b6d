import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ldirectordTimeouts, runCheck } from '../src/index.js';

let server: Server;
let requests = 0;
beforeAll(async () => {
  server = createServer((_req, res) => {
    requests++;
    res.end('Apache Server Status');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
});
afterAll(() => {
  server.close();
});

it('checktype = 4 negotiates first, then connects 4 times, then negotiates again (the seed check, as ldirectord)', async () => {
  const target = { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
  const spec = {
    checktype: 4,
    service: 'http' as const,
    request: '/server-status',
    receive: 'Apache Server Status',
    negotiatetimeout: 20,
  };
  const negotiated: number[] = [];
  for (let round = 0; round < 11; round++) {
    const before = requests;
    expect((await runCheck(spec, target, round)).ok).toBe(true);
    if (requests > before) negotiated.push(round);
  }
  expect(negotiated).toEqual([0, 5, 10]);
});

it('off is down, on is up without touching the network', async () => {
  expect((await runCheck({ checktype: 'off' }, { host: '127.0.0.1', port: 1 })).ok).toBe(false);
  expect((await runCheck({ checktype: 'on' }, { host: '127.0.0.1', port: 1 })).ok).toBe(true);
});

it('timeouts default to each other, then to 5 and 30 s (ldirectord)', () => {
  expect(ldirectordTimeouts({})).toEqual({ timeout: 5, negotiatetimeout: 30 });
  expect(ldirectordTimeouts({ timeout: 3 })).toEqual({ timeout: 3, negotiatetimeout: 3 });
  expect(ldirectordTimeouts({ negotiatetimeout: 20 })).toEqual({ timeout: 20, negotiatetimeout: 20 });
  expect(ldirectordTimeouts({ timeout: 2, negotiatetimeout: 20 })).toEqual({
    timeout: 2,
    negotiatetimeout: 20,
  });
});

it('external-perl runs checkcommand with perl and gets ldirectord arguments', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'probes-perl-'));
  try {
    const script = join(dir, 'check.pl');
    // no #! line and not executable: only perl can run it
    writeFileSync(script, 'exit($ARGV[2] eq "127.0.0.2" && $ARGV[3] eq "8080" ? 0 : 1);\n');
    const spec = {
      checktype: 'external-perl' as const,
      checkcommand: script,
      virtual: { host: '192.0.2.50', port: 80 },
    };
    expect((await runCheck(spec, { host: '127.0.0.2', port: 8080 })).ok).toBe(true);
    expect((await runCheck(spec, { host: '127.0.0.3', port: 8080 })).ok).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('a connect check of a UDP service is a ping, as in ldirectord (TCP to the port would be refused)', async () => {
  const target = { host: '127.0.0.1', port: 9 };
  expect((await runCheck({ checktype: 'connect', protocol: 'udp' }, target)).ok).toBe(true);
  const tcp = await runCheck({ checktype: 'connect' }, target);
  expect(tcp.ok).toBe(false);
  expect(tcp.reason).toBe('refused');
});
