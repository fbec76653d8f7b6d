// The notify hook's runner: order, timeout, failures said and never thrown,
// with a fake exec and with real scripts.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StateChange } from '@lvs-ha/cluster';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Notifier, type NotifyExec, type NotifyRun } from '../src/notify.js';

const change = (
  type: 'GROUP' | 'NODE',
  name: string,
  state: StateChange['state'],
  reason = 'x',
): StateChange => ({
  type,
  name,
  state,
  reason,
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lvs-ha-notify-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('Notifier with a fake exec', () => {
  it('runs one at a time in the order notified, and notify() returns at once', async () => {
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const release: (() => void)[] = [];
    const exec: NotifyExec = (file, args, o) => {
      running++;
      most = Math.max(most, running);
      log.push(`${file} ${args.join(' ')} node=${o.env.LVS_HA_NODE} state=${o.env.LVS_HA_STATE}`);
      return new Promise<NotifyRun>((resolve) =>
        release.push(() => {
          running--;
          resolve({ code: 0, signal: null, killed: false });
        }),
      );
    };
    const lines: string[] = [];
    const n = new Notifier({ script: '/hook', node: 'load1', say: (l) => lines.push(l), exec });
    n.notify(change('GROUP', 'g1', 'MASTER', 'mach_down'));
    n.notify(change('NODE', 'load1', 'MASTER', 'mach_down'));
    n.notify(change('GROUP', 'g1', 'BACKUP', 'standby'));
    expect(n.queued).toBe(3);
    // nothing ran synchronously; the first starts on the next turn, the others wait for it
    await new Promise((r) => setTimeout(r, 20));
    expect(log).toEqual(['/hook GROUP g1 MASTER mach_down node=load1 state=MASTER']);
    for (let i = 0; i < 3; i++) {
      release.shift()?.();
      await new Promise((r) => setTimeout(r, 10));
    }
    await n.idle();
    expect(most).toBe(1);
    expect(log).toEqual([
      '/hook GROUP g1 MASTER mach_down node=load1 state=MASTER',
      '/hook NODE load1 MASTER mach_down node=load1 state=MASTER',
      '/hook GROUP g1 BACKUP standby node=load1 state=BACKUP',
    ]);
    expect(lines).toHaveLength(3);
    expect(n.queued).toBe(0);
  });

  it('a failure, a kill and a throw are each one line; the next run still happens', async () => {
    const results: (NotifyRun | Error)[] = [
      { code: 3, signal: null, killed: false },
      { code: null, signal: 'SIGKILL', killed: true },
      new Error('boom'),
      { code: null, signal: null, killed: false, error: 'spawn /hook ENOENT' },
      { code: 0, signal: null, killed: false },
    ];
    const exec: NotifyExec = async () => {
      const r = results.shift();
      if (r instanceof Error) throw r;
      return r as NotifyRun;
    };
    const lines: string[] = [];
    const n = new Notifier({
      script: '/hook',
      node: 'load1',
      say: (l) => lines.push(l),
      exec,
      timeoutMs: 5000,
    });
    for (const s of ['MASTER', 'BACKUP', 'FAULT', 'STOP', 'BACKUP'] as const)
      n.notify(change('GROUP', 'g', s));
    await n.idle();
    expect(lines).toEqual([
      'error notify /hook GROUP g MASTER x exited with 3',
      'error notify /hook GROUP g BACKUP x did not finish in 5000 ms (killed)',
      'error notify /hook GROUP g FAULT x: boom',
      'error notify /hook GROUP g STOP x could not be run: spawn /hook ENOENT',
      'notify /hook GROUP g BACKUP x: done',
    ]);
  });

  it('idle(ms) gives up waiting after ms', async () => {
    const exec: NotifyExec = () => new Promise(() => {});
    const n = new Notifier({ script: '/hook', node: 'n', say: () => {}, exec });
    n.notify(change('NODE', 'n', 'STOP'));
    const t0 = performance.now();
    await n.idle(100);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(95);
    expect(n.queued).toBe(1);
  });
});

describe('Notifier with real scripts', () => {
  it('the script gets TYPE NAME STATE REASON; a hung one is killed at the timeout and the next runs', async () => {
    const out = join(dir, 'out');
    const hook = join(dir, 'hook');
    writeFileSync(
      hook,
      `#!/bin/sh\necho "$1 $2 $3 $4 $LVS_HA_NODE" >> ${out}\nif [ "$3" = FAULT ]; then sleep 30; fi\nif [ "$3" = STOP ]; then exit 7; fi\n`,
    );
    chmodSync(hook, 0o755);
    const lines: string[] = [];
    const n = new Notifier({ script: hook, node: 'load2', say: (l) => lines.push(l), timeoutMs: 500 });
    const t0 = performance.now();
    n.notify(change('GROUP', '192.0.2.50/32/eth0', 'MASTER', 'mach_down'));
    n.notify(change('GROUP', '192.0.2.50/32/eth0', 'FAULT', 'fail-stop'));
    n.notify(change('NODE', 'load2', 'STOP', 'stop'));
    await n.idle();
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(480);
    expect(took).toBeLessThan(5000);
    expect(readFileSync(out, 'utf8')).toBe(
      'GROUP 192.0.2.50/32/eth0 MASTER mach_down load2\nGROUP 192.0.2.50/32/eth0 FAULT fail-stop load2\nNODE load2 STOP stop load2\n',
    );
    expect(lines).toEqual([
      `notify ${hook} GROUP 192.0.2.50/32/eth0 MASTER mach_down: done`,
      `error notify ${hook} GROUP 192.0.2.50/32/eth0 FAULT fail-stop did not finish in 500 ms (killed)`,
      `error notify ${hook} NODE load2 STOP stop exited with 7`,
    ]);
  });

  it('a script that does not exist is one error line', async () => {
    const lines: string[] = [];
    const n = new Notifier({ script: join(dir, 'nope'), node: 'n', say: (l) => lines.push(l) });
    n.notify(change('NODE', 'n', 'BACKUP', 'join'));
    await n.idle();
    expect(lines).toEqual([
      expect.stringMatching(/^error notify .*nope NODE n BACKUP join could not be run: .*ENOENT/),
    ]);
  });
});
