// Parse and write throughput on a large director: 100 virtual services with
// 100 real servers each (10,000 real servers), the size where a slow parser
// would show on every reload; and Heartbeat's ha.cf (Debian's sample).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bench, describe } from 'vitest';
import { parseHaCf, parseLdirectordCf, writeLdirectordCf } from '../src/index.js';

function bigLdirectordCf(virtuals: number, reals: number): string {
  const out = [
    '# 100 web services on one director pair',
    'checktimeout = 5',
    'checkinterval = 10',
    'autoreload = yes',
    'quiescent = yes',
    'logfile = "/var/log/ldirectord.log"',
    'emailalert = "ops@example.org"',
    '',
  ];
  for (let v = 0; v < virtuals; v++) {
    out.push(`# service ${v}`, `virtual = 192.0.2.${(v % 250) + 1}:${8000 + v}`);
    for (let r = 0; r < reals; r++)
      out.push(`\treal = 10.${v}.${r >> 8}.${(r & 255) + 1}:80 gate ${1 + (r % 10)} # rack ${r % 8}`);
    out.push(
      '\tservice = http',
      '\tscheduler = wlc',
      '\tprotocol = tcp',
      '\tchecktype = negotiate',
      '\trequest = "/healthz"',
      '\treceive = "OK"',
      '\tvirtualhost = www.example.org',
      '\tpersistent = 300',
      '',
    );
  }
  return out.join('\n');
}

const big = bigLdirectordCf(100, 100);
const parsed = parseLdirectordCf(big);
if (parsed.problems.some((p) => p.severity === 'error') || parsed.value.virtuals.length !== 100)
  throw new Error('the benchmark config does not parse cleanly');
const haCf = readFileSync(
  join(import.meta.dirname, '..', 'test', 'fixtures', 'hacf', 'debian-sample.ha.cf'),
  'utf8',
);

// Sizes, to turn the mean times below into MB/s.
console.log(
  `ldirectord.cf: ${big.length} bytes, ${big.split('\n').length} lines; ha.cf: ${haCf.length} bytes`,
);

describe('ldirectord.cf, 100 virtuals x 100 reals', () => {
  // A parse takes tens of milliseconds: run long enough for a steady mean.
  bench(
    'parseLdirectordCf',
    () => {
      parseLdirectordCf(big);
    },
    { time: 3000 },
  );
  bench(
    'writeLdirectordCf',
    () => {
      writeLdirectordCf(parsed.value);
    },
    { time: 2000 },
  );
});

describe("ha.cf (Debian's sample)", () => {
  bench('parseHaCf', () => {
    parseHaCf(haCf);
  });
});
