// The replies of the real BIRD 2.0.12 kept in test/fixtures.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeReply, type Reply } from '../../src/index.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/bird-2.0.12/', import.meta.url));

/** [file name, raw text] of every captured reply. */
export function allFixtures(): (readonly [string, string])[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.txt'))
    .map((f) => [f, readFileSync(join(FIXTURES, f), 'utf8')] as const);
}

/** One captured reply, decoded. */
export function fixture(name: string): Reply {
  return decodeReply(readFileSync(join(FIXTURES, `${name}.txt`), 'utf8'));
}
