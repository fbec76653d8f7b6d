import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');

describe('examples/ha-config-check.ts', () => {
  it('reads the seed configuration and writes a tuned ha.cf', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'examples/ha-config-check.ts'],
      {
        cwd: root,
      },
    );
    expect(stdout).toContain('nodes: load1, load2; deadtime 30000 ms');
    expect(stdout).toContain('problems after tuning: 0');
    expect(stdout).toMatch(/keepalive\t500ms\ndeadtime\t5\nnode\tload1 load2\n$/);
  });
});
