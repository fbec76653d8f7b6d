#!/usr/bin/env node
// The test suites in two lanes side by side, each package after the other
// within a lane: the files that boot the qemu guest (TCG keeps one core
// busy for minutes) and the rest (namespaces, real daemons: mostly waiting on
// timers). vitest.shared.ts picks a lane's files from LVS_HA_TEST_LANE. The
// guest lane runs niced, so the host lane's timing (deadtimes, check
// intervals) gets the CPU first; the guest's own tests allow for TCG anyway.
// The guest files of LATE_GUEST run in the host lane once its own files are
// done (the guest lane alone would end ten minutes after the host lane:
// this way the two end together).
// Builds must be done first (the lanes run turbo with --only: two turbo runs
// must not rebuild the same dist directories at once).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** The packages whose guest files run at the end of the host lane. */
const LATE_GUEST = ['@lvs-ha/ipvs', '@lvs-ha/bird'];
const NICE = ['nice', '-n', '5'];

/** Each lane: its steps, one after the other (the files of a LVS_HA_TEST_LANE, of some packages). */
const lanes = [
  {
    name: 'guest',
    steps: [{ files: 'guest', nice: NICE, filters: LATE_GUEST.map((p) => `--filter=!${p}`) }],
  },
  {
    name: 'host',
    steps: [
      { files: 'host', nice: [], filters: [] },
      { files: 'guest', nice: NICE, filters: LATE_GUEST.map((p) => `--filter=${p}`) },
    ],
  },
];

function step(lane, s) {
  const argv = [
    ...s.nice,
    'pnpm',
    'exec',
    'turbo',
    'run',
    'test',
    '--only',
    '--concurrency=1',
    '--continue',
    ...s.filters,
  ];
  const child = spawn(argv[0], argv.slice(1), {
    env: { ...process.env, LVS_HA_TEST_LANE: s.files },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ])
    createInterface({ input: stream }).on('line', (l) => out.write(`[${lane.name}] ${l}\n`));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve(signal ?? code)));
}

async function run(lane) {
  const t0 = Date.now();
  let ok = true;
  for (const s of lane.steps) {
    const end = await step(lane, s);
    if (end !== 0) ok = false;
    process.stdout.write(
      `[${lane.name}] ${s.files} files${s.filters.length ? ` (${s.filters.join(' ')})` : ''} ended: ${typeof end === 'string' ? end : `exit ${end}`} after ${Math.round((Date.now() - t0) / 1000)} s\n`,
    );
  }
  process.stdout.write(
    `[${lane.name}] lane ended: ${ok ? 'ok' : 'failed'} after ${Math.round((Date.now() - t0) / 1000)} s\n`,
  );
  return ok;
}

const results = await Promise.all(lanes.map(run));
process.exit(results.every(Boolean) ? 0 : 1);
