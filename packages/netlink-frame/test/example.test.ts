import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');

describe('examples/netlink-frame-decode.ts', () => {
  it('reads back the ACK, the error and the DONE of one datagram, and refuses a truncated one', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'examples/netlink-frame-decode.ts'],
      { cwd: root },
    );
    expect(stdout).toBe(
      [
        'request: 24 bytes',
        'seq 7 at 0: ACK',
        'seq 7 at 36: error errno 17',
        'seq 8 at 80: DONE, errno 0',
        'truncated: DECODE at byte 0: netlink message length 36 overruns the 30-byte datagram',
        '',
      ].join('\n'),
    );
  });
});
