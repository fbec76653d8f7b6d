// examples/cluster-node.ts (ClusterNode as a library, no CLI) on two
// network namespaces: each node holds its own VIP; a clean stop of one hands
// its VIP to the other, which then holds both. The VIPs are read from the
// namespaces, not asked of the nodes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BackgroundProcess, type Netns, type Segment, segment, until } from '@lvs-ha/lab';
import { describeWithLab } from '@lvs-ha/lab/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const haCf =
  'keepalive 200ms\ndeadtime 1\nwarntime 500ms\ninitdead 3\nbcast eth0\nauto_failback on\nnode load1 load2\n';
const haresources = 'load1 192.0.2.50/32/eth0\nload2 192.0.2.51/32/eth0\n';

describeWithLab(['root', 'netns'], 'examples/cluster-node.ts: two ClusterNodes in namespaces', () => {
  let seg: Segment;
  let dir: string;
  const nodes: Record<string, BackgroundProcess> = {};
  beforeAll(async () => {
    seg = await segment(['load1', 'load2']);
    dir = mkdtempSync(join(tmpdir(), 'lvs-ha-cluster-example-'));
    mkdirSync(join(dir, 'ha.d'));
    writeFileSync(join(dir, 'ha.d', 'ha.cf'), haCf);
    writeFileSync(join(dir, 'ha.d', 'authkeys'), 'auth 1\n1 sha1 example\n', { mode: 0o600 });
    writeFileSync(join(dir, 'ha.d', 'haresources'), haresources);
  });
  afterAll(async () => {
    for (const p of Object.values(nodes)) await p.stop().catch(() => undefined);
    await seg?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const vips = async (ns: Netns) =>
    (await ns.exec(['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0'], { check: true })).stdout
      .split('\n')
      .flatMap((l) => /inet (192\.0\.2\.5[01])\/32/.exec(l)?.[1] ?? []);
  const logs = async () =>
    (await Promise.all(Object.entries(nodes).map(async ([n, p]) => `${n}:\n${await p.output()}`))).join('\n');

  it('each holds its VIP; a clean stop hands it over', async () => {
    const [load1, load2] = seg.nodes as [Netns, Netns];
    for (const [name, ns] of [
      ['load1', load1],
      ['load2', load2],
    ] as const)
      nodes[name] = await ns.start(
        ['node', '--import', 'tsx', 'examples/cluster-node.ts', join(dir, 'ha.d'), name],
        { cwd: root },
      );
    await until(
      'each holds its own VIP',
      async () =>
        JSON.stringify(await vips(load1)) === '["192.0.2.50"]' &&
        JSON.stringify(await vips(load2)) === '["192.0.2.51"]',
      30_000,
      { detail: logs },
    );
    await nodes.load2?.stop();
    expect(await nodes.load2?.output()).toMatch(/stopped\n/);
    expect(await vips(load2)).toEqual([]);
    await until('load1 holds both', async () => (await vips(load1)).length === 2, 10_000, { detail: logs });
    expect(await nodes.load1?.output()).toMatch(/acquire foreign/);
  }, 90_000);
});
