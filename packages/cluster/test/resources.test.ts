// The ResourceRunner with real resource scripts (Heartbeat's resource.d
// convention: NAME ARGS... start|stop|status) in a temporary directory: the
// order a group starts and stops in, what a failed start undoes, that a
// failed or hung stop keeps the group held until it stops, and the idle
// check. VIPs and ldirectord need root and IPVS: the fault-injection suites
// of lvs-ha prove those in namespaces and in the lab's guest.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HaResourceGroup } from '@lvs-ha/ha-config';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ResourceRunner } from '../src/resources.js';

let dir: string;
let journal: string;
let lines: string[];

/** A script that appends "NAME ARGS OP" to the journal, and fails or hangs on an op when its flag file says so. */
function script(name: string): void {
  const path = join(dir, 'resource.d', name);
  writeFileSync(
    path,
    `#!/bin/sh
for a; do op="$a"; done
echo "${name} $*" >> ${journal}
if [ -e ${dir}/fail-${name}-$op ]; then exit 1; fi
if [ -e ${dir}/hang-${name}-$op ]; then sleep 30; fi
if [ "$op" = status ]; then if [ -e ${dir}/running-${name} ]; then echo running; else echo stopped; fi; fi
if [ "$op" = start ]; then touch ${dir}/running-${name}; fi
if [ "$op" = stop ]; then rm -f ${dir}/running-${name}; fi
exit 0
`,
  );
  chmodSync(path, 0o755);
}

const group = (...names: string[]): HaResourceGroup =>
  ({
    node: 'load1',
    resources: names.map((n) => ({ kind: 'script', name: n, args: ['a1'] })),
  }) as HaResourceGroup;

const journalLines = () =>
  readFileSync(journal, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => !l.endsWith(' status'));

function runner(scriptTimeoutMs = 5000) {
  return new ResourceRunner({
    configDir: dir,
    openIpvs: () => Promise.reject(new Error('no IPVS in this test')),
    scriptTimeoutMs,
    stopRetryMs: () => 50,
    say: (l) => lines.push(l),
  });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lvs-ha-runner-'));
  mkdirSync(join(dir, 'resource.d'));
  journal = join(dir, 'journal');
  writeFileSync(journal, '');
  lines = [];
  for (const n of ['one', 'two', 'three']) script(n);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('ResourceRunner', () => {
  it('starts a group left to right and stops it right to left, with its arguments', async () => {
    const r = runner();
    expect(await r.acquire('one::a1', group('one', 'two', 'three'))).toBe(true);
    expect(r.holding()).toEqual(['one::a1']);
    await r.release('one::a1', group('one', 'two', 'three'));
    expect(r.holding()).toEqual([]);
    expect(journalLines()).toEqual([
      'one a1 start',
      'two a1 start',
      'three a1 start',
      'three a1 stop',
      'two a1 stop',
      'one a1 stop',
    ]);
  });

  it('an acquire of a held group and a release of one not held do nothing', async () => {
    const r = runner();
    await r.acquire('one::a1', group('one'));
    await r.acquire('one::a1', group('one'));
    await r.release('one::a1', group('one'));
    await r.release('one::a1', group('one'));
    expect(journalLines()).toEqual(['one a1 start', 'one a1 stop']);
    expect(lines).toContain('group one::a1 is held already: nothing to start');
    expect(lines).toContain('group one::a1 is not held: nothing to stop');
  });

  it('a resource that fails to start: what started is stopped again, the group is not held', async () => {
    writeFileSync(join(dir, 'fail-two-start'), '');
    const r = runner();
    expect(await r.acquire('one::a1', group('one', 'two', 'three'))).toBe(false);
    expect(r.holding()).toEqual([]);
    expect(journalLines()).toEqual(['one a1 start', 'two a1 start', 'two a1 stop', 'one a1 stop']);
    expect(lines.join('\n')).toMatch(/error start two::a1: .*resource\.d\/two a1 start exited with 1/);
  });

  it('a stop that fails is tried again until it stops; the group stays held meanwhile', async () => {
    const r = runner();
    await r.acquire('one::a1', group('one', 'two'));
    writeFileSync(join(dir, 'fail-two-stop'), '');
    const releasing = r.release('one::a1', group('one', 'two'));
    let over = false;
    void releasing.then(() => {
      over = true;
    });
    const deadline = Date.now() + 10_000;
    while (journalLines().filter((l) => l === 'two a1 stop').length < 3) {
      if (Date.now() > deadline) throw new Error(`never retried: ${journalLines().join(', ')}`);
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(over).toBe(false);
    expect(r.holding()).toEqual(['one::a1']);
    // 'one' (left of the failing resource) was not stopped: the group is still whole but for 'two'
    expect(journalLines()).not.toContain('one a1 stop');
    expect(lines.join('\n')).toMatch(/error stop two::a1 failed .*group one::a1 stays held here/);
    rmSync(join(dir, 'fail-two-stop'));
    await releasing;
    expect(r.holding()).toEqual([]);
    expect(journalLines().slice(-1)).toEqual(['one a1 stop']);
  });

  it('a stop that hangs is killed at the script timeout and counts as failed', async () => {
    const r = runner(500);
    await r.acquire('one::a1', group('one'));
    writeFileSync(join(dir, 'hang-one-stop'), '');
    const releasing = r.release('one::a1', group('one'));
    const deadline = Date.now() + 10_000;
    while (!lines.some((l) => l.includes('did not finish in 500 ms (killed)'))) {
      if (Date.now() > deadline) throw new Error(`no timeout said: ${lines.join('\n')}`);
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(r.holding()).toEqual(['one::a1']);
    rmSync(join(dir, 'hang-one-stop'));
    await releasing;
    expect(r.holding()).toEqual([]);
  });

  it('the idle check stops a script whose status says it runs, and leaves the others', async () => {
    writeFileSync(join(dir, 'running-two'), '');
    const r = runner();
    const found = await r.idleCheck([group('one', 'two')]);
    expect(found).toEqual(['two::a1']);
    expect(journalLines()).toEqual(['two a1 stop']);
    expect(lines).toContain('warning Resource two::a1 is active, and should not be! (stopping it)');
  });
});
