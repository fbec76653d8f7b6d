import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli-main.js';

const seed = join(import.meta.dirname, '..', '..', '..', 'examples', 'seed', 'ha.d');
const dirs: string[] = [];

async function seedCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lvs-ha-check-'));
  dirs.push(dir);
  await cp(seed, dir, { recursive: true });
  await chmod(join(dir, 'authkeys'), 0o600); // git does not keep the mode
  return dir;
}

async function check(...args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(['check', ...args], {
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      err += s;
    },
  });
  return { code, out, err };
}

afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('lvs-ha check', () => {
  it("accepts the seed article's configuration and says what it describes", async () => {
    const dir = await seedCopy();
    const r = await check('--config-dir', dir);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('nodes load1, load2; bcast eth1:694');
    expect(r.out).toContain('load1 is the preferred holder of VIP 12.3.4.50/32 on eth0, ldirectord');
    expect(r.out).toContain('tcp:12.3.4.50:80 wrr, check: negotiate http, then 4 connect checks, and again');
    expect(r.out).toContain('real 12.3.4.101:80 gate weight 5');
    expect(r.out).toContain('configuration is valid (0 error(s), 0 warning(s))');
  });

  it('reports every problem across the files with file and line, and exits 1', async () => {
    const dir = await seedCopy();
    await chmod(join(dir, 'authkeys'), 0o644);
    await writeFile(join(dir, 'haresources'), 'load3 12.3.4.51/32/eth0 ldirectord\n');
    const r = await check('--config-dir', dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${join(dir, 'authkeys')}:1:1: authkeys has mode 0644`);
    expect(r.err).toContain(
      `${join(dir, 'haresources')}:1:1: node 'load3' is not a node of ${join(dir, 'ha.cf')}`,
    );
    expect(r.err).toContain(`${join(dir, 'ldirectord.cf')}:7:1: virtual service on 12.3.4.50 but`);
    expect(r.out).toContain('VIP 12.3.4.51 has no virtual service');
    expect(r.out).toContain('configuration has errors (3 error(s), 1 warning(s))');
  });

  it('finds ldirectord.cf under conf/ and the file haresources names', async () => {
    const dir = await seedCopy();
    await mkdir(join(dir, 'conf'));
    await cp(join(dir, 'ldirectord.cf'), join(dir, 'conf', 'web.cf'));
    await rm(join(dir, 'ldirectord.cf'));
    await writeFile(join(dir, 'haresources'), 'load1 12.3.4.50/32/eth0 ldirectord::web.cf\n');
    const r = await check('--config-dir', dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain(join(dir, 'conf', 'web.cf'));
  });

  it('says which file is missing', async () => {
    const r = await check('--config-dir', '/nonexistent/ha.d');
    expect(r.code).toBe(1);
    expect(r.err).toContain('cannot read /nonexistent/ha.d/ha.cf: no such file');
  });

  it('prints JSON for programs', async () => {
    const dir = await seedCopy();
    const r = await check('--config-dir', dir, '--json');
    const parsed = JSON.parse(r.out);
    expect(parsed.haCf.value.settings.nodes).toEqual(['load1', 'load2']);
    expect(parsed.problems).toEqual([]);
  });

  it('rejects unknown options with usage', async () => {
    const r = await check('--frob');
    expect(r.code).toBe(2);
    expect(r.err).toContain('usage: lvs-ha check');
  });
});
