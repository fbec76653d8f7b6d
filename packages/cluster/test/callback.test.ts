// ldirectord's callback: CALLBACK FILE when the file's content changed, with real scripts.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ConfigCallback } from '../src/callback.js';

let dir: string;
let lines: string[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lvs-ha-callback-'));
  lines = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

it('runs CALLBACK FILE once per change of content, not on the first look nor on a touch', async () => {
  const out = join(dir, 'out');
  const cb = script('cb', `echo "$#:$1" >> ${out}`);
  const cf = join(dir, 'ldirectord.cf');
  writeFileSync(cf, 'checktimeout = 3\n');
  const c = new ConfigCallback({ say: (l) => lines.push(l) });
  expect(await c.look(cf, cb)).toBe(false);
  writeFileSync(cf, 'checktimeout = 3\n'); // same content, new mtime
  expect(await c.look(cf, cb)).toBe(false);
  writeFileSync(cf, 'checktimeout = 4\n');
  expect(await c.look(cf, cb)).toBe(true);
  writeFileSync(cf, 'checktimeout = 5\n');
  expect(await c.look(cf, cb)).toBe(true);
  await c.done();
  expect(readFileSync(out, 'utf8')).toBe(`1:${cf}\n1:${cf}\n`);
  expect(lines).toEqual([`ldirectord callback ${cb} ${cf}: done`, `ldirectord callback ${cb} ${cf}: done`]);
});

it('a failing, a hanging and a missing callback are said and block nothing', async () => {
  const cf = join(dir, 'ldirectord.cf');
  writeFileSync(cf, 'a\n');
  const c = new ConfigCallback({ say: (l) => lines.push(l), timeoutMs: 300 });
  await c.look(cf, null);
  writeFileSync(cf, 'b\n');
  const t0 = performance.now();
  await c.look(cf, script('hang', 'sleep 30'));
  writeFileSync(cf, 'c\n');
  await c.look(cf, script('fail', 'exit 3'));
  writeFileSync(cf, 'd\n');
  await c.look(cf, join(dir, 'missing'));
  // the looks returned before the hanging one ended
  expect(performance.now() - t0).toBeLessThan(250);
  await c.done();
  expect(lines).toEqual([
    `error ldirectord callback ${join(dir, 'hang')} ${cf} did not finish in 300 ms (killed)`,
    `error ldirectord callback ${join(dir, 'fail')} ${cf} exited with 3`,
    `warning ldirectord ${cf} changed: callback ${join(dir, 'missing')} is not an executable file, not run`,
  ]);
});
