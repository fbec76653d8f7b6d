// ClusterNode.reload() on the Heartbeat files: a change of meaning is
// reported as needing a restart (never applied, never with the keys), a
// comment is not a change, a broken file says where.
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigDir } from '@lvs-ha/ha-config';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ClusterNode } from '../src/index.js';

const seed = fileURLToPath(new URL('../../../examples/seed/ha.d/', import.meta.url));
let dir: string;
let node: ClusterNode;
let lines: string[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lvsha-reload-'));
  cpSync(seed, dir, { recursive: true });
  chmodSync(join(dir, 'authkeys'), 0o600);
  node = new ClusterNode({ config: await loadConfigDir(dir), node: 'load1' });
  lines = [];
  node.on('log', (l) => lines.push(l));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const edit = (file: string, f: (text: string) => string) =>
  writeFileSync(join(dir, file), f(readFileSync(join(dir, file), 'utf8')));

it('nothing changed, or only a comment: nothing to report', async () => {
  expect(await node.reload()).toEqual([]);
  edit('ha.cf', (t) => `# edited by hand\n${t}`);
  expect(await node.reload()).toEqual([]);
  expect(lines).toEqual([]);
});

it('a changed ha.cf or haresources is reported as needing a restart', async () => {
  edit('ha.cf', (t) => `${t}\nkeepalive 1\n`);
  const r = await node.reload();
  expect(r).toEqual([expect.objectContaining({ file: join(dir, 'ha.cf'), ok: true, restart: true })]);
  expect(lines).toEqual([expect.stringMatching(/^warning reload .*ha\.cf changed: not applied at run time/)]);
  edit('haresources', (t) => t.replace(/^load1 /m, 'load2 '));
  expect((await node.reload()).map((x) => x.file)).toEqual([join(dir, 'ha.cf'), join(dir, 'haresources')]);
});

it('a broken file says where, and a changed key is never printed', async () => {
  edit('authkeys', (t) => t.replace(/^(\d+\s+\S+\s+)(\S+)$/m, '$1a-new-secret-1234'));
  edit('ha.cf', (t) => `${t}\ndeadtime soon\n`);
  const r = await node.reload();
  const hacf = r.find((x) => x.file.endsWith('ha.cf'));
  expect(hacf).toMatchObject({ ok: false, restart: true });
  expect(hacf?.message).toMatch(/ha\.cf:\d+:\d+ /);
  expect(r.find((x) => x.file.endsWith('authkeys'))).toMatchObject({ ok: true, restart: true });
  expect(JSON.stringify(r) + lines.join('\n')).not.toContain('a-new-secret-1234');
});
