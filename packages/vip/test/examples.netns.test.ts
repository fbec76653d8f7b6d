// The examples under /examples run, inside namespaces, against this
// package's sources (tsx maps @lvs-ha/vip and the framing it uses to src/ so no build is needed).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithNetns } from './helpers/netns.js';
import { MAC_B, type Segment, segment } from './helpers/topology.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));
const run = promisify(execFile);

describeWithNetns('examples/vip-*.ts', () => {
  let s: Segment;
  let env: NodeJS.ProcessEnv;
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vip-tsx-'));
    s = await segment();
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          baseUrl: pkg,
          paths: {
            '@lvs-ha/vip': ['src/index.ts'],
            '@lvs-ha/netlink-frame': ['../netlink-frame/src/index.ts'],
          },
        },
      }),
    );
    env = { ...process.env, TSX_TSCONFIG_PATH: join(dir, 'tsconfig.json') };
  });
  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await s?.destroy();
  });

  it('vip-takeover holds the VIP, reports an outside deletion and its return, releases on SIGTERM', async () => {
    const child = s.b.spawn(
      [process.execPath, '--import', 'tsx', join(examples, 'vip-takeover.ts'), '192.0.2.50/24/eth0'],
      {
        cwd: pkg,
        env: { TSX_TSCONFIG_PATH: env.TSX_TSCONFIG_PATH! },
      },
    );
    const lines: { event: string; [k: string]: unknown }[] = [];
    const waiters: (() => void)[] = [];
    createInterface({ input: child.stdout! }).on('line', (l) => {
      lines.push(JSON.parse(l));
      for (const w of waiters.splice(0)) w();
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const waitFor = async (event: string) => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const hit = lines.find((l) => l.event === event);
        if (hit) return hit;
        if (Date.now() > deadline)
          throw new Error(`no "${event}" line; got ${JSON.stringify(lines)} ${stderr}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    };
    const holding = await waitFor('holding');
    expect(holding).toMatchObject({
      address: '192.0.2.50',
      interface: 'eth0',
      mac: MAC_B,
      added: true,
      announced: 10,
    });
    expect(holding.probe).toMatchObject({ inUse: false });
    await s.client.sh('busybox ping -c1 -W2 192.0.2.50 >/dev/null');
    expect(await s.client.sh('ip neigh show 192.0.2.50 dev br0')).toContain(MAC_B);

    await s.b.sh('ip addr del 192.0.2.50/24 dev eth0');
    expect(await waitFor('lost')).toMatchObject({ address: '192.0.2.50', reason: 'deleted' });
    await s.b.sh('ip addr add 192.0.2.50/24 dev eth0');
    expect(await waitFor('present')).toMatchObject({ address: '192.0.2.50' });

    child.kill('SIGTERM');
    expect(await waitFor('released')).toMatchObject({ removed: true });
    expect(await exited).toBe(0);
    expect(await s.b.sh('ip -o addr show dev eth0')).not.toContain('192.0.2.50');
  }, 60_000);

  it('vip-inspect lists links, picks the interface, and names the current holder', async () => {
    await s.b.sh('ip addr add 192.0.2.51/24 dev eth0');
    const { stdout } = await run(
      'ip',
      [
        'netns',
        'exec',
        s.a.name,
        process.execPath,
        '--import',
        'tsx',
        join(examples, 'vip-inspect.ts'),
        '192.0.2.51',
      ],
      { cwd: pkg, env },
    );
    expect(stdout).toMatch(/^eth0\s+UP\s+02:00:5e:00:53:0a 192\.0\.2\.11\/24/m);
    expect(stdout).toContain('192.0.2.51 would go on eth0 as /24 (subnet of 192.0.2.11)');
    expect(stdout).toContain(`192.0.2.51 is already answered for by ${MAC_B}`);
    await s.b.sh('ip addr del 192.0.2.51/24 dev eth0');
  }, 30_000);
});
