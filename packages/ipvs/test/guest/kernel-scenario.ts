// Runs inside the lab guest (real IPVS kernel, real ipvsadm) in one go and
// prints one JSON document the host test asserts on: every guest round-trip
// costs seconds under TCG, so the whole scenario is a single process.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import {
  formatList,
  Ipvs,
  IpvsError,
  NetlinkChannel,
  openSocketTransport,
  parseSave,
  planReconcile,
} from '../../src/index.js';
import { GOLDEN_DEL_DEST, GOLDEN_NEW_SERVICE, withFamily } from '../helpers/golden.js';
import { IPVSADM_RULES, OURS } from '../helpers/tables.js';

const ipvsadm = (...args: string[]) => execFileSync('ipvsadm', args, { encoding: 'utf8' });
const restore = (rules: string) => execFileSync('ipvsadm', ['-R'], { input: rules, encoding: 'utf8' });
const caught = async (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) =>
      e instanceof IpvsError
        ? { name: e.name, code: e.code, message: e.message, errno: (e as { errno?: number }).errno }
        : { message: String(e) },
  );
const lists = () => ({
  save: ipvsadm('-Sn'),
  list: ipvsadm('-Ln'),
  stats: ipvsadm('-Ln', '--stats', '--exact'),
  rate: ipvsadm('-Ln', '--rate'),
  thresholds: ipvsadm('-Ln', '--thresholds'),
  tunInfo: ipvsadm('-Ln', '--tun-info'),
  persistentConn: ipvsadm('-Ln', '--persistent-conn'),
});

const out: Record<string, unknown> = {};
const ipvs = await Ipvs.open();
out.familyId = ipvs.familyId;

// 1. The hand-derived golden messages, sent as they are, do what they say.
ipvsadm('-C');
const raw = new NetlinkChannel(openSocketTransport());
await raw.request(withFamily(GOLDEN_NEW_SERVICE, ipvs.familyId));
restore('-A -f 8 -6 -s rr\n-a -f 8 -6 -r [2001:db8::21]:443 -m\n-a -f 8 -6 -r [2001:db8::22]:443 -m\n');
await raw.request(withFamily(GOLDEN_DEL_DEST, ipvs.familyId));
raw.close();
out.golden = ipvsadm('-Sn');
out.info = await ipvs.info();
out.header = ipvsadm('-Ln').split('\n')[0];

// 2. What we create, ipvsadm shows.
ipvsadm('-C');
const created = await ipvs.reconcile(OURS);
out.ours = {
  operations: created.operations.length,
  errors: created.errors.map((e) => e.message),
  ...lists(),
  table: await ipvs.getTable(),
};

// 3. What ipvsadm creates, we read back.
ipvsadm('-C');
restore(IPVSADM_RULES);
const theirs = await ipvs.getTable();
out.theirs = {
  ...lists(),
  table: theirs,
  unreadDifferences: planReconcile(theirs, parseSave(IPVSADM_RULES)),
};

// 4. Every other operation, and the kernel's refusals as typed errors.
ipvsadm('-C');
const web = { protocol: 'tcp', address: '192.0.2.50', port: 80 } as const;
await ipvs.addService({ ...web, scheduler: 'wrr' });
await ipvs.addDestination(web, { address: '192.0.2.21', port: 80, weight: 5 });
await ipvs.addDestination(web, { address: '192.0.2.22', port: 80, weight: 5 });
await ipvs.editService({ ...web, scheduler: 'sh', persistent: 20, schedulerFlags: ['sh-port'] });
await ipvs.editDestination(web, {
  address: '192.0.2.22',
  port: 80,
  weight: 2,
  forward: 'masq',
  upperThreshold: 9,
});
await ipvs.deleteDestination(web, { address: '192.0.2.21', port: 80 });
out.edited = {
  save: ipvsadm('-Sn'),
  thresholds: ipvsadm('-Ln', '--thresholds'),
  service: await ipvs.getService(web),
};
out.errors = {
  duplicateService: await caught(ipvs.addService(web)),
  unknownScheduler: await caught(ipvs.addService({ ...web, port: 81, scheduler: 'foo' })),
  unknownPersistenceEngine: await caught(
    ipvs.addService({ ...web, port: 85, scheduler: 'rr', persistent: 30, pe: 'sip' }),
  ),
  missingService: await caught(ipvs.getService({ ...web, port: 82 })),
  editMissingService: await caught(ipvs.editService({ fwmark: 99 })),
  deleteMissingService: await caught(
    ipvs.deleteService({ protocol: 'udp', address: '2001:db8::9', port: 1 }),
  ),
  duplicateDestination: await caught(ipvs.addDestination(web, { address: '192.0.2.22', port: 80 })),
  missingDestination: await caught(ipvs.deleteDestination(web, { address: '192.0.2.99', port: 80 })),
  destinationOfMissingService: await caught(
    ipvs.addDestination({ ...web, port: 83 }, { address: '192.0.2.22', port: 80 }),
  ),
  mixedFamilyWithoutTunnel: await caught(
    ipvs.addDestination(web, { address: '2001:db8::1', port: 80, forward: 'gate' }),
  ),
  badAddress: await caught(ipvs.addService({ ...web, address: 'not-an-address' })),
  stopDaemonNotRunning: await caught(ipvs.stopDaemon('backup')),
};
out.missingServiceDestinations = await ipvs.listDestinations({ ...web, port: 84 });
out.tableAfterErrors = ipvsadm('-Sn');

