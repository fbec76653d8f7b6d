// loadActiveConfig: bgp.cf beside ldirectord.cf selects the active/active
// mode; the VIPs come from ldirectord.cf's virtual services, bgp.cf's `vip`
// lines add more; every problem is a ConfigError at FILE:LINE:COLUMN.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activeSysctls, hasBgpCf, loadActiveConfig } from '../src/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lvsha-active-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const LD = `checkinterval=2
virtual=203.0.113.60:80
	real=192.0.2.21:80 gate
	real=192.0.2.22:80 gate
	checktype=connect
virtual=203.0.113.61:53
	protocol=udp
	real=192.0.2.21:53 gate
`;
const BGP = `router-id 192.0.2.11
local-as 64513
neighbor 192.0.2.1 as 64512
vip 203.0.113.99
`;
const write = (ld: string, bgp?: string) => {
  writeFileSync(join(dir, 'ldirectord.cf'), ld);
  if (bgp !== undefined) writeFileSync(join(dir, 'bgp.cf'), bgp);
};

describe('loadActiveConfig', () => {
  it('the mode is on when bgp.cf is there', async () => {
    write(LD);
    expect(await hasBgpCf(dir)).toBe(false);
    writeFileSync(join(dir, 'bgp.cf'), BGP);
    expect(await hasBgpCf(dir)).toBe(true);
  });

  it("BIRD announces ldirectord.cf's VIPs and bgp.cf's own; ldirectord.cf is made for the mode", async () => {
    write(LD, BGP);
    const a = await loadActiveConfig(dir);
    expect(a.problems).toEqual([]);
    expect([...a.vipOf.values()]).toEqual(['203.0.113.60', '203.0.113.61']);
    expect(a.extraVips).toEqual(['203.0.113.99']);
    expect(a.bgp?.vips).toEqual(['203.0.113.99', '203.0.113.60', '203.0.113.61']);
    expect(a.ldirectord?.virtuals.map((v) => v.scheduler.value)).toEqual(['mh', 'mh']);
  });

  it("bgp.cf's errors at FILE:LINE:COLUMN, and no configuration to run", async () => {
    write(LD, 'router-id 192.0.2.11\nlocal-as 64513\nneighbour 192.0.2.1 as 64512\n');
    const a = await loadActiveConfig(dir);
    expect(a.bgp).toBeUndefined();
    expect(a.ldirectord).toBeUndefined();
    expect(a.problems.map((p) => [p.file, p.line, p.column, p.severity])).toEqual([
      [join(dir, 'bgp.cf'), 3, 1, 'error'],
    ]);
    expect(a.problems[0]?.message).toMatch(/bgp\.cf:3:1: unknown directive "neighbour"/);
  });

  it('what ldirectord.cf asks against the mode, at its line', async () => {
    write('virtual=203.0.113.60:80\n\treal=192.0.2.21:80 masq\n\tscheduler=rr\n', BGP);
    const a = await loadActiveConfig(dir);
    expect(a.ldirectord).toBeUndefined();
    expect(a.problems.map((p) => `${p.line} ${p.severity}`)).toEqual(['3 error', '2 error']);
  });

  it('a missing bgp.cf (--active-active without one) is an error of its own', async () => {
    write(LD);
    const a = await loadActiveConfig(dir);
    expect(a.problems.map((p) => [p.code, p.file])).toEqual([['IO', join(dir, 'bgp.cf')]]);
  });
});

describe('activeSysctls', () => {
  it('sloppy_tcp/sloppy_sctp, and for IPv4 VIPs ARP suppressed on all, default and each interface', () => {
    expect(activeSysctls(['eth0'], new Set([4]))).toEqual([
      ['net.ipv4.vs.sloppy_tcp', '1'],
      ['net.ipv4.vs.sloppy_sctp', '1'],
      ['net.ipv4.conf.all.arp_ignore', '1'],
      ['net.ipv4.conf.all.arp_announce', '2'],
      ['net.ipv4.conf.default.arp_ignore', '1'],
      ['net.ipv4.conf.default.arp_announce', '2'],
      ['net.ipv4.conf.eth0.arp_ignore', '1'],
      ['net.ipv4.conf.eth0.arp_announce', '2'],
    ]);
    expect(activeSysctls(['eth0'], new Set([6]))).toHaveLength(2);
  });
});
