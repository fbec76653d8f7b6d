// The binding in the lab's qemu guest (real kernel IPVS, real ipvsadm), one
// boot for the file: first one scenario process in the guest's own network
// namespace (test/guest/kernel-scenario.ts) whose JSON the first suite
// checks; then the seed's topology in namespaces inside the same guest, where
// the DR service made with the binding (examples/ipvs-dr-service.ts on load1)
// carries the client's requests to both real servers, and the other
// examples run. IPVS tables are per namespace, so the two do not meet.
import { fileURLToPath } from 'node:url';
import { Lab, seedTopology, tsxLoader } from '@lvs-ha/lab';
import { describeWithLab, guestPerFile } from '@lvs-ha/lab/vitest';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { formatList, formatSave, parseSave, type TableService } from '../src/index.js';
import { tableOf } from './helpers/table.js';
import { IPVSADM_RULES, OURS } from './helpers/tables.js';

// Each step in the guest is a Node (+ tsx) start under TCG: seconds each on a busy machine.
vi.setConfig({ testTimeout: 180_000 });

const sharedGuest = guestPerFile();

interface Lists {
  save: string;
  list: string;
  stats: string;
  rate: string;
  thresholds: string;
  tunInfo: string;
  persistentConn: string;
  table: TableService[];
}
// biome-ignore lint/suspicious/noExplicitAny: the scenario's JSON, checked field by field below
type Out = Record<string, any> & {
  ours: Lists & { operations: number; errors: string[] };
  theirs: Lists & { unreadDifferences: unknown[] };
};

