// bgp.cf: what it reads, where it says a line is wrong, and the real BIRD's
// verdict on the configuration written from it.
import { describe, expect, it } from 'vitest';
import { BirdConfigError, checkConfig, parseRoutingFile, writeDirectorConfig } from '../src/index.js';
import { describeWithBird } from './support/needs.js';

const SAMPLE = `# load1's BGP side
router-id 192.0.2.11
local-as 64513

neighbor 192.0.2.1 as 64512
neighbor 192.0.2.2 as 64512 password "s3cret word" source 192.0.2.11   # the second router
neighbor fe80::1%eth0 as 64512 name core6
bfd 100ms 3
hold-time 9
error-wait 1 30
vip 203.0.113.99
`;

function refusal(text: string, vips?: string[]): BirdConfigError {
  try {
    parseRoutingFile(text, '/etc/ha.d/bgp.cf', vips ? { vips } : {});
  } catch (e) {
    expect(e).toBeInstanceOf(BirdConfigError);
    return e as BirdConfigError;
  }
  throw new Error(`accepted:\n${text}`);
}

describe('parseRoutingFile', () => {
  it('reads the sample, with the VIPs from ldirectord.cf added', () => {
    const c = parseRoutingFile(SAMPLE, 'bgp.cf', { vips: ['203.0.113.10', '2001:db8::10'] });
    expect(c).toEqual({
      routerId: '192.0.2.11',
      localAs: 64513,
      neighbors: [
        { address: '192.0.2.1', as: 64512 },
        { address: '192.0.2.2', as: 64512, password: 's3cret word', sourceAddress: '192.0.2.11' },
        { address: 'fe80::1', as: 64512, interface: 'eth0', name: 'core6' },
      ],
      vips: ['203.0.113.99', '203.0.113.10', '2001:db8::10'],
      bfd: { intervalMs: 100, multiplier: 3 },
      holdTime: 9,
      errorWaitTime: [1, 30],
    });
    const w = writeDirectorConfig(c);
    expect(w.bgpProtocols).toEqual(['up4_192_0_2_1', 'up4_192_0_2_2', 'core6']);
    expect([...w.vipProtocols.values()]).toEqual([
      'vip4_203_0_113_99',
      'vip4_203_0_113_10',
      'vip6_2001_db8__10',
    ]);
  });

  it('bfd off, log, other timers', () => {
    const c = parseRoutingFile(
      'router-id 192.0.2.11\nlocal-as 64513\nneighbor 192.0.2.1 as 64512\nbfd off\nlog syslog\nconnect-delay 0\nkeepalive-time 3\n',
    );
    expect(c).toMatchObject({ bfd: false, log: 'syslog', connectDelayTime: 0, keepaliveTime: 3 });
  });

  it('says file:line:column and why', () => {
    const head = 'router-id 192.0.2.11\nlocal-as 64513\n';
    expect(refusal(`${head}neighbour 192.0.2.1 as 64512\n`).where).toBe('/etc/ha.d/bgp.cf:3:1');
    expect(refusal(`${head}neighbour 192.0.2.1 as 64512\n`).message).toMatch(/unknown directive "neighbour"/);
    expect(refusal(`${head}neighbor 192.0.2.1 64512\n`).where).toBe('/etc/ha.d/bgp.cf:3:10');
    expect(refusal(`${head}neighbor 192.0.2.1 as 64512 md5 x\n`).message).toMatch(
      /unknown neighbor option "md5"/,
    );
    expect(refusal(`${head}neighbor 192.0.2.1 as 64512 password\n`).message).toMatch(/without its value/);
    expect(refusal(`${head}neighbor 192.0.2.1 as 645120000000\n`).where).toBe('/etc/ha.d/bgp.cf:3:23');
    expect(refusal(`${head}neighbor 192.0.2.1 as 64512 password "open\n`).message).toMatch(/quote/);
    expect(refusal(`${head}neighbor 192.0.2.1 as 64512\nbfd 100 3\n`).where).toBe('/etc/ha.d/bgp.cf:4:5');
    expect(refusal(`${head}neighbor 192.0.2.1 as 64512\nhold-time 9\nhold-time 10\n`).message).toMatch(
      /"hold-time" again \(first on line 4\)/,
    );
    expect(refusal(`${head}neighbor 192.0.2.1 as 64512\nlog relative/path\n`).where).toBe(
      '/etc/ha.d/bgp.cf:4:5',
    );
    expect(refusal('local-as 64513\nneighbor 192.0.2.1 as 64512\n').message).toMatch(/no router-id/);
    expect(refusal('router-id 192.0.2.11\nneighbor 192.0.2.1 as 64512\n').message).toMatch(/no local-as/);
  });

  it("the writer's refusals come back at the line that caused them", () => {
    const head = 'router-id 192.0.2.11\nlocal-as 64513\n';
    const bad = refusal(`${head}neighbor 192.0.2.1 as 64512\nneighbor router2 as 64512\n`);
    expect(bad.where).toBe('/etc/ha.d/bgp.cf:4:1');
    expect(bad.message).toMatch(/neighbors\[1\]\.address: "router2"/);
    expect(refusal(`${head}neighbor 192.0.2.1 as 64512\nvip 2001:db8::10\n`).where).toBe(
      '/etc/ha.d/bgp.cf:4:1',
    );
    expect(refusal(`${head}neighbor 192.0.2.1 as 64512\n`, ['2001:db8::10']).where).toMatch(
      /given by the caller/,
    );
    expect(refusal(`${head}neighbor 192.0.2.1 as 64512\nhold-time 2\n`).where).toBe('/etc/ha.d/bgp.cf:4:1');
    expect(refusal(`${head}neighbor 192.0.2.1 as 64512\nbfd 0ms 3\n`).where).toBe('/etc/ha.d/bgp.cf:4:5');
    expect(refusal('router-id 2001:db8::1\nlocal-as 64513\nneighbor 192.0.2.1 as 64512\n').where).toBe(
      '/etc/ha.d/bgp.cf:1:1',
    );
    expect(refusal(head).message).toMatch(/at least one upstream router/);
  });
});

describeWithBird([], 'bgp.cf → BIRD: the real BIRD accepts what it makes', () => {
  it('the sample', async () => {
    await checkConfig({
      text: writeDirectorConfig(parseRoutingFile(SAMPLE, 'bgp.cf', { vips: ['2001:db8::10'] })).text,
    });
  });
});
