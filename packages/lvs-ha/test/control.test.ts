// The HTTP API on the control socket alone (no cluster: the control routes
// over a recording target): the answers a running node gives, bad requests
// with their codes, a stale socket file, a second node on the same path,
// TCP read-only and with a token, curl against it, and the CLI commands.
// The same routes over a real ClusterNode are in the netns/guest tests.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ClusterStatus } from '@lvs-ha/cluster';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ApiError,
  type ApiServer,
  bearerMatches,
  parseJsonBody,
  parseListen,
  requestApi,
  routeRequest,
  serveApi,
} from '../src/api.js';
import { runCli } from '../src/cli-main.js';
import {
  askControl,
  ControlError,
  type ControlTarget,
  controlRoutes,
  httpOf,
  parseDrainRequest,
  parseWeightRequest,
} from '../src/control.js';
import { capture } from './support/capture.js';

const run = promisify(execFile);

const status: ClusterStatus = {
  node: 'load2',
  nodeStatus: 'active',
  peers: [{ name: 'load1', status: 'active', links: { 'bcast eth1': 'up' } }],
  holding: 'local',
  state: 'stable',
  directors: ['/etc/ha.d/ldirectord.cf'],
  vips: [],
};

/** A target that records what it was asked and answers as a node with one Director and one real server. */
function recorder(asked: string[], faults = false): ControlTarget {
  const V = 'tcp:192.0.2.50:80';
  const known = (real: string) => {
    if (!real.startsWith('192.0.2.21')) throw new ApiError('NOT_FOUND', `no real server ${real}`);
  };
  return {
    report: async () => {
      asked.push('status');
      return status;
    },
    standby: () => asked.push('standby'),
    takeover: () => asked.push('takeover'),
    reload: async () => {
      asked.push('reload');
      return [{ file: '/etc/ha.d/ldirectord.cf', ok: true }];
    },
    stop: () => asked.push('stop'),
    drain: async (req) => {
      known(req.real);
      asked.push(`drain ${JSON.stringify(req)}`);
      return [
        {
          file: 'ld.cf',
          result: {
            reals: [{ virtual: V, real: '192.0.2.21:80', activeConns: 0 }],
            drained: true,
            removed: req.remove === true,
            waitedMs: 5,
          },
        },
      ];
    },
    undrain: async (sel) => {
      known(sel.real);
      asked.push(`undrain ${sel.real}`);
      return [{ file: 'ld.cf', virtual: V, real: '192.0.2.21:80', weight: 5 }];
    },
    weight: async (sel, weight) => {
      known(sel.real);
      asked.push(`weight ${sel.real} ${weight}`);
      return [{ file: 'ld.cf', virtual: V, real: '192.0.2.21:80', weight }];
    },
    ...(faults && { fault: (f) => asked.push(`fault ${f.fault}`) }),
  };
}

