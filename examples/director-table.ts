// What the Director makes of an ldirectord.cf: the IPVS table ldirectord
// converges to for each state of the real servers' health, printed as the
// changes the Director would make on an empty table. Pure: no root, no
// kernel, nothing changed.
//   node --import tsx examples/director-table.ts [ldirectord.cf]   (default: the seed's)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeOperation, directorTable } from '@lvs-ha/director';
import { parseLdirectordCfStrict, resolveLdirectordDefaults } from '@lvs-ha/ha-config';
import { planReconcile } from '@lvs-ha/ipvs';

const file = process.argv[2] ?? fileURLToPath(new URL('./seed/ha.d/ldirectord.cf', import.meta.url));
const config = resolveLdirectordDefaults(parseLdirectordCfStrict(readFileSync(file, 'utf8'), { file }));
const reals = config.virtuals.flatMap((v) => v.reals.map((r) => `${r.address}:${r.port}`));

// Every real server up, then each one down alone, then all down.
const cases: [string, (real: string) => boolean][] = [
  ['all real servers up', () => true],
  ...reals.map((down): [string, (real: string) => boolean] => [`${down} down`, (r) => r !== down]),
  ['all real servers down', () => false],
];
for (const [title, up] of cases) {
  const { services, status } = directorTable(config, (_virtual, r) => up(`${r.address}:${r.port}`));
  console.log(`# ${title}`);
  for (const op of planReconcile([], services)) console.log(describeOperation(op));
  for (const s of status)
    if (s.fallback) console.log(`# ${s.id}: no real server up, the fallback ${s.fallback} serves`);
}
