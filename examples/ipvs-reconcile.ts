// Bring the kernel's IPVS table to the rules in an `ipvsadm -S` file (or
// stdin) with the fewest changes, and say what changed. Services not in the
// file are deleted only with --prune (otherwise they are left alone).
//
//   node --import tsx examples/ipvs-reconcile.ts rules.txt [--dry-run] [--prune]
import { readFileSync } from 'node:fs';
import { Ipvs, parseSave } from '@lvs-ha/ipvs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const desired = parseSave(readFileSync(file ?? 0, 'utf8'));
const ipvs = await Ipvs.open();
try {
  const result = await ipvs.reconcile(desired, {
    dryRun: args.includes('--dry-run'),
    owned: () => args.includes('--prune'),
  });
  for (const op of result.operations) console.log(JSON.stringify(op));
  for (const e of result.errors) console.error(`refused: ${e.message}`);
  console.log(`${result.operations.length} operation(s), ${result.errors.length} refused`);
  process.exitCode = result.errors.length ? 1 : 0;
} finally {
  ipvs.close();
}
