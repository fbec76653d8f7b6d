import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cliVersion, runCli } from '../src/cli-main.js';
import { builtCli } from './support/built-cli.js';
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

describe('lvs-ha --version and help CMD', () => {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };

  it.each([['--version'], ['version']])('%s prints the version in package.json, exit 0', async (arg) => {
    const c = capture();
    expect(await runCli([arg], c.io)).toBe(0);
    expect(c.out()).toBe(`${manifest.version}\n`);
    expect(c.err()).toBe('');
  });

  it('cliVersion finds the nearest package.json named lvs-ha, as from an installed dist/ chunk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvs-ha-version-'));
    try {
      const pkg = join(dir, 'node_modules', 'lvs-ha');
      mkdirSync(join(pkg, 'dist', 'chunks'), { recursive: true });
      writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'lvs-ha', version: '3.1.4' }));
      // A nameless package.json on the way up (one that only sets "type") is not ours.
      writeFileSync(join(pkg, 'dist', 'package.json'), JSON.stringify({ type: 'module' }));
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'someone-else', version: '9.9.9' }));
      expect(cliVersion(pathToFileURL(join(pkg, 'dist', 'chunks', 'cli.js')).href)).toBe('3.1.4');
      expect(() => cliVersion(pathToFileURL(join(dir, 'cli.js')).href)).toThrow(
        /no package\.json of lvs-ha above/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('help CMD prints what CMD --help prints, for every command the usage lists', async () => {
    const usage = capture();
    expect(await runCli(['help'], usage.io)).toBe(0);
    const names = /^commands: (.+)$/m.exec(usage.out())?.[1]?.split(', ') ?? [];
    expect(names).toEqual(expect.arrayContaining(['check', 'start', 'director', 'status', 'lab']));
    for (const name of names) {
      const viaHelp = capture();
      const viaFlag = capture();
      expect(await runCli(['help', name], viaHelp.io), name).toBe(0);
      expect(await runCli([name, '--help'], viaFlag.io), name).toBe(0);
      expect(viaHelp.out(), name).toContain(`usage: lvs-ha ${name}`);
      expect(viaHelp.out(), name).toBe(viaFlag.out());
      expect(viaHelp.err(), name).toBe('');
    }
  });

  it('help of an unknown command is bad usage, exit 2', async () => {
    const c = capture();
    expect(await runCli(['help', 'frobnicate'], c.io)).toBe(2);
    expect(c.err()).toContain("unknown command 'frobnicate'");
  });
});

describe('the installed bin (dist/cli.js run as a program, as npx and the systemd units run it)', () => {
  it('starts through its shebang (env -S node with the young generation small) and prints the version', () => {
    const bin = builtCli();
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env -S node --max-semi-space-size=1');
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(r.stdout).toBe(`${pkg.version}\n`);
  });
});

describe('lvs-ha whose reader goes away (EPIPE): no stack trace, the exit status kept', () => {
  const pkg = new URL('..', import.meta.url).pathname;
  const seed = new URL('../../../examples/seed/ha.d', import.meta.url).pathname;
  // git keeps authkeys 0644, which check rightly refuses: a 0600 copy.
  const seedCopy = () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvs-ha-cli-'));
    for (const f of ['ha.cf', 'authkeys', 'haresources', 'ldirectord.cf'])
      writeFileSync(join(dir, f), readFileSync(join(seed, f)));
    chmodSync(join(dir, 'authkeys'), 0o600);
    return dir;
  };

  // Whether a write meets the closed pipe here depends on when head exits
  // (without the handling it ends in a stack trace most runs); the next test
  // closes the pipe before the command starts, so its first write always does.
  it('lvs-ha check | head -1: the first line, nothing on stderr, exit 0', () => {
    const dir = seedCopy();
    try {
      const r = spawnSync(
        'bash',
        [
          '-c',
          `node --import tsx src/cli.ts check --config-dir '${dir}' | head -1; exit "\${PIPESTATUS[0]}"`,
        ],
        { cwd: pkg, encoding: 'utf8' },
      );
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(
        `${join(dir, 'ha.cf')}: nodes load1, load2; bcast eth1:694; keepalive 1s, deadtime 30s; auto_failback on\n`,
      );
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stdout closed before the first write: the errors still reach stderr, exit 1 kept', async () => {
    const dir = seedCopy();
    try {
      writeFileSync(
        join(dir, 'ha.cf'),
        'bcast eth1\nnode load1 load2\nkeepalive 5\ndeadtime 2\nauto_failback on\n',
      );
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'check', '--config-dir', dir], {
        cwd: pkg,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // Our end of the pipe closes before the command starts: its first write gets EPIPE.
      child.stdout.destroy();
      let err = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => {
        err += s;
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(err).toBe(
        `error: ${join(dir, 'ha.cf')}:4:1: deadtime (2s) must be longer than keepalive (5s) (a node would be declared dead between two heartbeats)\n`,
      );
      expect(code).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