describe('the control socket (HTTP API)', () => {
  let dir: string;
  let path: string;
  let asked: string[];
  let server: ApiServer | undefined;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvs-ha-control-'));
    path = join(dir, 'run', 'control.sock');
    asked = [];
    server = await serveApi({ socketPath: path, routes: controlRoutes(() => recorder(asked)) });
  });
  afterEach(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers status, standby, takeover, reload, stop; the socket is for its owner only', async () => {
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await askControl(path, { op: 'status' })).toEqual(status);
    expect(await askControl(path, { op: 'standby' })).toEqual({ ok: true });
    expect(await askControl(path, { op: 'takeover' })).toEqual({ ok: true });
    expect(await askControl(path, { op: 'reload' })).toEqual({
      files: [{ file: '/etc/ha.d/ldirectord.cf', ok: true }],
    });
    expect(await askControl(path, { op: 'stop' })).toEqual({ ok: true });
    expect(asked).toEqual(['status', 'standby', 'takeover', 'reload', 'stop']);
  });

  it('curl --unix-socket reads /status and /api, and posts a drain', async () => {
    const curl = (...a: string[]) => run('curl', ['-sS', '--unix-socket', path, ...a]);
    expect(JSON.parse((await curl('http://x/status')).stdout)).toEqual(status);
    const api = JSON.parse((await curl('http://x/api')).stdout) as {
      endpoints: { path: string; write: boolean }[];
    };
    expect(api.endpoints.map((e) => `${e.path}${e.write ? ' (write)' : ''}`)).toEqual([
      '/api',
      '/status',
      '/standby (write)',
      '/takeover (write)',
      '/reload (write)',
      '/stop (write)',
      '/drain (write)',
      '/undrain (write)',
      '/weight (write)',
      '/fault (write)',
    ]);
    const drained = await curl('-X', 'POST', '-d', '{"real":"192.0.2.21:80","wait":true}', 'http://x/drain');
    expect(JSON.parse(drained.stdout)).toMatchObject({ drained: true, removed: false });
    expect(asked).toEqual(['status', 'drain {"real":"192.0.2.21:80","wait":true}']);
  });

  it('refuses a bad request with a code and the reason, and keeps serving', async () => {
    const ask = (method: 'GET' | 'POST', p: string, body?: unknown) =>
      requestApi({ socketPath: path }, method, p, body === undefined ? {} : { body });
    const error = (code: string) => ({ error: { code, message: expect.any(String) } });
    expect(await ask('GET', '/reboot')).toMatchObject({ status: 404, body: error('NOT_FOUND') });
    expect(await ask('GET', '/standby')).toMatchObject({ status: 405, body: error('METHOD_NOT_ALLOWED') });
    expect(await ask('POST', '/drain', {})).toMatchObject({ status: 400, body: error('BAD_REQUEST') });
    expect(await ask('POST', '/drain', [1])).toMatchObject({ status: 400, body: error('BAD_REQUEST') });
    expect(await ask('POST', '/weight', { real: '192.0.2.21', weight: 70_000 })).toMatchObject({
      status: 400,
      body: error('BAD_REQUEST'),
    });
    expect(await ask('POST', '/drain', { real: '198.51.100.9' })).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND', message: 'no real server 198.51.100.9' } },
    });
    expect(await ask('POST', '/fault', { fault: 'kill-heartbeat-thread' })).toMatchObject({
      status: 403,
      body: error('FAULT_INJECTION_OFF'),
    });
    const raw = await run('curl', [
      '-sS',
      '--unix-socket',
      path,
      '-X',
      'POST',
      '-d',
      'status',
      'http://x/drain',
    ]);
    expect(JSON.parse(raw.stdout).error.code).toBe('BAD_REQUEST');
    expect(asked).toEqual([]);
    await expect(askControl(path, { op: 'undrain', real: '198.51.100.9' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      status: 404,
    });
    expect(await askControl(path, { op: 'status' })).toEqual(status);
  });

  it('a second node on the same path is refused (IN_USE); a stale file of a dead one is replaced', async () => {
    await expect(serveApi({ socketPath: path, routes: [] })).rejects.toMatchObject({ code: 'IN_USE' });
    await server?.close();
    server = undefined;
    writeFileSync(path, ''); // what a SIGKILLed node leaves behind (not a listening socket)
    server = await serveApi({ socketPath: path, routes: controlRoutes(() => recorder(asked)) });
    expect(await askControl(path, { op: 'status' })).toEqual(status);
  });

  it('while the node is being built: 503 STARTING; with fault injection on: the fault is passed on', async () => {
    await server?.close();
    let target: ControlTarget | undefined;
    server = await serveApi({ socketPath: path, routes: controlRoutes(() => target) });
    await expect(askControl(path, { op: 'status' })).rejects.toMatchObject({ code: 'STARTING', status: 503 });
    target = recorder(asked, true);
    expect(await askControl(path, { op: 'fault', fault: 'block-main', ms: 10 })).toEqual({ ok: true });
    expect(asked).toEqual(['fault block-main']);
  });

  it('lvs-ha status prints what the node believes (or its JSON); standby/takeover say nothing and exit 0', async () => {
    const a = capture();
    expect(await runCli(['status', '--control', path], a.io)).toBe(0);
    expect(a.out()).toBe(
      'node load2 (this node): active\nnode load1: active (links: bcast eth1 up)\nresources: local (stable)\ndirector: /etc/ha.d/ldirectord.cf\n',
    );
    const b = capture();
    expect(await runCli(['status', '--control', path, '--json'], b.io)).toBe(0);
    expect(JSON.parse(b.out())).toEqual(status);
    const c = capture();
    expect(await runCli(['standby', '--control', path], c.io)).toBe(0);
    expect(await runCli(['takeover', '--control', path], c.io)).toBe(0);
    expect(c.out() + c.err()).toBe('');
    expect(asked).toEqual(['status', 'status', 'standby', 'takeover']);
  });

  it('lvs-ha drain/undrain/weight send their request and print the answer; a refusal exits 1', async () => {
    const a = capture();
    expect(
      await runCli(
        [
          'drain',
          '192.0.2.21:80',
          '--virtual',
          '192.0.2.50:80',
          '--wait',
          '--timeout',
          '5',
          '--control',
          path,
        ],
        a.io,
      ),
    ).toBe(0);
    expect(a.out()).toBe('tcp:192.0.2.50:80 192.0.2.21:80: weight 0 (0 active connections)\n');
    expect(await runCli(['weight', '192.0.2.21', '7', '--control', path], a.io)).toBe(0);
    expect(await runCli(['undrain', '192.0.2.21', '--control', path], a.io)).toBe(0);
    expect(asked).toEqual([
      'drain {"real":"192.0.2.21:80","virtual":"192.0.2.50:80","wait":true,"timeout":5}',
      'weight 192.0.2.21 7',
      'undrain 192.0.2.21',
    ]);
    const b = capture();
    expect(await runCli(['undrain', '198.51.100.9', '--control', path], b.io)).toBe(1);
    expect(b.err()).toBe('lvs-ha undrain: no real server 198.51.100.9\n');
    const c = capture();
    expect(await runCli(['weight', '192.0.2.21', 'x', '--control', path], c.io)).toBe(2);
    expect(await runCli(['drain', '192.0.2.21', '--timeout', '5', '--control', path], c.io)).toBe(2);
    expect(c.err()).toContain('--timeout is for --wait');
  });

  it('nothing listening: exit 1 saying so; bad usage: exit 2', async () => {
    const a = capture();
    expect(await runCli(['status', '--control', join(dir, 'none.sock')], a.io)).toBe(1);
    expect(a.err()).toBe(`lvs-ha status: no lvs-ha start listens on ${join(dir, 'none.sock')}\n`);
    const b = capture();
    expect(await runCli(['standby', '--json', '--control', path], b.io)).toBe(2);
    expect(b.err()).toContain("option '--json' is for 'lvs-ha status'");
    expect(asked).toEqual([]);
  });
});

