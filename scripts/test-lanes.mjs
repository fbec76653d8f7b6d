#!/usr/bin/env node
// The test suites in two lanes side by side, each package after the other
// within a lane: the files that boot the qemu guest (TCG keeps one core
// busy for minutes) and the rest (namespaces, real daemons: mostly waiting on
// timers). vitest.shared.ts picks a lane's files from LVS_HA_TEST_LANE. The
// guest lane runs niced, so the host lane's timing (deadtimes, check
// intervals) gets the CPU first; the guest's own tests allow for TCG anyway.
// Builds must be done first (the lanes run turbo with --only: two turbo runs
// must not rebuild the same dist directories at once).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const lanes = [
  { name: 'guest', nice: ['nice', '-n', '5'] },
  { name: 'host', nice: [] },
];

function run(lane) {
  const t0 = Date.now();
  const argv = [
    ...lane.nice,
    'pnpm',
    'exec',
    'turbo',
    'run',
    'test',
    '--only',
    '--concurrency=1',
    '--continue',
  ];
  const child = spawn(argv[0], argv.slice(1), {
    env: { ...process.env, LVS_HA_TEST_LANE: lane.name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ])
    createInterface({ input: stream }).on('line', (l) => out.write(`[${lane.name}] ${l}\n`));
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      const s = Math.round((Date.now() - t0) / 1000);
      process.stdout.write(`[${lane.name}] lane ended: ${signal ?? `exit ${code}`} after ${s} s\n`);
      resolve(code === 0);
    }),
  );
}

const results = await Promise.all(lanes.map(run));
process.exit(results.every(Boolean) ? 0 : 1);