describeWithLab(['guest'], 'IPVS binding in the real kernel (qemu guest) against ipvsadm', () => {
  let out: Out;
  beforeAll(async () => {
    const guest = await sharedGuest();
    const script = fileURLToPath(new URL('guest/kernel-scenario.ts', import.meta.url));
    const r = await guest.exec(['node', '--import', tsxLoader(), script], { timeoutMs: 240_000 });
    if (r.code !== 0) throw new Error(`scenario failed (${r.code}): ${r.stderr}`);
    out = JSON.parse(r.stdout) as Out;
  }, 400_000);
  const info = () => out.info as { version: string; versionCode: number; connTableSize: number };

  it('the hand-derived golden messages do in the kernel what they say', () => {
    expect(out.golden).toBe(
      '-A -t 192.0.2.50:80 -s wrr\n-A -f 8 -6 -s rr\n-a -f 8 -6 -r [2001:db8::22]:443 -m -w 1\n',
    );
    expect(out.familyId).toBeGreaterThanOrEqual(0x10);
    expect(out.header).toBe(`IP Virtual Server version ${info().version} (size=${info().connTableSize})`);
  });

  it('what we create (every scheduler, protocol, family, flag, method), ipvsadm -S and -L show exactly', () => {
    expect(out.ours.errors).toEqual([]);
    expect(out.ours.operations).toBe(OURS.length + OURS.reduce((n, s) => n + s.destinations.length, 0));
    expect(out.ours.save).toBe(formatSave(tableOf(OURS)));
    const lc = out.ours.table.find((s) => s.scheduler === 'lc' && s.address !== undefined);
    expect(lc?.destinations.find((d) => d.address === '198.51.100.23')).toMatchObject({ forward: 'local' });
    expect(out.ours.list).toMatch(/\n {2}-> 198\.51\.100\.23:80 +Local +1 /);
    const v6 = out.ours.table.find((s) => s.address === '2001:db8::50');
    expect(v6?.destinations.find((d) => d.address === '198.51.100.60')).toMatchObject({
      family: 'inet',
      forward: 'ipip',
      tunnelType: 'ipip',
    });
    // Thresholds are not in -S: ipvsadm's --thresholds listing shows them.
    expect(out.ours.thresholds).toMatch(/\n {2}-> 198\.51\.100\.33:53 +100 +10 +0 +0 +\n/);
    expect(out.ours.thresholds).toMatch(/\n {2}-> \[2001:db8::21\]:443 +50 +5 +0 +0 +\n/);
  });

  it('what ipvsadm creates, we read back exactly (table equals the rules, thresholds included)', () => {
    expect(out.theirs.unreadDifferences).toEqual([]);
    expect(formatSave(tableOf(parseSave(IPVSADM_RULES)))).toBe(out.theirs.save);
  });

  it('our -S and -L text equals ipvsadm for both tables (list, stats, rate, thresholds, tun-info, persistent-conn)', () => {
    for (const t of [out.ours, out.theirs]) {
      expect(formatSave(t.table)).toBe(t.save);
      expect(formatList(t.table, info())).toBe(t.list);
      expect(formatList(t.table, info(), { format: 'stats', exact: true })).toBe(t.stats);
      expect(formatList(t.table, info(), { format: 'rate' })).toBe(t.rate);
      expect(formatList(t.table, info(), { format: 'thresholds' })).toBe(t.thresholds);
      expect(formatList(t.table, info(), { format: 'tun-info' })).toBe(t.tunInfo);
      expect(formatList(t.table, info(), { format: 'persistent-conn' })).toBe(t.persistentConn);
    }
  });

  it('edits services and real servers in place', () => {
    expect(out.edited.save).toBe(
      '-A -t 192.0.2.50:80 -s sh -p 20 -b sh-port\n-a -t 192.0.2.50:80 -r 192.0.2.22:80 -m -w 2\n',
    );
    expect(out.edited.thresholds).toMatch(/\n {2}-> 192\.0\.2\.22:80 +9 +0 +0 +0 +\n/);
    expect(out.edited.service).toMatchObject({
      scheduler: 'sh',
      persistent: 20,
      schedulerFlags: ['sh-port'],
      hashed: true,
    });
  });

  it('refusals come back typed, with the errno and a sentence, and change nothing', () => {
    const e = out.errors;
    expect(e.duplicateService).toEqual({
      name: 'IpvsKernelError',
      code: 'SERVICE_EXISTS',
      errno: 17,
      message: 'service 192.0.2.50:80/tcp already exists (EEXIST)',
    });
    expect(e.unknownScheduler).toMatchObject({
      code: 'SCHEDULER_NOT_FOUND',
      errno: 2,
      message: 'scheduler `foo` is not loaded (no module ip_vs_foo) (ENOENT)',
    });
    // The guest's kernel has no ip_vs_pe_sip module.
    expect(e.unknownPersistenceEngine).toMatchObject({
      code: 'SCHEDULER_NOT_FOUND',
      errno: 2,
      message:
        'scheduler `rr` or persistence engine `sip` is not loaded (no module ip_vs_rr / ip_vs_pe_sip) (ENOENT)',
    });
    expect(e.missingService).toMatchObject({
      code: 'NO_SUCH_SERVICE',
      errno: 3,
      message: 'service 192.0.2.50:82/tcp does not exist (ESRCH)',
    });
    expect(e.editMissingService).toMatchObject({
      code: 'NO_SUCH_SERVICE',
      errno: 3,
      message: 'service fwmark 99 does not exist (ESRCH)',
    });
    expect(e.deleteMissingService).toMatchObject({
      code: 'NO_SUCH_SERVICE',
      message: 'service [2001:db8::9]:1/udp does not exist (ESRCH)',
    });
    expect(e.duplicateDestination).toMatchObject({ code: 'DESTINATION_EXISTS', errno: 17 });
    expect(e.missingDestination).toMatchObject({
      code: 'NO_SUCH_DESTINATION',
      errno: 2,
      message: 'real server 192.0.2.99:80 is not in service 192.0.2.50:80/tcp (ENOENT)',
    });
    expect(e.destinationOfMissingService).toMatchObject({ code: 'NO_SUCH_SERVICE', errno: 3 });
    expect(e.mixedFamilyWithoutTunnel).toMatchObject({ code: 'KERNEL', errno: 22 });
    expect(e.badAddress).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(e.stopDaemonNotRunning).toMatchObject({
      code: 'KERNEL',
      errno: 3,
      message: 'cannot stop the backup sync daemon: it is not running (ESRCH)',
    });
    expect(out.tableAfterErrors).toBe(out.edited.save);
    expect(out.missingServiceDestinations).toEqual([]);
  });

  it('timeouts, info, zero, flush', () => {
    expect(out.timeouts.after).toEqual({ tcp: 901, tcpFin: 121, udp: 301 });
    expect(out.timeouts.ipvsadm).toBe('Timeout (tcp tcpfin udp): 901 121 301\n');
    expect(out.info).toMatchObject({ version: '1.2.1', versionCode: 0x010201 });
    // One datagram was scheduled: the 32- and 64-bit counters say so, as ipvsadm does.
    expect(out.zero.counted.stats).toMatchObject({ conns: 1, inPackets: 1 });
    expect(out.zero.counted.stats.inBytes).toBeGreaterThanOrEqual(34); // IP + UDP headers + 6 bytes
    expect(out.zero.counted.stats64).toMatchObject({
      conns: 1,
      inPackets: 1,
      inBytes: out.zero.counted.stats.inBytes,
    });
    expect(out.zero.countedDest).toMatchObject({ stats64: { conns: 1, inPackets: 1 } });
    const c = out.zero.counted.stats;
    expect(out.zero.statsText).toMatch(
      new RegExp(`\\nUDP {2}192\\.0\\.2\\.150:53 +1 +1 +${c.outPackets} +${c.inBytes} +${c.outBytes}\\n`),
    );
    expect(out.zero.zeroedOne).toMatchObject({ conns: 0, inPackets: 0, inBytes: 0 });
    expect(out.zero.zeroedAll).toMatchObject({ conns: 0, inPackets: 0, inBytes: 0 });
    expect(out.beforeFlush).toContain('-A -t 192.0.2.70:80 -s rr\n');
    expect(out.afterFlush).toBe('');
  });

  it('starts, lists and stops sync daemons as ipvsadm sees them', () => {
    expect(out.daemons.ours).toEqual([
      {
        state: 'master',
        interface: 'lo',
        syncId: 9,
        maxLength: 1400,
        group: '224.0.0.82',
        port: 8850,
        ttl: 2,
      },
      {
        state: 'backup',
        interface: 'lo',
        syncId: 10,
        maxLength: 65507,
        group: '224.0.0.81',
        port: 8848,
        ttl: 1,
      },
    ]);
    expect(out.daemons.ipvsadm).toBe(
      'master sync daemon (mcast=lo, syncid=9, maxlen=1400, group=224.0.0.82, port=8850, ttl=2)\nbackup sync daemon (mcast=lo, syncid=10, maxlen=65507, group=224.0.0.81, port=8848, ttl=1)\n',
    );
    expect(out.daemons.again).toMatchObject({ code: 'DAEMON_RUNNING', errno: 17 });
    expect(out.daemonsAfter).toEqual({ ours: [], ipvsadm: '' });
  });

  it('reconcile: a one-weight change is one netlink message; a second run changes nothing', () => {
    expect(out.reconcile.operations).toEqual([
      {
        op: 'edit-destination',
        service: { protocol: 'tcp', address: '192.0.2.82', port: 80 },
        destination: { address: '198.51.100.3', port: 80, weight: 7 },
      },
    ]);
    expect(out.reconcile.messagesWithCurrent).toBe(1);
    // Reading the table first costs one dump of services and one per service (3 here).
    expect(out.reconcile.messagesWithRead).toBe(4);
    expect(out.reconcile.secondOperations).toBe(0);
    expect(out.reconcile.save).toContain('-a -t 192.0.2.82:80 -r 198.51.100.3:80 -g -w 7\n');
  });

  it('pipelines 1,000 real servers in a couple of writes and reports the one refusal in the middle', () => {
    expect(out.batch).toMatchObject({ results: 1002, messages: 1002, lines: 1001 });
    expect(out.batch.datagrams).toBeLessThanOrEqual(2);
    expect(out.batch.refused).toEqual([
      {
        i: 502,
        code: 'DESTINATION_EXISTS',
        message: 'real server 10.1.244.1:53 already exists in service 192.0.2.90:53/udp (EEXIST)',
      },
    ]);
  });
});

