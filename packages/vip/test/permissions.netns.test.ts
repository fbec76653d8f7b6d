// Runs the operations in a child process with fewer privileges: root without
// CAP_NET_ADMIN/CAP_NET_RAW (setpriv drops them from the bounding set), and
// an ordinary user. Each must fail with a typed error and change nothing.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithNetns, Netns, veth } from './helpers/netns.js';

const run = promisify(execFile);
const child = fileURLToPath(new URL('child/vip.ts', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));

describeWithNetns('permission errors', () => {
  let a: Netns;
  let b: Netns;
  beforeAll(async () => {
    a = await Netns.create('vipp');
    b = await Netns.create('vipq');
    await veth(a, 'eth0', '02:00:5e:00:53:0a', b, 'eth0', '02:00:5e:00:53:0b');
    await a.sh('ip addr add 192.0.2.10/24 dev eth0 && ip addr add 192.0.2.50/32 dev eth0');
  });
  afterAll(async () => {
    await a?.destroy();
    await b?.destroy();
  });

  const drop = ['setpriv', '--bounding-set=-net_admin,-net_raw', '--inh-caps=-net_admin,-net_raw', '--'];
  const nobody = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--'];
  async function vip(prefix: string[], ...args: string[]) {
    const { stdout } = await run(
      'ip',
      ['netns', 'exec', a.name, ...prefix, process.execPath, '--import', 'tsx', child, ...args],
      { cwd, env: { ...process.env, TSX_TSCONFIG_PATH: `${cwd}/tsconfig.json` } },
    );
    return JSON.parse(stdout.trim().split('\n').pop()!) as {
      ok: boolean;
      code?: string;
      name?: string;
      message?: string;
    };
  }

  it.each([
    ['root without CAP_NET_ADMIN', drop],
    ['an ordinary user', nobody],
  ])('%s cannot add or remove a VIP, and nothing changes', async (_who, prefix) => {
    const before = await a.sh('ip -o addr show dev eth0 scope global');
    const add = await vip(prefix, 'add', '192.0.2.77/32/eth0');
    expect(add).toMatchObject({ ok: false, code: 'PERMISSION_DENIED', name: 'PermissionDeniedError' });
    expect(add.message).toMatch(/adding 192\.0\.2\.77\/32 to eth0: permission denied .*CAP_NET_ADMIN/);
    const del = await vip(prefix, 'remove', '192.0.2.50');
    expect(del).toMatchObject({ ok: false, code: 'PERMISSION_DENIED' });
    expect(await a.sh('ip -o addr show dev eth0 scope global')).toBe(before);
    // Listing needs no privilege.
    expect((await vip(prefix, 'list')).ok).toBe(true);
  });

  it.each([
    ['root without CAP_NET_RAW', drop],
    ['an ordinary user', nobody],
  ])('%s cannot announce', async (_who, prefix) => {
    const r = await vip(prefix, 'announce', '192.0.2.50', 'eth0');
    expect(r).toMatchObject({ ok: false, code: 'PERMISSION_DENIED' });
    expect(r.message).toMatch(/packet socket on eth0.*CAP_NET_RAW/);
  });

  it('full root succeeds in the same child (the harness is not what fails)', async () => {
    expect(await vip([], 'add', '192.0.2.78/32/eth0')).toMatchObject({ ok: true });
    expect(await a.sh('ip -o addr show dev eth0 scope global')).toContain('192.0.2.78/32');
    expect(await vip([], 'announce', '192.0.2.78', 'eth0')).toMatchObject({ ok: true });
    expect(await vip([], 'add', '192.0.2.79/32/nonexistent0')).toMatchObject({
      ok: false,
      code: 'NO_SUCH_INTERFACE',
    });
  });
});
