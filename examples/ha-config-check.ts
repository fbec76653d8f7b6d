// Read a Heartbeat configuration directory, report what is wrong, and write
// a tuned ha.cf back with its comments kept.
//   node --import tsx examples/ha-config-check.ts [DIR]   (default: examples/seed/ha.d)
import { fileURLToPath } from 'node:url';
import { haCfFromDirectives, haCfTimeDirective, loadConfigDir, writeHaCf } from '@lvs-ha/ha-config';

const dir = process.argv[2] ?? fileURLToPath(new URL('./seed/ha.d', import.meta.url));
const cfg = await loadConfigDir(dir);
for (const p of cfg.problems) console.log(`${p.severity}: ${p.message}`);
if (!cfg.haCf) process.exit(1);

const { settings } = cfg.haCf.value;
console.log(`nodes: ${settings.nodes.join(', ')}; deadtime ${settings.deadtimeMs} ms`);

// Faster failure detection: heartbeats every 500 ms, dead after 5 s.
const directives = cfg.haCf.value.directives.filter((d) => d.name !== 'keepalive' && d.name !== 'deadtime');
const at = directives.findIndex((d) => d.name === 'node');
directives.splice(at, 0, haCfTimeDirective('keepalive', 500), haCfTimeDirective('deadtime', 5000));
const tuned = haCfFromDirectives(directives, cfg.haCf.value.trailer);
console.log(`problems after tuning: ${tuned.problems.length}`);
process.stdout.write(writeHaCf(tuned.value));
