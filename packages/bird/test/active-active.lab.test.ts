// Active/active in the qemu guest (kernel IPVS; this host's kernel has
// none): BIRD 2 ECMP from a router to three directors, each with IPVS
// direct routing to the same three real servers. SIGKILL of a director's
// BIRD moves its flows to the others: with `mh` (one Maglev table on every
// director) and sloppy_tcp, every established connection keeps its real
// server and none is reset; the control runs (sloppy_tcp off, rr instead
// of mh) show the resets, so the test can fail.
import { fileURLToPath } from 'node:url';
import { tsxLoader } from '@lvs-ha/lab';
import { guestPerFile } from '@lvs-ha/lab/vitest';
import { beforeAll, expect, it, vi } from 'vitest';
import { describeWithBird } from './support/needs.js';

vi.setConfig({ testTimeout: 600_000 });
const sharedGuest = guestPerFile();

interface Run {
  scheduler: string;
  sloppy: boolean;
  nextHopGoneMs: number;
  before: number[];
  after: number[];
  open: string[];
  pins: { director: string; names: string[] }[];
  ping: string[];
}

async function scenario(...args: string[]): Promise<Run> {
  const guest = await sharedGuest();
  const script = fileURLToPath(new URL('guest/active-active-scenario.ts', import.meta.url));
  const r = await guest.exec(['node', '--import', tsxLoader(), script, ...args], { timeoutMs: 500_000 });
  process.stderr.write(r.stderr);
  if (r.code !== 0)
    throw new Error(`scenario ${args.join(' ')} failed (${r.code}): ${r.stderr.slice(-3000)}`);
  const run = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as Run;
  const moved = run.open.filter((n, i) => run.ping[i] !== n).length;
  process.stderr.write(
    `[active/active] ${args.join(' ')}: flows per director ${run.before.join('/')} → ${run.after.join('/')}, next hop gone in ${run.nextHopGoneMs.toFixed(0)} ms, ${moved} of ${run.open.length} connections broken or moved\n`,
  );
  return run;
}

describeWithBird(['guest'], 'active/active: BIRD ECMP + IPVS mh + sloppy_tcp in the kernel guest', () => {
  let good: Run;
  beforeAll(async () => {
    good = await scenario('mh', 'sloppy');
  }, 600_000);

  it('the flows spread over all three directors, and every connection reached a real server', () => {
    expect(good.before.every((n) => n > 0)).toBe(true);
    expect(good.open.every((n) => /^rs\d$/.test(n))).toBe(true);
    expect(new Set(good.open).size).toBe(3);
  });

  it('the route pinned to each director in turn: every connection keeps its real server', () => {
    expect(good.pins.map((p) => p.director)).toEqual(['192.0.2.11', '192.0.2.12', '192.0.2.13']);
    for (const p of good.pins) expect(p.names, p.director).toEqual(good.open);
  });

  it("director 3's BIRD SIGKILLed: its next hop is gone in < 1 s", () => {
    expect(good.nextHopGoneMs).toBeLessThan(1000);
  });

  it('every established connection keeps its real server, none reset, director 3 carries nothing new', () => {
    expect(good.ping).toEqual(good.open);
    expect(good.after[0]! + good.after[1]!).toBeGreaterThanOrEqual(good.open.length);
  });

  it('control: sloppy_tcp off, the moved connections are reset', async () => {
    const run = await scenario('mh', 'no-sloppy');
    const broken = run.pins[0]!.names.filter((n) => !/^rs\d$/.test(n));
    expect(broken.length).toBeGreaterThan(0);
    expect(broken.every((n) => n === 'reset')).toBe(true);
  });

  it('control: rr instead of mh, moved connections land on other real servers and break', async () => {
    const run = await scenario('rr', 'sloppy');
    const broken = run.pins[0]!.names.filter((n, i) => n !== run.open[i]);
    expect(broken.length).toBeGreaterThan(0);
  });
});
