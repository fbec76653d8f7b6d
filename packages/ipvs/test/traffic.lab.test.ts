// The seed's topology in the lab guest: the DR service is made with the
// binding (examples/ipvs-dr-service.ts, run on load1) and carries the
// client's requests to both real servers. The other examples run there too.
// One guest for the file (Lab.start with ipvs: true).
import { fileURLToPath } from 'node:url';
import { describeWithLab, Lab, seedTopology, tsxLoader } from '@lvs-ha/lab';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';

// Each example is a Node + tsx start inside a TCG guest: seconds each on a busy machine.
vi.setConfig({ testTimeout: 180_000 });

const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));
// tsx maps @lvs-ha/ipvs to this package's sources (no build needed).
const env = { TSX_TSCONFIG_PATH: fileURLToPath(new URL('examples.tsconfig.json', import.meta.url)) };

describeWithLab(['ipvs'], 'a DR service made with the binding, in the seed topology', () => {
  let lab: Lab;
  const example = (name: string, args: string[] = [], input?: string) =>
    lab.host('load1').exec(['node', '--import', tsxLoader(), `${examples}${name}`, ...args], {
      env,
      input,
      timeoutMs: 120_000,
    });
  beforeAll(async () => {
    lab = await Lab.start(seedTopology, { ipvs: true });
    await lab.host('rs1').serveHttp();
    await lab.host('rs2').serveHttp();
    await lab.host('load1').addVip();
  }, 300_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it('examples/ipvs-dr-service.ts makes the service; client requests reach both real servers', async () => {
    const r = await example('ipvs-dr-service.ts', ['192.0.2.50', '192.0.2.21', '192.0.2.22']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('3 change(s)\n');
    expect(await lab.host('load1').ipvsadm(['-Sn'])).toBe(
      '-A -t 192.0.2.50:80 -s wrr\n-a -t 192.0.2.50:80 -r 192.0.2.21:80 -g -w 5\n-a -t 192.0.2.50:80 -r 192.0.2.22:80 -g -w 5\n',
    );
    const replies = await lab.host('client').fetchMany('http://192.0.2.50/', 20);
    const bodies = replies.map((x) => x.body);
    expect(bodies.filter((b) => b === 'rs1\n').length).toBe(10);
    expect(bodies.filter((b) => b === 'rs2\n').length).toBe(10);
  });

  it('examples/ipvs-list.ts prints the live counters exactly as ipvsadm --stats --exact does', async () => {
    const ours = await example('ipvs-list.ts', ['--stats', '--exact']);
    const theirs = await lab.host('load1').ipvsadm(['-Ln', '--stats', '--exact']);
    expect(ours.stdout).toBe(theirs);
    expect(theirs).toMatch(/TCP {2}192\.0\.2\.50:80 +20 /);
  });

  it('examples/ipvs-reconcile.ts: a weight change is one operation; rs2 quiescent takes no new clients; rs1 keeps its counters', async () => {
    const rules =
      '-A -t 192.0.2.50:80 -s wrr\n-a -t 192.0.2.50:80 -r 192.0.2.21:80 -g -w 5\n-a -t 192.0.2.50:80 -r 192.0.2.22:80 -g -w 0\n';
    const r = await example('ipvs-reconcile.ts', [], rules);
    expect(r.stdout).toBe(
      '{"op":"edit-destination","service":{"protocol":"tcp","address":"192.0.2.50","port":80},"destination":{"address":"192.0.2.22","port":80,"forward":"gate","weight":0}}\n1 operation(s), 0 refused\n',
    );
    expect(await lab.host('load1').ipvsadm(['-Sn'])).toBe(rules);
    const bodies = (await lab.host('client').fetchMany('http://192.0.2.50/', 6)).map((x) => x.body);
    expect(bodies).toEqual(Array(6).fill('rs1\n'));
    // Untouched entries keep their state: rs1 was never deleted and re-added,
    // so its counter holds the first test's 10 connections plus these 6.
    const stats = await lab.host('load1').ipvsadm(['-Ln', '--stats', '--exact']);
    expect(stats).toMatch(/\n {2}-> 192\.0\.2\.21:80 +16 /);
    expect(stats).toMatch(/\n {2}-> 192\.0\.2\.22:80 +10 /);
  });
});
