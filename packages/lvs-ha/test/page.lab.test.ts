// The status page against the real pair, in the lab's qemu guest (real
// kernel IPVS): `lvs-ha start` on load1 and load2 from the seed's files
// (checkinterval 1), Debian's Apache on rs1 and rs2, load1's API also on
// 127.0.0.1:9110 with writes and a token. Debian's Chromium runs in the
// guest, in load1's namespace, driven by test/support/page-driver.mjs
// (the guest has no network to this machine, and needs none): it opens
// the page, stops rs1's Apache and times when the page shows rs1 down
// against when the kernel's table lost it (`ipvsadm -Ln`, never asked of
// lvs-ha), then types the token and clicks Drain on rs2: the kernel's
// weight of rs2 is read with ipvsadm in the guest.
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ApacheServer,
  type BackgroundProcess,
  Lab,
  labLdirectordCf,
  seedTopology,
  until,
} from '@lvs-ha/lab';
import { describeWithLab, guestPerFile } from '@lvs-ha/lab/vitest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { builtCli, startArgv } from './support/built-cli.js';
import { chromiumMissing } from './support/chromium.js';

const driverScript = fileURLToPath(new URL('support/page-driver.mjs', import.meta.url));
const VIP = seedTopology.vip;
const SERVICE = `${VIP}:80/tcp`;
const TABLE = `-A -t ${VIP}:80 -s wrr\n-a -t ${VIP}:80 -r 192.0.2.21:80 -g -w 5\n-a -t ${VIP}:80 -r 192.0.2.22:80 -g -w 5\n`;
const HA_CF =
  'keepalive 500ms\ndeadtime 4\nwarntime 2\ninitdead 8\nbcast eth1\nauto_failback on\nnode load1 load2\n';
const TOKEN = 'lab-page-token-0c41e2';
/** labLdirectordCf(): checkinterval 1 */
const CHECK_INTERVAL_MS = 1000;
const sharedGuest = guestPerFile();
// Chromium in the guest: a first page load and each driver round trip take seconds under TCG
vi.setConfig({ testTimeout: 120_000 });

const missing = chromiumMissing();
const NAME = 'the status page in Chromium against the lvs-ha pair (qemu guest, real IPVS)';
if (missing) process.stderr.write(`[page, guest] skipping "${NAME}": ${missing}\n`);
// without Chromium the suite is skipped with the reason (CI=true fails a skip), else it needs the guest
const suite = missing
  ? (name: string, fn: () => void) => describe.skip(`${name} (skipped: ${missing})`, fn)
  : (name: string, fn: () => void) => describeWithLab(['guest'], name, fn);

