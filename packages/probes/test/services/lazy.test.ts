import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsxLoader } from '@lvs-ha/lab';
import { expect, it } from 'vitest';

const child = join(dirname(fileURLToPath(import.meta.url)), '..', 'servers', 'lazy-child.ts');
const run = (...args: string[]) =>
  JSON.parse(
    execFileSync(process.execPath, ['--import', tsxLoader(), child, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    }),
  ) as { http: boolean; loaded: string[] };

const CLIENTS = ['mysql2', 'pg', 'ldapts', 'radius', 'dns-packet'];

it('an HTTP user loads none of the protocol client libraries', () => {
  const r = run();
  expect(r.http).toBe(true);
  expect(r.loaded.filter((n) => CLIENTS.includes(n))).toEqual([]);
});

it('a dns check loads dns-packet on first use, and only it', () => {
  const r = run('--dns');
  expect(r.loaded.filter((n) => CLIENTS.includes(n))).toEqual(['dns-packet']);
});
