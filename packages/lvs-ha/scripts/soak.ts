// The soak of issue 12 (`pnpm soak [--minutes 10] [--seed N] [--kind A|B]`
// at the root, as root; not part of CI): one pair of directors in network
// namespaces on this machine (kind A: lvs-ha + lvs-ha; kind B: lvs-ha +
// Debian's Heartbeat 3.0.6) under a continuous, bounded client load (about
// 20 requests a second to the VIPs, inside the namespaces), while the faults
// of the fault suite are injected one after the other in a random order
// drawn from the seed, for the given minutes. Per fault it prints the
// split-brain moments (must be 0), the client's failed requests and the
// outage; at the end a table per fault. Exit status: 0 no split-brain
// moment, 1 at least one (or, with --strict, any fault that did not meet
// its expectations), 2 bad usage or a machine that cannot run it.
//
// The faults, the pair and the reading of the invariant are the fault
// suite's own (test/support/faults): one implementation.
import { parseArgs } from 'node:util';
import { cleanupStaleNetns, missingFor } from '@lvs-ha/lab';
import type { Kind } from '../test/support/faults/config.js';
import { Pair } from '../test/support/faults/pair.js';
import {
  describeOutcome,
  FAULTS,
  type FaultDef,
  type FaultOutcome,
  lossFault,
  runFault,
  simultaneousStart,
} from '../test/support/faults/scenarios.js';

const USAGE = `usage: pnpm soak [--minutes N] [--seed N] [--kind A|B] [--strict]

  --minutes N   how long faults are injected (default 10)
  --seed N      the random order's seed (default: from the clock, printed)
  --kind A|B    A: lvs-ha + lvs-ha (default); B: lvs-ha + the real Heartbeat 3.0.6
  --strict      exit 1 also when a fault did not meet its expectations
`;

/** mulberry32: a small seeded generator, so a run can be repeated with its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

async function main(): Promise<number> {
  let values: { minutes?: string; seed?: string; kind?: string; strict?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2).filter((a) => a !== '--'),
      options: {
        minutes: { type: 'string' },
        seed: { type: 'string' },
        kind: { type: 'string' },
        strict: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`soak: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const minutes = Number(values.minutes ?? 10);
  const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
  const kind = (values.kind ?? 'A').toUpperCase() as Kind;
  if (!(minutes > 0) || !Number.isInteger(seed) || (kind !== 'A' && kind !== 'B')) {
    process.stderr.write(`soak: bad --minutes, --seed or --kind\n${USAGE}`);
    return 2;
  }
  const missing = missingFor(['root', 'netns']);
  if (missing.length > 0) {
    process.stderr.write(`soak: this machine cannot run it: ${missing.join('; ')}\n`);
    return 2;
  }
  cleanupStaleNetns();

  // every fault of the suite for this kind; the minute of loss shortened and the ten starts one at a time
  const pool: FaultDef[] = [
    ...FAULTS.filter((f) => f.kinds.includes(kind)),
    lossFault(20),
    simultaneousStart(1),
  ];
  const next = random(seed);
  const say = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  say(
    `soak: kind ${kind}, ${minutes} min, seed ${seed} (pnpm soak --minutes ${minutes} --seed ${seed} --kind ${kind} repeats the order)`,
  );
  const pair = await Pair.create({ kind, label: `soak${kind.toLowerCase()}`, clientEveryMs: 150, log: say });
  let stopping = false;
  const onSignal = () => {
    stopping = true;
    say('soak: interrupted, finishing the fault in flight');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const outcomes: FaultOutcome[] = [];
  try {
    await pair.reset();
    const until = Date.now() + minutes * 60_000;
    while (Date.now() < until && !stopping) {
      const f = pool[Math.floor(next() * pool.length)] as FaultDef;
      say(`fault ${f.n} ${f.id}: ${f.title}`);
      const o = await runFault(pair, f);
      outcomes.push(o);
      say(`  ${describeOutcome(o)}`);
    }
  } finally {
    await pair.destroy().catch(() => undefined);
  }

  // per fault: runs, failures, split-brain moments, failed requests, outage
  const rows = new Map<
    string,
    { runs: number; failed: number; split: number; bad: number; req: number; outage: number }
  >();
  for (const o of outcomes) {
    const r = rows.get(o.report.fault) ?? { runs: 0, failed: 0, split: 0, bad: 0, req: 0, outage: 0 };
    r.runs++;
    if (o.error) r.failed++;
    r.split += o.report.splitBrainMoments;
    r.bad += o.report.failedRequests;
    r.req += o.report.requests;
    r.outage += o.report.outageMs;
    rows.set(o.report.fault, r);
  }
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  say('');
  say(
    `${'fault'.padEnd(22)} ${pad('runs', 4)} ${pad('failed', 6)} ${pad('split-brain', 11)} ${pad('requests failed', 15)} ${pad('outage ms', 10)}`,
  );
  for (const [id, r] of [...rows].sort()) {
    say(
      `${id.padEnd(22)} ${pad(r.runs, 4)} ${pad(r.failed, 6)} ${pad(r.split, 11)} ${pad(`${r.bad}/${r.req}`, 15)} ${pad(r.outage, 10)}`,
    );
  }
  const split = outcomes.reduce((s, o) => s + o.report.splitBrainMoments, 0);
  const failed = outcomes.filter((o) => o.error).length;
  say(
    `soak: ${outcomes.length} faults, ${split} split-brain moment(s), ${failed} fault(s) short of their expectations, seed ${seed}`,
  );
  if (split > 0) return 1;
  return values.strict && failed > 0 ? 1 : 0;
}

process.exitCode = await main();
