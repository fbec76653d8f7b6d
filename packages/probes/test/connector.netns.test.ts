// Connect checks on the Connector (raw non-blocking sockets, one epoll set)
// and half-open checks (a SYN on a raw socket), inside a namespace of their
// own: real listeners, an nftables black hole, a route that does not exist,
// forged replies, and a prober without CAP_NET_RAW.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Netns } from '@lvs-ha/lab';
import { describeWithLab } from '@lvs-ha/lab/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CheckResult, MonitoredServer } from '../src/index.js';
import { type Prober, startProber } from './helpers/prober.js';

const listenersScript = fileURLToPath(new URL('child/listeners.mjs', import.meta.url));
const forgeScript = fileURLToPath(new URL('child/forge.py', import.meta.url));
const UP = 8080;
const HOLE = 8081; // nft drops what comes to it
const LATE = 8082; // dropped for a while, then let through
const CLOSED = 8090;
const LISTEN = ['127.0.0.1:8080', '[::1]:8080', '127.0.0.1:8081', '127.0.0.1:8082', '127.0.0.1:8083'];

describeWithLab(['root', 'netns'], 'connect checks on the Connector, full and half-open', () => {
  let ns: Netns;
  let prober: Prober;
  let listeners: ChildProcess;
  const lines: string[] = [];
  const waiters: ((l: string) => boolean)[] = [];
  const nextLine = (prefix: string) =>
    new Promise<string>((resolve) => {
      const hit = (l: string) => {
        if (!l.startsWith(prefix)) return false;
        resolve(l);
        return true;
      };
      const i = lines.findIndex(hit);
      if (i >= 0) lines.splice(i, 1);
      else waiters.push(hit);
    });
  const accepted = async (): Promise<Record<string, number>> => {
    const line = nextLine('{');
    listeners.stdin!.write('count\n');
    return JSON.parse(await line);
  };
  const connect = (host: string, port: number, options: object) =>
    prober.call<CheckResult>('connect', { target: { host, port }, options });

  beforeAll(async () => {
    ns = await Netns.create('connector');
    await ns.sh(
      `nft add table inet t && nft add chain inet t input '{ type filter hook input priority 0; policy accept; }' && nft add rule inet t input tcp dport ${HOLE} drop && nft add rule inet t input tcp dport ${LATE} drop`,
    );
    // Netns.spawn() closes stdin; the commands go there.
    listeners = spawn('ip', ['netns', 'exec', ns.name, process.execPath, listenersScript, ...LISTEN], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: listeners.stdout! }).on('line', (l) => {
      const i = waiters.findIndex((w) => w(l));
      if (i >= 0) waiters.splice(i, 1);
      else lines.push(l);
    });
    await nextLine('ready');
    prober = await startProber(ns);
  });
  afterAll(async () => {
    await prober?.close();
    listeners?.stdin?.end();
    listeners?.kill();
    await ns?.destroy();
  });

  it('full connect: up, refused, timeout, unreachable, each with its reason', async () => {
    const before = await accepted();
    const up = await connect('127.0.0.1', UP, { timeout: 1 });
    expect(up).toMatchObject({ ok: true });
    expect((await accepted())['127.0.0.1:8080']).toBe(before['127.0.0.1:8080']! + 1);
    expect(await connect('::1', UP, { timeout: 1, reset: true })).toMatchObject({ ok: true });
    expect(await connect('127.0.0.1', CLOSED, { timeout: 1 })).toMatchObject({
      ok: false,
      reason: 'refused',
      detail: `connect ECONNREFUSED 127.0.0.1:${CLOSED}`,
    });
    const hole = await connect('127.0.0.1', HOLE, { timeout: 0.5 });
    expect(hole).toMatchObject({ ok: false, reason: 'timeout' });
    expect(hole.durationMs).toBeGreaterThanOrEqual(500);
    expect(hole.durationMs).toBeLessThan(1500);
    // The namespace has no route beyond its loopback.
    expect(await connect('203.0.113.9', UP, { timeout: 1 })).toMatchObject({
      ok: false,
      reason: 'unreachable',
    });
    // A name, not an address: net.Socket does it.
    expect(await connect('localhost', UP, { timeout: 1 })).toMatchObject({ ok: true });
  });

  it('half-open: up on the SYN-ACK with no connection for the server to accept; refused on the reset', async () => {
    expect(await prober.call('halfOpen', { family: 4 })).toMatchObject({ port: expect.any(Number) });
    expect(await prober.call('halfOpen', { family: 6 })).toMatchObject({ port: expect.any(Number) });
    const before = await accepted();
    for (let i = 0; i < 20; i++) {
      expect(await connect('127.0.0.1', UP, { timeout: 1, halfOpen: true })).toMatchObject({ ok: true });
      expect(await connect('::1', UP, { timeout: 1, halfOpen: true })).toMatchObject({ ok: true });
    }
    expect(await accepted()).toEqual(before);
    expect(await connect('127.0.0.1', CLOSED, { timeout: 1, halfOpen: true })).toMatchObject({
      ok: false,
      reason: 'refused',
    });
    expect(await connect('::1', CLOSED, { timeout: 1, halfOpen: true })).toMatchObject({
      ok: false,
      reason: 'refused',
    });
    expect(await connect('203.0.113.9', UP, { timeout: 1, halfOpen: true })).toMatchObject({
      ok: false,
      reason: 'unreachable',
    });
  });

  it('half-open: a black hole is a timeout; a SYN dropped at first is sent again after 1 s, as connect() does', async () => {
    const hole = await connect('127.0.0.1', HOLE, { timeout: 0.5, halfOpen: true });
    expect(hole).toMatchObject({ ok: false, reason: 'timeout' });
    expect(hole.detail).toContain('no SYN-ACK');
    expect(hole.durationMs).toBeGreaterThanOrEqual(500);
    expect(hole.durationMs).toBeLessThan(1500);
    const late = connect('127.0.0.1', LATE, { timeout: 3, halfOpen: true });
    await new Promise((r) => setTimeout(r, 400));
    // Let LATE through: the first SYN is gone, the one sent at 1 s is answered.
    await ns.sh(
      `nft delete rule inet t input handle $(nft -a list chain inet t input | awk '/dport ${LATE}/ {print $NF}')`,
    );
    const r = await late;
    expect(r).toMatchObject({ ok: true });
    expect(r.durationMs).toBeGreaterThanOrEqual(1000);
    expect(r.durationMs).toBeLessThan(2000);
    expect((await accepted())['127.0.0.1:8082']).toBe(0);
  });

  it('half-open: forged SYN-ACKs and resets to our port with wrong numbers are not answers', async () => {
    const { port } = await prober.call<{ port: number }>('halfOpen', { family: 4 });
    const pending = connect('127.0.0.1', HOLE, { timeout: 2, halfOpen: true });
    await new Promise((r) => setTimeout(r, 100));
    const sent = await ns.exec(
      ['python3', forgeScript, '127.0.0.1', String(HOLE), '127.0.0.1', String(port), '2000'],
      {
        check: true,
      },
    );
    expect(sent.stdout).toContain('sent 2000');
    expect(await pending).toMatchObject({ ok: false, reason: 'timeout' });
  });

  it('the Monitor runs half-open checks: a stopped listener goes down as refused', async () => {
    const servers: MonitoredServer[] = [
      {
        id: 'a',
        target: { host: '127.0.0.1', port: 8083 },
        spec: { checktype: 'connect', timeout: 1, halfOpen: true },
        interval: 0.2,
      },
      {
        id: 'b',
        target: { host: '::1', port: UP },
        spec: { checktype: 'connect', timeout: 1, halfOpen: true },
        interval: 0.2,
      },
    ];
    await prober.call('monitor', { servers, monitorOptions: { jitter: 0 } });
    await prober.transition((t) => t.id === 'a' && t.up, 3000);
    await prober.transition((t) => t.id === 'b' && t.up, 3000);
    const closed = nextLine('closed');
    listeners.stdin!.write('close 127.0.0.1:8083\n');
    await closed;
    const down = await prober.transition((t) => t.id === 'a' && !t.up, 3000);
    expect(down.result.reason).toBe('refused');
    expect(prober.transitions.filter((t) => t.id === 'b')).toHaveLength(1);
    await prober.call('monitor', { servers: [] });
  });

  it('without CAP_NET_RAW a half-open check is a full connect', async () => {
    const weak = await startProber(ns, ['setpriv', '--bounding-set=-net_raw', '--inh-caps=-net_raw', '--']);
    try {
      expect(await weak.call('halfOpen', { family: 4 })).toMatchObject({
        unavailable: expect.stringMatching(/EPERM/),
      });
      const before = await accepted();
      const r = await weak.call<CheckResult>('connect', {
        target: { host: '127.0.0.1', port: UP },
        options: { timeout: 1, halfOpen: true },
      });
      expect(r).toMatchObject({ ok: true });
      expect((await accepted())['127.0.0.1:8080']).toBe(before['127.0.0.1:8080']! + 1);
    } finally {
      await weak.close();
    }
  });
});
