// Runs inside the lab guest: time to apply 10,000 real servers across 100
// services with the binding (pipelined) and with `ipvsadm -R` of the same
// table, alternating, in the same run. Prints JSON.
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { type DesiredService, Ipvs, type Operation, planReconcile } from '../../src/index.js';

const rounds = Number(process.argv[2] ?? 3);
const table: DesiredService[] = Array.from({ length: 100 }, (_, s) => ({
  protocol: 'tcp' as const,
  address: `192.0.2.${s + 1}`,
  port: 80,
  scheduler: 'wrr',
  destinations: Array.from({ length: 100 }, (_, d) => ({
    address: `10.${s}.${d >> 4}.${(d & 15) + 1}`,
    port: 80,
    weight: (d % 5) + 1,
  })),
}));
const rules = table
  .map(
    (s) =>
      `-A -t ${s.address}:80 -s wrr\n${s.destinations.map((d) => `-a -t ${s.address}:80 -r ${d.address}:80 -g -w ${d.weight}\n`).join('')}`,
  )
  .join('');
const ipvsadm = (...args: string[]) =>
  execFileSync('ipvsadm', args, { encoding: 'utf8', maxBuffer: 1 << 26 });
const lines = () => ipvsadm('-Sn').trim().split('\n').length;

const ipvs = await Ipvs.open();
const ours: number[] = [];
const theirs: number[] = [];
const oursReconcile: number[] = [];
let datagrams = 0;
for (let r = 0; r < rounds; r++) {
  ipvsadm('-C');
  const ops: Operation[] = planReconcile([], table);
  const d0 = ipvs.counters.datagrams;
  let t = performance.now();
  const results = await ipvs.apply(ops);
  ours.push(performance.now() - t);
  datagrams = ipvs.counters.datagrams - d0;
  if (results.some((x) => x.error) || lines() !== 10_100) throw new Error('binding: table incomplete');

  ipvsadm('-C');
  t = performance.now();
  execFileSync('ipvsadm', ['-R'], { input: rules });
  theirs.push(performance.now() - t);
  if (lines() !== 10_100) throw new Error('ipvsadm -R: table incomplete');

  ipvsadm('-C');
  t = performance.now();
  await ipvs.reconcile(table);
  oursReconcile.push(performance.now() - t);
}
// Reading the whole table back, planning nothing, and one weight change.
let t = performance.now();
const current = await ipvs.getTable();
const readMs = performance.now() - t;
t = performance.now();
const noop = planReconcile(current, table);
const planMs = performance.now() - t;
const changed = structuredClone(table);
(changed[42]?.destinations[17] as { weight: number }).weight = 99;
const m0 = ipvs.counters.messages;
const one = await ipvs.reconcile(changed, { current });
const oneWeightMessages = ipvs.counters.messages - m0;
ipvsadm('-C');
ipvs.close();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
process.stdout.write(
  JSON.stringify({
    rounds,
    bindingApplyMs: ours,
    bindingReconcileFromEmptyMs: oursReconcile,
    ipvsadmRestoreMs: theirs,
    datagramsPerApply: datagrams,
    medianRatio: median(theirs) / median(ours),
    readTableMs: readMs,
    planUnchangedMs: planMs,
    planUnchangedOperations: noop.length,
    oneWeightChangeOperations: one.operations.length,
    oneWeightChangeMessages: oneWeightMessages,
  }),
);
