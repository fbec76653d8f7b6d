// Runtime overrides (lvs-ha drain/undrain/weight) merged into the table, and
// the selector that names real servers: pure, on the seed's ldirectord.cf.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseLdirectordCfStrict, resolveLdirectordDefaults } from '@lvs-ha/ha-config';
import { describe, expect, it } from 'vitest';
import { directorTable, type RealHealth, selectReals } from '../src/index.js';

const resolve = (text: string) => resolveLdirectordDefaults(parseLdirectordCfStrict(text));
const seedText = readFileSync(
  fileURLToPath(new URL('../../../examples/seed/ha.d/ldirectord.cf', import.meta.url)),
  'utf8',
);
const seed = resolve(seedText);
const V = 'tcp:12.3.4.50:80';
const health =
  (up: Record<string, boolean | undefined>): RealHealth =>
  (_v, r) =>
    up[`${r.address}:${r.port}`];
const bothUp = health({ '12.3.4.100:80': true, '12.3.4.101:80': true });
const weights = (t: ReturnType<typeof directorTable>) =>
  t.services[0]?.destinations.map((d) => `${d.address}:${d.port}=${d.weight}`);

describe('directorTable with runtime overrides', () => {
  it('a drained server (weight 0) stays in the table at 0 and counts as quiescent; the other keeps its weight', () => {
    const t = directorTable(seed, bothUp, [], [{ virtual: V, real: '12.3.4.100:80', weight: 0 }]);
    expect(weights(t)).toEqual(['12.3.4.100:80=0', '12.3.4.101:80=5']);
    expect(t.status[0]).toMatchObject({ up: ['12.3.4.101:80'], quiescent: ['12.3.4.100:80'], out: [] });
  });

  it('a runtime weight replaces the file’s while up; remove takes it out', () => {
    const t = directorTable(
      seed,
      bothUp,
      [],
      [
        { virtual: V, real: '12.3.4.100:80', weight: 9 },
        { virtual: V, real: '12.3.4.101:80', weight: 0, remove: true },
      ],
    );
    expect(weights(t)).toEqual(['12.3.4.100:80=9']);
    expect(t.status[0]).toMatchObject({ up: ['12.3.4.100:80'], out: ['12.3.4.101:80'] });
  });

  it('the checks still decide: a down server with a weight override is out (quiescent = no), as without one', () => {
    const down = health({ '12.3.4.100:80': false, '12.3.4.101:80': true });
    const t = directorTable(seed, down, [], [{ virtual: V, real: '12.3.4.100:80', weight: 9 }]);
    expect(weights(t)).toEqual(['12.3.4.101:80=5']);
  });

  it('every server drained: the fallback comes in, as when maintenancedir takes them all out', () => {
    const t = directorTable(
      seed,
      bothUp,
      [],
      [
        { virtual: V, real: '12.3.4.100:80', weight: 0 },
        { virtual: V, real: '12.3.4.101:80', weight: 0 },
      ],
    );
    expect(t.status[0]?.up).toEqual([]);
    expect(t.status[0]?.fallback).toBe('127.0.0.1:80');
  });

  it('an override of another virtual service or real server changes nothing', () => {
    const t = directorTable(
      seed,
      bothUp,
      [],
      [{ virtual: 'tcp:12.3.4.51:80', real: '12.3.4.100:80', weight: 0 }],
    );
    expect(weights(t)).toEqual(['12.3.4.100:80=5', '12.3.4.101:80=5']);
  });
});

describe('selectReals', () => {
  it('names a real server by address:port or address, in every virtual or the one named (any of its spellings)', () => {
    const one = [{ virtual: V, real: '12.3.4.100:80', configuredWeight: 5 }];
    expect(selectReals(seed, { real: '12.3.4.100:80' })).toEqual(one);
    expect(selectReals(seed, { real: '12.3.4.100' })).toEqual(one);
    for (const virtual of [V, '12.3.4.50:80/tcp', '12.3.4.50:80'])
      expect(selectReals(seed, { real: '12.3.4.100:80', virtual })).toEqual(one);
  });

  it('names nothing for an unknown server, port or virtual service', () => {
    expect(selectReals(seed, { real: '12.3.4.102:80' })).toEqual([]);
    expect(selectReals(seed, { real: '12.3.4.100:81' })).toEqual([]);
    expect(selectReals(seed, { real: '12.3.4.100:80', virtual: '12.3.4.50:443' })).toEqual([]);
    expect(selectReals(seed, { real: '' })).toEqual([]);
  });
});
