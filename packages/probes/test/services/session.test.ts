import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkSmtp } from '../../src/index.js';
import { CheckFailure, runService, TextSession } from '../../src/services/session.js';

// Loopback servers scripted by the test: the framing and deadline logic the
// real-server tests rely on, with answers no real server gives on demand.
let server: Server;
let script: (s: Socket) => void = () => {};
let port = 0;
beforeAll(async () => {
  server = createServer((s) => script(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.close();
});
const target = () => ({ host: '127.0.0.1', port });

it('reads a multi-line numbered reply split across packets', async () => {
  script = (s) => {
    s.write('250-first\r\n250-sec');
    setTimeout(() => s.write('ond\r\n250 last\r\n'), 20);
  };
  const r = await runService({ timeout: 2 }, undefined, async (d, seen) => {
    const t = await TextSession.open(target(), { tls: false, signal: d.signal, seen });
    try {
      const reply = await t.reply();
      expect(reply).toEqual({ code: 250, text: '250-first\n250-second\n250 last\n' });
      return 'read';
    } finally {
      t.close();
    }
  });
  expect(r).toMatchObject({ ok: true, detail: 'read' });
});

it('times out with what the server said so far', async () => {
  script = (s) => s.write('220-still talking\r\n');
  const r = await checkSmtp(target(), { timeout: 0.3 });
  expect(r).toMatchObject({ ok: false, reason: 'timeout', detail: '220-still talking\r\n' });
  expect(r.durationMs).toBeGreaterThanOrEqual(290);
});

it('is a bad response when the server hangs up mid-conversation', async () => {
  script = (s) => s.end('220 hello\r\n');
  const r = await checkSmtp(target(), { timeout: 2 });
  expect(r).toMatchObject({ ok: false, reason: 'bad-response' });
  expect(r.detail).toMatch(/connection closed: 220 hello/);
});

it('is a bad response when a reply is not numbered', async () => {
  script = (s) => s.write('SSH-2.0-OpenSSH\r\n');
  const r = await checkSmtp(target(), { timeout: 2 });
  expect(r).toMatchObject({ ok: false, reason: 'bad-response', detail: 'SSH-2.0-OpenSSH\n' });
});

it('stops at once when the caller aborts', async () => {
  script = () => {};
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(), 50);
  const r = await checkSmtp(target(), { timeout: 5 }, ctl.signal);
  expect(r).toMatchObject({ ok: false, reason: 'error', detail: 'aborted' });
  expect(r.durationMs).toBeLessThan(1000);
});

it('keeps the reason a service body throws', async () => {
  const r = await runService({ timeout: 1 }, undefined, async () => {
    throw new CheckFailure('bad-response', 'nope');
  });
  expect(r).toMatchObject({ ok: false, reason: 'bad-response', detail: 'nope' });
});