const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));
// tsx maps @lvs-ha/ipvs to this package's sources (no build needed).
const env = { TSX_TSCONFIG_PATH: fileURLToPath(new URL('examples.tsconfig.json', import.meta.url)) };

describeWithLab(['guest'], 'a DR service made with the binding, in the seed topology (same guest)', () => {
  let lab: Lab;
  const example = async (name: string, args: string[] = [], input?: string) => {
    const run = () =>
      lab.host('load1').exec(['node', '--import', tsxLoader(), `${examples}${name}`, ...args], {
        env,
        input,
        timeoutMs: 120_000,
      });
    const r = await run();
    // Under TCG, node with tsx on these sources died of SIGSEGV before any
    // output about once in 12-40 runs (2026-12-04; cause not found: tsx
    // alone, the netlink addon alone and plain node never did in 45 runs).
    // Such a run did nothing, so it is run once more, and said; a crash
    // after output, or twice, still fails.
    if (r.code === 128 + 11 && r.stdout === '' && r.stderr === '') {
      process.stderr.write(
        `[ipvs lab] ${name} died of SIGSEGV before any output under emulation: run again\n`,
      );
      return run();
    }
    return r;
  };
  beforeAll(async () => {
    lab = await Lab.start(seedTopology, { runner: await sharedGuest() });
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
    // Wait until the kernel has folded the 20 connections into its counters (every 2 s).
    for (let i = 0; i < 20; i++) {
      if (/TCP {2}192\.0\.2\.50:80 +20 /.test(await lab.host('load1').ipvsadm(['-Ln', '--stats', '--exact'])))
        break;
      await new Promise((r) => setTimeout(r, 300));
    }
    // The counters the kernel reports move at each fold (a last FIN may come in the next one):
    // compare only a read of ours that sits between two equal reads of ipvsadm's.
    let ours = '';
    let theirs = '';
    for (let i = 0; i < 6; i++) {
      const before = await lab.host('load1').ipvsadm(['-Ln', '--stats', '--exact']);
      ours = (await example('ipvs-list.ts', ['--stats', '--exact'])).stdout;
      theirs = await lab.host('load1').ipvsadm(['-Ln', '--stats', '--exact']);
      if (before === theirs) break;
    }
    expect(ours).toBe(theirs);
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
    // (The kernel folds its per-CPU counters into what it reports every 2 s.)
    let stats = '';
    for (let i = 0; i < 20; i++) {
      stats = await lab.host('load1').ipvsadm(['-Ln', '--stats', '--exact']);
      if (/\n {2}-> 192\.0\.2\.21:80 +16 /.test(stats)) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(stats).toMatch(/\n {2}-> 192\.0\.2\.21:80 +16 /);
    expect(stats).toMatch(/\n {2}-> 192\.0\.2\.22:80 +10 /);
  });
});
