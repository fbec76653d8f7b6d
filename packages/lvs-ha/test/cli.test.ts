import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli-main.js';
import { capture } from './support/capture.js';

describe('lvs-ha cli', () => {
  it('rejects an unknown command with usage and exit 2', async () => {
    const c = capture();
    expect(await runCli(['frobnicate'], c.io)).toBe(2);
    expect(c.err()).toContain("unknown command 'frobnicate'");
  });

  it('lvs-ha lab: --help prints its usage, exit 0, without starting anything', async () => {
    const c = capture();
    expect(await runCli(['lab', '--help'], c.io)).toBe(0);
    expect(c.out()).toContain('usage: lvs-ha lab [--pair [--mixed]] [--requests N] [--hold SECONDS]');
  });

  it.each([
    [['--requests'], '--requests needs an integer from 0 to 1000, got nothing'],
    [['--requests', 'many'], '--requests needs an integer from 0 to 1000, got many'],
    [['--requests', '1001'], '--requests needs an integer from 0 to 1000, got 1001'],
    [['--hold', '-1'], '--hold needs an integer from 0 to 86400, got -1'],
    [['--hold', '1.5'], '--hold needs an integer from 0 to 86400, got 1.5'],
    [['--frob'], 'unknown option --frob'],
    [['--mixed'], '--mixed goes with --pair'],
  ])('lvs-ha lab %j: exit 2 with the reason and the usage, no lab started', async (args, why) => {
    const c = capture();
    expect(await runCli(['lab', ...args], c.io)).toBe(2);
    expect(c.err()).toContain(`lvs-ha lab: ${why}\n`);
    expect(c.err()).toContain('usage: lvs-ha lab');
    expect(c.out()).toBe('');
  });
});

describe('lvs-ha start and director: usage and configurations they refuse (nothing started)', () => {
  const seed = new URL('../../../examples/seed/ha.d', import.meta.url).pathname;

  it.each([
    [['start', '--help'], 0, 'usage: lvs-ha start [--config-dir DIR] [--node NAME]'],
    [['director', '--help'], 0, 'usage: lvs-ha director [--config FILE]'],
  ])('%j prints its usage', async (args, code, text) => {
    const c = capture();
    expect(await runCli(args, c.io)).toBe(code);
    expect(c.out()).toContain(text);
  });

  it.each([
    [['start', '--frob'], "Unknown option '--frob'"],
    [['director', '--config'], "Option '--config <value>' argument missing"],
  ])('%j is bad usage, exit 2', async (args, text) => {
    const c = capture();
    expect(await runCli(args, c.io)).toBe(2);
    expect(c.err()).toContain(text);
  });

  it('start: a node ha.cf does not name, or an authkeys others can read, is refused, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvs-ha-cli-'));
    try {
      for (const f of ['ha.cf', 'authkeys', 'haresources', 'ldirectord.cf'])
        writeFileSync(join(dir, f), readFileSync(join(seed, f)));
      chmodSync(join(dir, 'authkeys'), 0o600);
      const c = capture();
      expect(await runCli(['start', '--config-dir', dir, '--node', 'load9'], c.io)).toBe(1);
      expect(c.err()).toBe(`lvs-ha start: load9 is not a node of ${join(dir, 'ha.cf')} (load1, load2)\n`);
      chmodSync(join(dir, 'authkeys'), 0o644);
      const d = capture();
      expect(await runCli(['start', '--config-dir', dir, '--node', 'load1'], d.io)).toBe(1);
      expect(d.err()).toMatch(/authkeys.*(readable|mode)/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('director: a file that does not exist, or with errors, is refused with where and why, exit 1', async () => {
    const c = capture();
    expect(await runCli(['director', '--config', '/nonexistent/ldirectord.cf'], c.io)).toBe(1);
    expect(c.err()).toContain('cannot read /nonexistent/ldirectord.cf');
    const dir = mkdtempSync(join(tmpdir(), 'lvs-ha-cli-'));
    try {
      writeFileSync(
        join(dir, 'bad.cf'),
        'virtual = 192.0.2.50:80\n\treal = 192.0.2.21:80 gate 5\n\tscheduler = wrr\n\tchecktype = sometimes\n',
      );
      const d = capture();
      expect(await runCli(['director', '--config', join(dir, 'bad.cf')], d.io)).toBe(1);
      expect(d.err()).toMatch(/bad\.cf:4/);
      expect(d.err()).toMatch(/checktype/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
