import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCheck } from '../src/index.js';

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

it('checktype = 4 negotiates on every fourth round only (the seed check)', async () => {
  const target = { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
  const spec = {
    checktype: 4,
    service: 'http' as const,
    request: '/server-status',
    receive: 'Apache Server Status',
    negotiatetimeout: 20,
  };
  for (let round = 0; round < 8; round++) expect((await runCheck(spec, target, round)).ok).toBe(true);
  expect(requests).toBe(2);
});

it('off is down, on is up without touching the network', async () => {
  expect((await runCheck({ checktype: 'off' }, { host: '127.0.0.1', port: 1 })).ok).toBe(false);
  expect((await runCheck({ checktype: 'on' }, { host: '127.0.0.1', port: 1 })).ok).toBe(true);
});
