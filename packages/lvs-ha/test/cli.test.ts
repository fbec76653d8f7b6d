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
});
