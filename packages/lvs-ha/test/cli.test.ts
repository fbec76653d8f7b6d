import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli-main.js';

function capture() {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: (s: string) => {
        out += s;
      },
      stderr: (s: string) => {
        err += s;
      },
    },
    out: () => out,
    err: () => err,
  };
}

describe('lvs-ha cli', () => {
  it('rejects an unknown command with usage and exit 2', async () => {
    const c = capture();
    expect(await runCli(['frobnicate'], c.io)).toBe(2);
    expect(c.err()).toContain("unknown command 'frobnicate'");
  });

  it('lvs-ha lab: --help prints its usage, exit 0, without starting anything', async () => {
    const c = capture();
    expect(await runCli(['lab', '--help'], c.io)).toBe(0);
    expect(c.out()).toContain('usage: lvs-ha lab [--requests N] [--hold SECONDS]');
  });

  it.each([
    [['--requests'], '--requests needs an integer from 0 to 1000, got nothing'],
    [['--requests', 'many'], '--requests needs an integer from 0 to 1000, got many'],
    [['--requests', '1001'], '--requests needs an integer from 0 to 1000, got 1001'],
    [['--hold', '-1'], '--hold needs an integer from 0 to 86400, got -1'],
    [['--hold', '1.5'], '--hold needs an integer from 0 to 86400, got 1.5'],
    [['--frob'], 'unknown option --frob'],
  ])('lvs-ha lab %j: exit 2 with the reason and the usage, no lab started', async (args, why) => {
    const c = capture();
    expect(await runCli(['lab', ...args], c.io)).toBe(2);
    expect(c.err()).toContain(`lvs-ha lab: ${why}\n`);
    expect(c.err()).toContain('usage: lvs-ha lab');
    expect(c.out()).toBe('');
  });
});