describe('the API on TCP (loopback)', () => {
  let dir: string;
  let asked: string[];
  let server: ApiServer | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lvs-ha-api-'));
    asked = [];
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('read-only by default: status answers, a write is refused (403 READ_ONLY), also with a token', async () => {
    server = await serveApi({
      socketPath: join(dir, 'c.sock'),
      routes: controlRoutes(() => recorder(asked)),
      tcp: { host: '127.0.0.1', port: 0 },
    });
    const at = server.tcpAddress as { host: string; port: number };
    expect(at.host).toBe('127.0.0.1');
    expect((await requestApi(at, 'GET', '/status')).body).toEqual(status);
    const w = await requestApi(at, 'POST', '/standby', { token: 'anything' });
    expect(w).toMatchObject({ status: 403, body: { error: { code: 'READ_ONLY' } } });
    expect(asked).toEqual(['status']);
    // the Unix socket still takes writes
    expect(await askControl(join(dir, 'c.sock'), { op: 'standby' })).toEqual({ ok: true });
  });

  it('with writes allowed: only with Authorization: Bearer <token> (401 otherwise); curl with -H', async () => {
    server = await serveApi({
      socketPath: join(dir, 'c.sock'),
      routes: controlRoutes(() => recorder(asked)),
      tcp: { host: '127.0.0.1', port: 0, allowWrites: true, token: 's3cret-token' },
    });
    const at = server.tcpAddress as { host: string; port: number };
    const none = await requestApi(at, 'POST', '/takeover');
    expect(none).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
    expect((await requestApi(at, 'POST', '/takeover', { token: 's3cret-tokem' })).status).toBe(401);
    expect((await requestApi(at, 'POST', '/takeover', { token: 's3cret' })).status).toBe(401);
    expect((await requestApi(at, 'POST', '/takeover', { token: 's3cret-token' })).body).toEqual({ ok: true });
    const url = `http://127.0.0.1:${at.port}/weight`;
    const c = await run('curl', [
      '-sS',
      '-H',
      'Authorization: Bearer s3cret-token',
      '-d',
      '{"real":"192.0.2.21:80","weight":3}',
      url,
    ]);
    expect(JSON.parse(c.stdout)).toEqual({
      reals: [{ file: 'ld.cf', virtual: 'tcp:192.0.2.50:80', real: '192.0.2.21:80', weight: 3 }],
    });
    expect(asked).toEqual(['takeover', 'weight 192.0.2.21:80 3']);
  });

  it('writes without a token, or a taken port, are refused at the start (LISTEN) and leave no socket file', async () => {
    await expect(
      serveApi({
        socketPath: join(dir, 'c.sock'),
        routes: [],
        tcp: { host: '127.0.0.1', port: 0, allowWrites: true },
      }),
    ).rejects.toMatchObject({ code: 'LISTEN' });
    server = await serveApi({
      socketPath: join(dir, 'a.sock'),
      routes: [],
      tcp: { host: '127.0.0.1', port: 0 },
    });
    const port = (server.tcpAddress as { port: number }).port;
    await expect(
      serveApi({ socketPath: join(dir, 'b.sock'), routes: [], tcp: { host: '127.0.0.1', port } }),
    ).rejects.toMatchObject({ code: 'LISTEN' });
    expect(() => statSync(join(dir, 'b.sock'))).toThrow();
  });
});

