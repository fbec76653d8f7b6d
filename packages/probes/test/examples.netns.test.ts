// The examples under /examples run inside a namespace (loopback only),
// against this package's sources (tsx maps the workspace packages to src/).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Netns } from '@lvs-ha/lab';
import { describeWithLab } from '@lvs-ha/lab/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';

const packages = fileURLToPath(new URL('../../', import.meta.url));
const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));

describeWithLab(['netns'], 'examples/probes-*.ts', () => {
  let ns: Netns;
  let dir = '';
  beforeAll(async () => {
    ns = await Netns.create('examples');
    dir = mkdtempSync(join(tmpdir(), 'probes-tsx-'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          baseUrl: packages,
          paths: {
            '@lvs-ha/probes': ['probes/src/index.ts'],
            '@lvs-ha/ha-config': ['ha-config/src/index.ts'],
          },
        },
      }),
    );
  });
  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await ns?.destroy();
  });
  const run = async (file: string, args: string[] = []) => {
    const r = await ns.exec([process.execPath, '--import', 'tsx', join(examples, file), ...args], {
      cwd: examples,
      env: { TSX_TSCONFIG_PATH: join(dir, 'tsconfig.json') },
      timeoutMs: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };

  it('probes-http: the seed negotiate check against a local server', async () => {
    const out = await run('probes-http.ts');
    expect(out).toMatch(/^connect: up/m);
    expect(out).toMatch(/^negotiate: up .*HTTP\/1\.1 200 OK/m);
  });

  it('probes-ping: 127.0.0.1 and ::1', async () => {
    const out = await run('probes-ping.ts');
    expect(out).toMatch(/^127\.0\.0\.1: up via (socket|command)/m);
    expect(out).toMatch(/^::1: up via (socket|command)/m);
  });

  it('probes-monitor: the seed check in a Monitor, one real server stopped', async () => {
    const out = await run('probes-monitor.ts');
    const lines = out.split('\n');
    expect(lines[0]).toBe('checking 2 real servers');
    expect(lines.filter((l) => / up HTTP\/1\.1 200 OK$/.test(l))).toHaveLength(2);
    expect(out).toMatch(/stopping the real server on port (\d+)\n.*127\.0\.0\.1:\1 down \(refused\)/);
  });
});
