// examples/bird-announce.ts in a director's namespace against the router of
// the lab: the router's kernel gets the VIP via the director; SIGTERM
// withdraws it before the example exits.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BackgroundProcess, until } from '@lvs-ha/lab';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithBird } from './support/needs.js';
import {
  DIRECTOR_AS,
  ROUTER_ADDRESS,
  ROUTER_AS,
  type RouterLab,
  routerLab,
  waitNextHops,
} from './support/routing.js';

const root = join(import.meta.dirname, '..', '..', '..');
const VIP = '203.0.113.50';

describeWithBird(['root', 'netns'], 'examples/bird-announce.ts', () => {
  let lab: RouterLab;
  let example: BackgroundProcess | undefined;

  beforeAll(async () => {
    lab = await routerLab(1);
  }, 60_000);

  afterAll(async () => {
    await example?.stop().catch(() => undefined);
    await lab?.destroy();
  });

  it('announces the VIP to the router; SIGTERM withdraws it, then it exits', async () => {
    const host = lab.hosts[0]!;
    const file = join(lab.dir, 'bgp.cf');
    await writeFile(
      file,
      `router-id ${host.address}\nlocal-as ${DIRECTOR_AS}\nneighbor ${ROUTER_ADDRESS} as ${ROUTER_AS}\nbfd 100ms 3\n`,
    );
    const running = await host.ns.start(['node', '--import', 'tsx', 'examples/bird-announce.ts', file, VIP], {
      cwd: root,
    });
    example = running;
    await waitNextHops(lab.router, VIP, (h) => h.join() === host.address, { deadlineMs: 30_000 }).catch(
      async (e: Error) => {
        throw new Error(`${e.message}\n${await example?.output()}`);
      },
    );
    // its status lines show the session with BFD
    await until(
      'an Established/BFD Up status line',
      async () => /"bgpState":"Established","info":"Established","bfd":"Up"/.test(await running.output()),
      10_000,
      { everyMs: 200, detail: () => running.output() },
    );
    await example.stop();
    const out = await example.output();
    expect(out).toMatch(/"type":"announced","vip":"203\.0\.113\.50"/);
    expect(out).toMatch(/"type":"withdrawn","vip":"203\.0\.113\.50"[\s\S]*stopped\n/);
    await waitNextHops(lab.router, VIP, (h) => h.length === 0, { deadlineMs: 1000 });
  }, 60_000);
});