describe('the pure parts', () => {
  it('bearerMatches: the exact token only, case-insensitive scheme, nothing for an empty token', () => {
    expect(bearerMatches('Bearer abc', 'abc')).toBe(true);
    expect(bearerMatches('bearer  abc ', 'abc')).toBe(true);
    expect(bearerMatches('Bearer abd', 'abc')).toBe(false);
    expect(bearerMatches('Bearer abcd', 'abc')).toBe(false);
    expect(bearerMatches('Basic abc', 'abc')).toBe(false);
    expect(bearerMatches(undefined, 'abc')).toBe(false);
    expect(bearerMatches('Bearer ', '')).toBe(false);
  });

  it('parseListen: HOST:PORT and [V6]:PORT; anything else a LISTEN error', () => {
    expect(parseListen('127.0.0.1:9110')).toEqual({ host: '127.0.0.1', port: 9110 });
    expect(parseListen('[::1]:9110')).toEqual({ host: '::1', port: 9110 });
    for (const bad of ['9110', '127.0.0.1', '::1:9110', '127.0.0.1:70000', 'a:b'])
      expect(() => parseListen(bad)).toThrow(expect.objectContaining({ code: 'LISTEN' }));
  });

  it('routeRequest: path, method, read-only and token rules', () => {
    const routes = controlRoutes(() => undefined);
    const ro = { writes: false };
    const rw = { writes: true, token: 't' };
    const code = (r: unknown) => (r instanceof ApiError ? r.code : 'ok');
    expect(code(routeRequest(routes, 'GET', '/status', undefined, ro))).toBe('ok');
    expect(code(routeRequest(routes, 'HEAD', '/status', undefined, ro))).toBe('ok');
    expect(code(routeRequest(routes, 'POST', '/drain', undefined, ro))).toBe('READ_ONLY');
    expect(code(routeRequest(routes, 'POST', '/drain', undefined, rw))).toBe('UNAUTHORIZED');
    expect(code(routeRequest(routes, 'POST', '/drain', 'Bearer t', rw))).toBe('ok');
    expect(code(routeRequest(routes, 'POST', '/drain', undefined, { writes: true }))).toBe('ok');
    expect(code(routeRequest(routes, 'DELETE', '/drain', 'Bearer t', rw))).toBe('METHOD_NOT_ALLOWED');
    expect(code(routeRequest(routes, 'GET', '/nope', undefined, rw))).toBe('NOT_FOUND');
  });

  it('the bodies: drain, weight, JSON; and the HTTP request of each control request', () => {
    expect(parseJsonBody('')).toEqual({});
    expect(() => parseJsonBody('{')).toThrow(ApiError);
    expect(parseDrainRequest({ real: '192.0.2.21', wait: true, timeout: 2.5 })).toEqual({
      real: '192.0.2.21',
      wait: true,
      timeout: 2.5,
    });
    expect(() => parseDrainRequest({ real: '192.0.2.21', wait: 'yes' })).toThrow(/wait is true or false/);
    expect(() => parseDrainRequest({ real: '192.0.2.21', timeout: 0 })).toThrow(/timeout/);
    expect(() => parseDrainRequest({ real: 5 })).toThrow(/real/);
    expect(() => parseWeightRequest({ real: '192.0.2.21', weight: 1.5 })).toThrow(/weight/);
    expect(httpOf({ op: 'status' })).toEqual({ method: 'GET', path: '/status' });
    expect(httpOf({ op: 'stop' })).toEqual({ method: 'POST', path: '/stop' });
    expect(httpOf({ op: 'weight', real: 'r', weight: 2 })).toEqual({
      method: 'POST',
      path: '/weight',
      body: { real: 'r', weight: 2 },
    });
    expect(new ControlError('NOT_FOUND', 'x', 404).status).toBe(404);
  });
});
