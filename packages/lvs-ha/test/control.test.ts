// The control socket alone (no cluster): the answers a running node gives,
// bad requests, a stale socket file, a second node on the same path, and
// the status/standby/takeover commands against it.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterStatus } from '@lvs-ha/cluster';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli-main.js';
import { askControl, ControlError, parseControlRequest, serveControl } from '../src/control.js';
import { capture } from './support/capture.js';

const status: ClusterStatus = {
  node: 'load2',
  nodeStatus: 'active',
  peers: [{ name: 'load1', status: 'active', links: { 'bcast eth1': 'up' } }],
  holding: 'local',
  state: 'stable',
  directors: ['/etc/ha.d/ldirectord.cf'],
  vips: [],
};

describe('control socket', () => {
  let dir: string;
  let path: string;
  let asked: string[];
  let server: { close(): Promise<void> } | undefined;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvs-ha-control-'));
    path = join(dir, 'run', 'control.sock');
    asked = [];
    server = await serveControl(path, async (req) => {
      asked.push(req.op);
      return req.op === 'status' ? { ok: true, status } : { ok: true };
    });
  });
  afterEach(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers status, standby and takeover; the socket is for its owner only', async () => {
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await askControl(path, { op: 'status' })).toEqual({ ok: true, status });
    expect(await askControl(path, { op: 'standby' })).toEqual({ ok: true });
    expect(await askControl(path, { op: 'takeover' })).toEqual({ ok: true });
    expect(asked).toEqual(['status', 'standby', 'takeover']);
  });

  it('refuses a bad request with the reason, and keeps serving', async () => {
    const raw = (line: string) =>
      new Promise<string>((resolve, reject) => {
        const s = connect(path, () => s.write(line));
        let got = '';
        s.on('data', (d) => {
          got += d;
        });
        s.on('end', () => resolve(got));
        s.on('error', reject);
      });
    expect(JSON.parse(await raw('{"op":"reboot"}\n'))).toEqual({
      ok: false,
      error: 'unknown op "reboot" (status, standby, takeover, reload, stop)',
    });
    expect(JSON.parse(await raw('status\n'))).toEqual({ ok: false, error: 'a request is one line of JSON' });
    expect(asked).toEqual([]);
    expect((await askControl(path, { op: 'status' })).ok).toBe(true);
    expect(() => parseControlRequest('null')).toThrow(ControlError);
  });

  it('a second node on the same path is refused (IN_USE); a stale file of a dead one is replaced', async () => {
    await expect(serveControl(path, async () => ({ ok: true }))).rejects.toMatchObject({ code: 'IN_USE' });
    await server?.close();
    server = undefined;
    writeFileSync(path, ''); // what a SIGKILLed node leaves behind (not a listening socket)
    server = await serveControl(path, async () => ({ ok: true, status }));
    expect((await askControl(path, { op: 'status' })).ok).toBe(true);
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
