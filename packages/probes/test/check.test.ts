import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConnect, checkExternal, checkFixed, checkHttp, checkSimpleTcp } from '../src/index.js';

const HOST = '127.0.0.1';
const port = (s: { address(): AddressInfo | string | null }) => (s.address() as AddressInfo).port;

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, HOST, r));
  const p = port(s);
  await new Promise((r) => s.close(r));
  return p;
}

let dir: string;
let http: Server;
let https: Server;
let hung: ReturnType<typeof createNetServer>;
let echo: ReturnType<typeof createNetServer>;

const handler: Parameters<typeof createHttpServer>[1] = (req, res) => {
  if (req.url === '/server-status') {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<title>Apache Server Status for ${req.headers.host}</title>`);
  } else {
    res.writeHead(404);
    res.end('not here');
  }
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'probes-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=rs1',
      '-days',
      '1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  http = createHttpServer(handler);
  https = createHttpsServer(
    { key: execFileSync('cat', [join(dir, 'key.pem')]), cert: execFileSync('cat', [join(dir, 'cert.pem')]) },
    handler,
  );
  hung = createNetServer(() => {}); // accepts, never answers
  echo = createNetServer((s) => s.once('data', (d) => s.end(`+OK ${d.toString()}`)));
  await Promise.all(
    [http, https, hung, echo].map((s) => new Promise<void>((r) => s.listen(0, HOST, () => r()))),
  );
});

afterAll(async () => {
  for (const s of [http, https, hung, echo]) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('connect', () => {
  it('is up against a listening server', async () => {
    const r = await checkConnect({ host: HOST, port: port(http) });
    expect(r.ok).toBe(true);
  });
  it('closes with a FIN by default, with a reset when asked', async () => {
    const seen: string[] = [];
    const srv = createNetServer((s) => {
      s.on('end', () => seen.push('fin'));
      s.on('error', (e: NodeJS.ErrnoException) => seen.push(e.code ?? 'error'));
      s.resume();
    });
    await new Promise<void>((r) => srv.listen(0, HOST, r));
    try {
      expect((await checkConnect({ host: HOST, port: port(srv) })).ok).toBe(true);
      await expect.poll(() => seen).toEqual(['fin']);
      expect((await checkConnect({ host: HOST, port: port(srv) }, { reset: true })).ok).toBe(true);
      await expect.poll(() => seen).toEqual(['fin', 'ECONNRESET']);
    } finally {
      srv.close();
    }
  });
  it('is not a timeout when the connection completed while the event loop was stalled', async () => {
    const pending = checkConnect({ host: HOST, port: port(http) }, { timeout: 0.1 });
    const until = performance.now() + 300;
    while (performance.now() < until); // the kernel completes the handshake meanwhile
    expect(await pending).toMatchObject({ ok: true });
  });
  it('is refused on a closed port', async () => {
    const r = await checkConnect({ host: HOST, port: await freePort() });
    expect(r).toMatchObject({ ok: false, reason: 'refused' });
  });
});

describe('http negotiate', () => {
  it('matches the seed check (server-status, Apache Server Status)', async () => {
    const r = await checkHttp(
      { host: HOST, port: port(http) },
      { request: 'server-status', receive: 'Apache Server Status', virtualhost: 'www.example.org' },
    );
    expect(r.ok).toBe(true);
    expect(r.detail).toMatch(/^HTTP\/1\.[01] 200/);
  });
  it('sends the virtualhost as Host', async () => {
    const r = await checkHttp(
      { host: HOST, port: port(http) },
      { request: '/server-status', receive: 'for vh\\.example', virtualhost: 'vh.example' },
    );
    expect(r.ok).toBe(true);
  });
  it('is a bad response when receive does not match, with the first bytes', async () => {
    const r = await checkHttp(
      { host: HOST, port: port(http) },
      { request: '/server-status', receive: 'nginx' },
    );
    expect(r).toMatchObject({ ok: false, reason: 'bad-response' });
    expect(r.detail).toContain('200');
  });
  it('is a bad response on a 404', async () => {
    const r = await checkHttp({ host: HOST, port: port(http) }, { request: '/nope' });
    expect(r).toMatchObject({ ok: false, reason: 'bad-response' });
    expect(r.detail).toMatch(/404/);
  });
  it('HEAD is up on 200', async () => {
    expect(
      (await checkHttp({ host: HOST, port: port(http) }, { request: '/server-status', httpmethod: 'HEAD' }))
        .ok,
    ).toBe(true);
  });
  it('times out on a server that accepts and never answers', async () => {
    const r = await checkHttp({ host: HOST, port: port(hung) }, { timeout: 0.3 });
    expect(r).toMatchObject({ ok: false, reason: 'timeout' });
    expect(r.durationMs).toBeGreaterThanOrEqual(290);
  });
  it('reads a response of many reads whole, and one cut short by a reset is refused', async () => {
    const big = createNetServer((sock) =>
      sock.once('data', () => {
        sock.write('HTTP/1.0 200 OK\r\n\r\n');
        sock.write('x'.repeat(3 << 20));
        sock.end('Apache Server Status at the end');
      }),
    );
    const cut = createNetServer((sock) =>
      sock.once('data', () => sock.write('HTTP/1.0 200 OK\r\n\r\npartial', () => sock.resetAndDestroy())),
    );
    await Promise.all([big, cut].map((s) => new Promise<void>((r) => s.listen(0, HOST, () => r()))));
    try {
      const r = await checkHttp({ host: HOST, port: port(big) }, { receive: 'Status at the end$' });
      expect(r).toMatchObject({ ok: true });
      expect(await checkHttp({ host: HOST, port: port(cut) })).toMatchObject({
        ok: false,
        reason: 'refused',
      });
    } finally {
      for (const s of [big, cut]) s.close();
    }
  });
  it('a timeout shows the first bytes the server sent', async () => {
    const slow = createNetServer((sock) =>
      sock.once('data', () => sock.write('HTTP/1.0 200 OK\r\nX-Slow: yes\r\n')),
    );
    await new Promise<void>((r) => slow.listen(0, HOST, () => r()));
    try {
      const r = await checkHttp({ host: HOST, port: port(slow) }, { timeout: 0.3 });
      expect(r).toMatchObject({ ok: false, reason: 'timeout' });
      expect(r.detail).toBe('HTTP/1.0 200 OK\r\nX-Slow: yes\r\n');
    } finally {
      slow.close();
    }
  });
  it('is refused when stopped', async () => {
    expect(await checkHttp({ host: HOST, port: await freePort() })).toMatchObject({
      ok: false,
      reason: 'refused',
    });
  });
});

describe('https negotiate (self-signed, not verified)', () => {
  it('is up', async () => {
    const r = await checkHttp(
      { host: HOST, port: port(https) },
      { tls: true, request: '/server-status', receive: 'Apache Server Status' },
    );
    expect(r.ok).toBe(true);
  });
  it('fails TLS against a plain-HTTP server', async () => {
    const r = await checkHttp({ host: HOST, port: port(http) }, { tls: true, timeout: 2 });
    expect(r.ok).toBe(false);
    expect(['tls', 'error']).toContain(r.reason);
  });
});

describe('simpletcp', () => {
  it('matches the answer', async () => {
    expect(
      (await checkSimpleTcp({ host: HOST, port: port(echo) }, { request: 'PING\n', receive: '^\\+OK PING' }))
        .ok,
    ).toBe(true);
  });
  it('is a bad response otherwise', async () => {
    expect(
      await checkSimpleTcp({ host: HOST, port: port(echo) }, { request: 'X', receive: '^-ERR' }),
    ).toMatchObject({ ok: false, reason: 'bad-response' });
  });
});

describe('external', () => {
  it('passes ldirectord arguments and maps exit status', async () => {
    const script = join(dir, 'check.sh');
    writeFileSync(script, '#!/bin/sh\necho "$1 $2 $3 $4"\n[ "$3" = 127.0.0.1 ] && [ "$4" = 80 ]\n');
    chmodSync(script, 0o755);
    const up = await checkExternal(
      { host: HOST, port: 80 },
      { checkcommand: script, virtual: { host: '192.0.2.50', port: 80 } },
    );
    expect(up).toMatchObject({ ok: true, detail: '192.0.2.50 80 127.0.0.1 80\n' });
    const down = await checkExternal({ host: HOST, port: 81 }, { checkcommand: script });
    expect(down).toMatchObject({ ok: false, reason: 'bad-response' });
  });
  it('times out a hung command', async () => {
    const script = join(dir, 'hang.sh');
    writeFileSync(script, '#!/bin/sh\nexec sleep 10\n');
    chmodSync(script, 0o755);
    expect(
      await checkExternal({ host: HOST, port: 80 }, { checkcommand: script, timeout: 0.3 }),
    ).toMatchObject({ ok: false, reason: 'timeout' });
  });
});

describe('external as ldirectord runs it', () => {
  it('passes the firewall mark and port 0 for a fwmark service, and its own environment', async () => {
    const script = join(dir, 'env.sh');
    writeFileSync(script, '#!/bin/sh\necho "$# $1 $2 $3 $4 $PERLIO $PROBES_TEST_VAR"\n');
    chmodSync(script, 0o755);
    process.env.PROBES_TEST_VAR = 'inherited';
    try {
      const r = await checkExternal(
        { host: '192.0.2.21', port: 80 },
        { checkcommand: script, virtual: { host: '7', port: 0 } },
      );
      expect(r).toMatchObject({ ok: true, detail: '4 7 0 192.0.2.21 80 perlio inherited\n' });
    } finally {
      delete process.env.PROBES_TEST_VAR;
    }
  });

  it('external-perl: the script runs with perl (no exec bit needed), @ARGV and exit as ldirectord gives them', async () => {
    const script = join(dir, 'check.pl');
    writeFileSync(
      script,
      'my ($vip, $vport, $rip, $rport) = @ARGV;\nprint "$vip:$vport $rip:$rport\\n";\nexit($rport == 80 ? 0 : 1);\n',
    );
    const up = await checkExternal(
      { host: '192.0.2.21', port: 80 },
      { checkcommand: script, perl: true, virtual: { host: '192.0.2.50', port: 80 } },
    );
    expect(up).toMatchObject({ ok: true, detail: '192.0.2.50:80 192.0.2.21:80\n' });
    const down = await checkExternal({ host: '192.0.2.21', port: 81 }, { checkcommand: script, perl: true });
    expect(down).toMatchObject({ ok: false, reason: 'bad-response' });
    expect(down.detail).toMatch(/^exit 1/);
  });

  it('at the timeout the command gets SIGTERM, as ldirectord sends it', async () => {
    const script = join(dir, 'term.sh');
    const mark = join(dir, 'term.mark');
    writeFileSync(script, `#!/bin/sh\ntrap 'echo TERM > ${mark}; exit 3' TERM\nsleep 10 & wait\n`);
    chmodSync(script, 0o755);
    const r = await checkExternal({ host: HOST, port: 80 }, { checkcommand: script, timeout: 0.3 });
    expect(r).toMatchObject({ ok: false, reason: 'timeout' });
    expect(r.durationMs).toBeLessThan(1500);
    await expect.poll(() => existsSync(mark)).toBe(true);
  });

  it('a command that cannot be started is down with the error', async () => {
    const r = await checkExternal({ host: HOST, port: 80 }, { checkcommand: join(dir, 'missing') });
    expect(r).toMatchObject({ ok: false, reason: 'error' });
    expect(r.detail).toContain('ENOENT');
  });
});

describe('on/off', () => {
  it('is fixed', () => {
    expect(checkFixed(true).ok).toBe(true);
    expect(checkFixed(false).ok).toBe(false);
  });
});
