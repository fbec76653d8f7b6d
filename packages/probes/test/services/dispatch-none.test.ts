import { createServer } from 'node:net';
import { expect, it } from 'vitest';
import { runCheck } from '../../src/index.js';

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

it('service = none stands in for the negotiate step only: connect rounds still connect', async () => {
  const target = { host: '127.0.0.1', port: await closedPort() };
  expect(await runCheck({ checktype: 'negotiate', service: 'none' }, target)).toMatchObject({ ok: true });
  expect(await runCheck({ checktype: 'connect', service: 'none', timeout: 1 }, target)).toMatchObject({
    ok: false,
    reason: 'refused',
  });
  // checktype = 2, as ldirectord: round 0 negotiates (none: up), rounds 1 and 2 connect (refused).
  expect((await runCheck({ checktype: 2, service: 'none', timeout: 1 }, target, 0)).ok).toBe(true);
  expect((await runCheck({ checktype: 2, service: 'none', timeout: 1 }, target, 1)).ok).toBe(false);
  expect((await runCheck({ checktype: 2, service: 'none', timeout: 1 }, target, 2)).ok).toBe(false);
  expect((await runCheck({ checktype: 2, service: 'none', timeout: 1 }, target, 3)).ok).toBe(true);
});
