// Runs inside the test's network namespace: reads one JSON check request per
// line on stdin, runs the real runCheck and answers one JSON line per check.
// The test process itself cannot enter a namespace, so its checks go through here.
import { createInterface } from 'node:readline';
import { runCheck } from '../../src/index.js';

const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  const { id, spec, target, round } = JSON.parse(line);
  try {
    const result = await runCheck(spec, target, round ?? 0);
    process.stdout.write(`${JSON.stringify({ id, result })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ id, error: String((err as Error)?.stack ?? err) })}\n`);
  }
});
rl.on('close', () => process.exit(0));
process.stdout.write('ready\n');
