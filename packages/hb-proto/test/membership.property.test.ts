// Bad input never crashes a node and never changes what it believes about
// the others: 5,000 authenticated but hostile messages (random types,
// sequence numbers, generations, statuses, resource words, rexmit ranges) are
// fed to a running two-node cluster; the node must not throw, the statuses
// stay legal, and a stranger's messages change nothing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HbMessage } from '../src/index.js';
import { SimCluster } from './support/sim.js';

const word = fc.constantFrom(
  'status',
  'starting',
  'resource',
  'ask_resources',
  'hb_takeover',
  'ip-request',
  'ip-request-resp',
  'shutdone',
  'reqnodes',
  'repnodes',
  'NS_rexmit',
  'NS_nak_rexmit',
  'NS_ackmsg',
  'stonith',
  'x',
);
const value = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '1',
    '-1',
    'ffffffffffffff',
    'zz',
    'none',
    'local',
    'foreign',
    'all',
    'me',
    'other',
    'done',
    'init',
    'up',
    'active',
    'dead',
    'full',
    'alpha',
    'beta',
    'gamma',
    '7fffffff',
    '1e',
    '99999999999999999999',
  ),
  fc.string({ maxLength: 12 }),
);
const fieldName = fc.constantFrom(
  't',
  'src',
  'seq',
  'hg',
  'ts',
  'st',
  'dt',
  'dest',
  'rsc_hold',
  'rtype',
  'isstable',
  'info',
  'firstseq',
  'lastseq',
  'ackseq',
  'ipaddr',
  'ok',
  'weown',
  'nodelist',
);

const hostile = fc
  .tuple(
    word,
    fc.constantFrom('alpha', 'gamma', 'ALPHA'),
    fc.array(fc.tuple(fieldName, value), { maxLength: 8 }),
  )
  .map(
    ([t, src, rest]): HbMessage => ({
      fields: [
        { name: 't', type: 'string', value: t },
        { name: 'src', type: 'string', value: src },
        { name: 'ts', type: 'string', value: '6b0d49ee' },
        ...rest.map(([name, v]) => ({ name, type: 'string' as const, value: v })),
      ],
    }),
  );

describe('Membership and ResourceManager under hostile input', () => {
  it('5,000 authenticated hostile messages: no throw, legal states, a stranger changes nothing', () => {
    const sim = new SimCluster({
      nodes: ['alpha', 'beta'],
      keepaliveMs: 100,
      deadtimeMs: 1000,
      autoFailback: 'on',
      actionMs: 10,
    });
    sim.start();
    sim.run(12_000);
    const beta = sim.member('beta');
    const before = beta.counters.unknownNode;
    let t = sim.now;
    let strangers = 0;
    fc.assert(
      fc.property(hostile, (msg) => {
        t += 1;
        if (msg.fields[1]?.value === 'gamma') strangers++;
        expect(() => beta.receive(msg, 'eth0', t)).not.toThrow();
        expect(['init', 'up', 'active', 'dead']).toContain(beta.statusOf('alpha'));
        expect(['none', 'local', 'foreign', 'all']).toContain(sim.rm('beta').holding);
      }),
      { numRuns: 5_000 },
    );
    expect(beta.counters.unknownNode - before).toBe(strangers);
    expect(beta.statusOf('gamma')).toBeUndefined();
  });
});