const before = await ipvs.getTimeouts();
await ipvs.setTimeouts({ tcp: 901, tcpFin: 121, udp: 301 });
out.timeouts = { before, after: await ipvs.getTimeouts(), ipvsadm: ipvsadm('-L', '--timeout') };
await ipvs.setTimeouts(before);

// Counters that move: a UDP service on addresses of lo, one datagram from
// this process (IPVS schedules locally sent packets too), then zero.
execFileSync('sh', ['-c', 'ip addr add 192.0.2.150/32 dev lo; ip addr add 192.0.2.151/32 dev lo']);
const dns = { protocol: 'udp', address: '192.0.2.150', port: 53 } as const;
await ipvs.addService({ ...dns, scheduler: 'rr' });
await ipvs.addDestination(dns, { address: '192.0.2.151', port: 53, forward: 'masq' });
const sock = createSocket('udp4');
await new Promise<void>((resolve, reject) =>
  sock.send(Buffer.from('lvs-ha'), 53, '192.0.2.150', (err) => (err ? reject(err) : resolve())),
);
sock.close();
// The kernel folds its per-CPU counters into what it reports every 2 s (the estimator).
let counted = await ipvs.getService(dns);
for (let i = 0; i < 40 && !counted.stats?.conns; i++) {
  await new Promise((r) => setTimeout(r, 250));
  counted = await ipvs.getService(dns);
}
const countedDest = (await ipvs.listDestinations(dns))[0];
const statsText = ipvsadm('-Ln', '--stats', '--exact', '-u', '192.0.2.150:53');
await ipvs.zero(dns);
const zeroedOne = (await ipvs.getService(dns)).stats64;
await ipvs.zero();
out.zero = { counted, countedDest, statsText, zeroedOne, zeroedAll: (await ipvs.getService(web)).stats64 };
await ipvs.deleteService(dns);

await ipvs.startDaemon({
  state: 'master',
  interface: 'lo',
  syncId: 9,
  maxLength: 1400,
  group: '224.0.0.82',
  port: 8850,
  ttl: 2,
});
await ipvs.startDaemon({ state: 'backup', interface: 'lo', syncId: 10 });
out.daemons = {
  ours: await ipvs.listDaemons(),
  ipvsadm: ipvsadm('-L', '--daemon'),
  again: await caught(ipvs.startDaemon({ state: 'master', interface: 'lo' })),
};
await ipvs.stopDaemon('master');
await ipvs.stopDaemon('backup');
out.daemonsAfter = { ours: await ipvs.listDaemons(), ipvsadm: ipvsadm('-L', '--daemon') };
restore('-A -t 192.0.2.70:80 -s rr\n');
out.beforeFlush = ipvsadm('-Sn');
await ipvs.flush();
out.afterFlush = ipvsadm('-Sn');

// 5. The reconciler in the kernel: one weight change is one message.
const desired = (w: number) =>
  [1, 2, 3].map((n) => ({
    protocol: 'tcp' as const,
    address: `192.0.2.${80 + n}`,
    port: 80,
    scheduler: 'wrr',
    destinations: [1, 2, 3, 4].map((m) => ({
      address: `198.51.100.${m}`,
      port: 80,
      weight: n === 2 && m === 3 ? w : 1,
    })),
  }));
await ipvs.reconcile(desired(1));
const current = await ipvs.getTable();
let c0 = ipvs.counters.messages;
const change = await ipvs.reconcile(desired(7), { current });
const withCurrent = ipvs.counters.messages - c0;
c0 = ipvs.counters.messages;
const again = await ipvs.reconcile(desired(7));
const withRead = ipvs.counters.messages - c0;
out.reconcile = {
  operations: change.operations,
  messagesWithCurrent: withCurrent,
  messagesWithRead: withRead,
  secondOperations: again.operations.length,
  save: ipvsadm('-Sn'),
};

// 6. A pipelined batch in the kernel: 1,000 real servers, one refused in the middle.
ipvsadm('-C');
const svc = { protocol: 'udp', address: '192.0.2.90', port: 53 } as const;
const d0 = ipvs.counters;
const results = await ipvs.apply([
  { op: 'add-service', service: { ...svc, scheduler: 'rr' } },
  ...Array.from({ length: 1000 }, (_, i) => ({
    op: 'add-destination' as const,
    service: svc,
    destination: { address: `10.${(i >> 8) & 255}.${i & 255}.1`, port: 53 },
  })).flatMap((op, i) => (i === 500 ? [op, { ...op }] : [op])),
]);
const d1 = ipvs.counters;
out.batch = {
  results: results.length,
  refused: results.flatMap((r, i) => (r.error ? [{ i, code: r.error.code, message: r.error.message }] : [])),
  datagrams: d1.datagrams - d0.datagrams,
  messages: d1.messages - d0.messages,
  lines: ipvsadm('-Sn').trim().split('\n').length,
};
ipvsadm('-C');
ipvs.close();
out.formatListCheck = formatList(
  [],
  await (async () => ({ version: '1.2.1', versionCode: 0, connTableSize: 4096 }))(),
);
process.stdout.write(JSON.stringify(out));
