import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');

describe('examples/director-table.ts', () => {
  it("prints what the Director makes of the seed's ldirectord.cf for each state of its real servers", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'examples/director-table.ts'],
      { cwd: root },
    );
    expect(stdout).toBe(
      [
        '# all real servers up',
        'add virtual 12.3.4.50:80/tcp (wrr)',
        'add real 12.3.4.100:80 to 12.3.4.50:80/tcp (gate, weight 5)',
        'add real 12.3.4.101:80 to 12.3.4.50:80/tcp (gate, weight 5)',
        '# 12.3.4.100:80 down',
        'add virtual 12.3.4.50:80/tcp (wrr)',
        'add real 12.3.4.101:80 to 12.3.4.50:80/tcp (gate, weight 5)',
        '# 12.3.4.101:80 down',
        'add virtual 12.3.4.50:80/tcp (wrr)',
        'add real 12.3.4.100:80 to 12.3.4.50:80/tcp (gate, weight 5)',
        '# all real servers down',
        'add virtual 12.3.4.50:80/tcp (wrr)',
        'add real 127.0.0.1:80 to 12.3.4.50:80/tcp (gate, weight 1)',
        '# tcp:12.3.4.50:80: no real server up, the fallback 127.0.0.1:80 serves',
        '',
      ].join('\n'),
    );
  });
});