suite(NAME, () => {
  let lab: Lab;
  let dir: string;
  let cmdDir: string;
  let driver: BackgroundProcess;
  let sent = 0;
  const nodes: Record<string, BackgroundProcess> = {};
  const apache: Record<string, ApacheServer> = {};

  const outputs = async () =>
    (
      await Promise.all(
        Object.entries({ ...nodes, driver }).map(async ([n, p]) => `--- ${n}\n${await p?.output()}`),
      )
    ).join('\n');
  /** Sends the driver a command and waits (polling its output, with a deadline) for its answer. */
  const ask = async (c: Record<string, unknown>, ms = 240_000): Promise<Record<string, unknown>> => {
    const n = ++sent;
    const file = join(cmdDir, `cmd-${n}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(c));
    renameSync(`${file}.tmp`, file);
    const t0 = Date.now();
    for (;;) {
      const m = new RegExp(`^res ${n} (.*)$`, 'm').exec(await driver.output());
      if (m) {
        const answer = JSON.parse(m[1] as string) as Record<string, unknown>;
        if (answer.error) throw new Error(`driver: ${c.op}: ${answer.error}\n${await outputs()}`);
        return answer;
      }
      if (!(await driver.running())) throw new Error(`the driver exited:\n${await outputs()}`);
      if (Date.now() - t0 > ms)
        throw new Error(`driver: no answer to ${c.op} in ${ms} ms\n${await outputs()}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  /** until() with the nodes' logs, giving up when one exits; resolves with the ms it took. */
  const soon = async (what: string, pred: () => Promise<boolean>, ms: number) =>
    (
      await until(what, pred, ms, {
        everyMs: 500,
        guard: async () => {
          for (const [n, p] of Object.entries(nodes))
            if (!(await p.running())) throw new Error(`lvs-ha start on ${n} exited:\n${await outputs()}`);
        },
        detail: outputs,
      })
    ).ms;

  beforeAll(async () => {
    builtCli();
    const guest = await sharedGuest();
    lab = await Lab.start(seedTopology, { runner: guest });
    dir = join(guest.shareDir, `page-${process.pid}`);
    cmdDir = join(dir, 'driver');
    mkdirSync(cmdDir, { recursive: true });
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    chmodSync(join(dir, 'token'), 0o600);
    for (const name of ['load1', 'load2']) {
      const d = join(dir, name);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'ha.cf'), HA_CF);
      writeFileSync(join(d, 'authkeys'), 'auth 1\n1 sha1 lvs-ha-page\n');
      chmodSync(join(d, 'authkeys'), 0o600);
      writeFileSync(join(d, 'haresources'), `load1 ${VIP}/32/eth0 ldirectord::ldirectord.cf\n`);
      writeFileSync(join(d, 'ldirectord.cf'), labLdirectordCf());
    }
    // Chromium starts (a minute or two under emulation) while Apache and the pair do
    driver = await lab.host('load1').ns.start(['node', driverScript, cmdDir], { env: { HOME: '/root' } });
    for (const rs of ['rs1', 'rs2']) apache[rs] = await lab.host(rs).startApache();
    for (const name of ['load1', 'load2'])
      nodes[name] = await lab
        .host(name)
        .ns.start(
          startArgv(
            join(dir, name),
            name,
            `/tmp/lvs-ha-page-${process.pid}-${name}.sock`,
            '--listen',
            '127.0.0.1:9110',
            '--allow-writes',
            '--token-file',
            join(dir, 'token'),
          ),
        );
    const pairMs = await soon(
      'load1 holds the VIP and the seed table, load2 nothing',
      async () =>
        (await lab.host('load1').ipAddr()).includes(`${VIP}/32`) &&
        (await lab.host('load1').ipvsadm(['-Sn'])) === TABLE &&
        (await lab.host('load2').ipvsadm(['-Sn'])) === '',
      300_000,
    );
    process.stderr.write(`[page, guest] the pair holds the VIP and the table ${pairMs} ms after its start\n`);
    const t0 = Date.now();
    await soon('the driver has Chromium up', async () => /^ready /m.test(await driver.output()), 400_000);
    const ready = /^ready (.*)$/m.exec(await driver.output())?.[1];
    process.stderr.write(
      `[page, guest] Chromium in the guest: ${ready} (ready ${Date.now() - t0} ms after the pair)\n`,
    );
  }, 900_000);
  afterAll(async () => {
    if (driver && (await driver.running())) await ask({ op: 'quit' }, 60_000).catch(() => {});
    await driver?.stop().catch(() => {});
    for (const p of Object.values(nodes)) await p.stop().catch(() => {});
    for (const a of Object.values(apache)) await a.stop().catch(() => {});
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the pair (load2 active over bcast eth1) and both real servers up with their kernel weight', async () => {
    const opened = await ask({
      op: 'goto',
      url: 'http://127.0.0.1:9110/',
      reals: ['192.0.2.21:80', '192.0.2.22:80'],
    });
    process.stderr.write(`[page, guest] page loaded and showing both real servers up in ${opened.ms} ms\n`);
    const t = (await ask({ op: 'texts', reals: ['192.0.2.21:80', '192.0.2.22:80'] })) as {
      node: string;
      self: string[];
      peers: string[][];
      reals: Record<string, string[]>;
      buttons: string[];
      tokenField: boolean;
      events: string[];
      errors: string[];
    };
    expect(t.node).toBe('load1');
    expect(t.self[0]).toMatch(/^load1: active since /);
    expect(t.self[1]).toMatch(/^(all|local) \(stable\) since /);
    expect(t.self[2]).toBe(`${VIP}/32/eth0`);
    expect(t.peers.map((p) => [p[0], p[1], p[3]])).toEqual([['load2', 'active', 'bcast eth1: up']]);
    for (const real of ['192.0.2.21:80', '192.0.2.22:80']) {
      expect(t.reals[real]?.slice(0, 4)).toEqual([
        real,
        'up',
        expect.stringMatching(/^ok \(/),
        '5 (configured 5)',
      ]);
    }
    // writes are on with a token on this listener: the buttons and the token field
    expect(t.buttons).toEqual([`Drain 192.0.2.21:80 of ${SERVICE}`, `Drain 192.0.2.22:80 of ${SERVICE}`]);
    expect(t.tokenField).toBe(true);
    expect(t.events.some((l) => /vip 192\.0\.2\.50\/32\/eth0 up on eth0/.test(l))).toBe(true);
    expect(t.errors).toEqual([]);
  });

  it("rs1's Apache stopped: the page shows rs1 down within a check interval of the kernel's table losing it", async () => {
    const r = (await ask({
      op: 'stopAndWatch',
      kill: ['kill', '-TERM', String(apache.rs1?.pid)],
      real: '192.0.2.21:80',
      timeoutMs: 60_000,
    })) as {
      killMs: number;
      pageMs: number;
      tableOnPageMs: number;
      kernelMs: number;
      table: string;
      cells: string[];
    };
    process.stderr.write(
      `[page, guest] rs1's Apache stopped: gone from ipvsadm -Ln after ${r.kernelMs} ms, down on the page after ${r.pageMs} ms, out of the table on the page after ${r.tableOnPageMs} ms (kill took ${r.killMs} ms)\n`,
    );
    expect(r.table).not.toContain('192.0.2.21:80');
    expect(r.table).toMatch(/-> 192\.0\.2\.22:80 +Route +5 /);
    expect(r.cells.slice(0, 4)).toEqual([
      '192.0.2.21:80',
      'down',
      expect.stringMatching(/^refused: /),
      'not in the table (configured 5)',
    ]);
    // The page follows the kernel's table within a check interval: the node's line comes as a
    // server-sent event and the page asks GET /status at once (its poll alone is every second).
    // The margin is the emulation's: ipvsadm and the page are read by polling, each a process
    // or a round trip of a few hundred ms under TCG.
    expect(r.pageMs - r.kernelMs).toBeLessThan(CHECK_INTERVAL_MS + 1000);
    // and all of it (a check every second, the Director's change of the table, the page), under TCG
    expect(r.pageMs).toBeLessThan(10 * CHECK_INTERVAL_MS);
  });

  it("a click on rs2's Drain (with the token) sets its weight to 0 in the kernel's IPVS table", async () => {
    expect(await lab.host('load1').ipvsadm(['-Ln'])).toMatch(/-> 192\.0\.2\.22:80 +Route +5 /);
    const r = (await ask({
      op: 'drain',
      real: '192.0.2.22:80',
      service: SERVICE,
      token: TOKEN,
      virtual: `tcp:${VIP}:80`,
      captionHas: 'fallback',
      timeoutMs: 60_000,
    })) as {
      answeredMs: number;
      pageMs: number;
      kernelMs: number;
      caption: string;
      result: string;
      cells: string[];
    };
    process.stderr.write(
      `[page, guest] Drain clicked: POST /drain answered after ${r.answeredMs} ms, weight 0 in ipvsadm -Ln after ${r.kernelMs} ms, on the page after ${r.pageMs} ms\n`,
    );
    expect(r.result).toBe('drain 192.0.2.22:80: done');
    expect(r.cells[3]).toBe('0 (configured 5, override 0)');
    expect(r.caption).toBe(`${SERVICE} (wrr), fallback 127.0.0.1:80 in`);
    // read again from here, in load1's namespace of the guest: the kernel has weight 0 for rs2
    const ln = await lab.host('load1').ipvsadm(['-Ln']);
    expect(ln).toMatch(/-> 192\.0\.2\.22:80 +Route +0 /);
    // rs1 down and rs2 drained: no real server takes new connections, so the fallback is in (as ldirectord's)
    expect(await lab.host('load1').ipvsadm(['-Sn'])).toBe(
      `-A -t ${VIP}:80 -s wrr\n-a -t ${VIP}:80 -r 127.0.0.1:80 -g -w 1\n-a -t ${VIP}:80 -r 192.0.2.22:80 -g -w 0\n`,
    );
    expect(await nodes.load1?.output()).toMatch(/edit real 192\.0\.2\.22:80 .*weight 0/);
  });
});
