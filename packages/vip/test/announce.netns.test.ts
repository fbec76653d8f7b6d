import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  AddressInUseError,
  addAddress,
  announce,
  decodeArpFrame,
  decodeNeighborDiscoveryFrame,
  formatMac,
  probeAddress,
  release,
  removeAddress,
  takeOver,
} from '../src/index.js';
import { describeWithNetns } from './helpers/netns.js';
import { readPcap } from './helpers/pcap.js';
import { capture, MAC_A, MAC_B, type Segment, segment } from './helpers/topology.js';

describeWithNetns('announcing a VIP take-over on a shared segment', () => {
  let s: Segment;
  beforeAll(async () => {
    s = await segment();
  });
  afterAll(async () => {
    await s?.destroy();
  });
  const neigh = async (ip: string) => (await s.client.sh(`ip neigh show ${ip} dev br0`)).trim();

  it('moves the client ARP cache entry from A to B with 5 gratuitous ARP rounds at 200 ms', async () => {
    await addAddress('192.0.2.50/24/eth0', { netns: s.a.name });
    await s.client.sh('busybox ping -c1 -W2 192.0.2.50 >/dev/null');
    expect(await neigh('192.0.2.50')).toContain(`lladdr ${MAC_A}`);

    const cap = await capture(s.client, 'br0', 'arp');
    await removeAddress('192.0.2.50', { netns: s.a.name });
    await addAddress('192.0.2.50/24/eth0', { netns: s.b.name });
    expect(await neigh('192.0.2.50')).toContain(`lladdr ${MAC_A}`); // moving alone tells nobody
    const result = await announce({
      address: '192.0.2.50',
      interface: 'eth0',
      netns: s.b.name,
      count: 5,
      intervalMs: 200,
    });
    await sleep(100);
    const frames = readPcap(await cap.stop())
      .map((r) => ({ t: r.timeUs / 1000, arp: decodeArpFrame(r.data) }))
      .filter((f) => f.arp.senderIp.text === '192.0.2.50' && formatMac(f.arp.senderMac) === MAC_B);

    expect(result.mac).toBe(MAC_B);
    expect(result.frames.map((f) => f.kind)).toEqual(new Array(5).fill(['arp-request', 'arp-reply']).flat());
    expect(frames.map((f) => f.arp.operation)).toEqual([1, 2, 1, 2, 1, 2, 1, 2, 1, 2]);
    for (const f of frames) {
      expect(f.arp.targetIp.text).toBe('192.0.2.50');
      expect(formatMac(f.arp.ethernet.destination)).toBe('ff:ff:ff:ff:ff:ff');
      expect(formatMac(f.arp.targetMac)).toBe(f.arp.operation === 1 ? '00:00:00:00:00:00' : MAC_B);
    }
    const requests = frames.filter((f) => f.arp.operation === 1).map((f) => f.t);
    const gaps = requests.slice(1).map((t, i) => t - requests[i]!);
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(190);
      expect(g).toBeLessThan(600);
    }
    expect(await neigh('192.0.2.50')).toContain(`lladdr ${MAC_B}`);
    await removeAddress('192.0.2.50', { netns: s.b.name });
  });

  it('moves the client IPv6 neighbour entry from A to B with unsolicited NAs (override)', async () => {
    await addAddress('2001:db8::50/64/eth0', { netns: s.a.name });
    await s.client.sh('busybox ping -6 -c1 -W2 2001:db8::50 >/dev/null');
    expect(await neigh('2001:db8::50')).toContain(`lladdr ${MAC_A}`);

    const cap = await capture(s.client, 'br0', 'icmp6 and ip6[40] == 136');
    await removeAddress('2001:db8::50', { netns: s.a.name });
    await addAddress('2001:db8::50/64/eth0', { netns: s.b.name });
    expect(await neigh('2001:db8::50')).toContain(`lladdr ${MAC_A}`);
    await announce({
      address: '2001:db8::50',
      interface: 'eth0',
      netns: s.b.name,
      count: 3,
      intervalMs: 100,
    });
    await sleep(100);
    const nas = readPcap(await cap.stop())
      .map((r) => ({ t: r.timeUs / 1000, na: decodeNeighborDiscoveryFrame(r.data) }))
      .filter((f) => f.na.target.text === '2001:db8::50' && formatMac(f.na.ethernet.source) === MAC_B);
    expect(nas).toHaveLength(3);
    for (const { na } of nas) {
      expect(na.override).toBe(true);
      expect(na.solicited).toBe(false);
      expect(na.checksumValid).toBe(true);
      expect(na.hopLimit).toBe(255);
      expect(na.destination.text).toBe('ff02::1');
      expect(formatMac(na.linkLayerAddress!)).toBe(MAC_B);
    }
    expect(nas[2]!.t - nas[1]!.t).toBeGreaterThanOrEqual(90);
    expect(await neigh('2001:db8::50')).toContain(`lladdr ${MAC_B}`);
    await removeAddress('2001:db8::50', { netns: s.b.name });
  });

  it('finds the other holder before taking the address (ARP probe, IPv6 DAD)', async () => {
    const free4 = await probeAddress({
      address: '192.0.2.60',
      interface: 'eth0',
      netns: s.b.name,
      probes: 2,
      waitMs: 300,
    });
    expect(free4.inUse).toBe(false);
    expect(free4.holders).toEqual([]);

    await addAddress('192.0.2.60/24/eth0', { netns: s.a.name });
    await addAddress('2001:db8::60/64/eth0', { netns: s.a.name });
    const held4 = await probeAddress({
      address: '192.0.2.60',
      interface: 'eth0',
      netns: s.b.name,
      probes: 2,
      waitMs: 300,
    });
    expect(held4.inUse).toBe(true);
    expect(held4.holders.map((h) => [h.mac, h.kind])).toEqual([[MAC_A, 'answer']]);
    const held6 = await probeAddress({
      address: '2001:db8::60',
      interface: 'eth0',
      netns: s.b.name,
      probes: 2,
      waitMs: 300,
    });
    expect(held6.inUse).toBe(true);
    expect(held6.holders.map((h) => [h.mac, h.kind])).toEqual([[MAC_A, 'answer']]);
    const free6 = await probeAddress({
      address: '2001:db8::61',
      interface: 'eth0',
      netns: s.b.name,
      probes: 1,
      waitMs: 300,
    });
    expect(free6.inUse).toBe(false);
    await removeAddress('192.0.2.60', { netns: s.a.name });
    await removeAddress('2001:db8::60', { netns: s.a.name });
  });

  it('takeOver refuses an address another host answers for, changing nothing; proceeds when told to', async () => {
    await addAddress('192.0.2.70/24/eth0', { netns: s.a.name });
    const before = await s.b.sh('ip -o addr show dev eth0 scope global');
    const err = await takeOver('192.0.2.70/24/eth0', { netns: s.b.name }).catch((e) => e);
    expect(err).toBeInstanceOf(AddressInUseError);
    expect(err).toMatchObject({ code: 'ADDRESS_IN_USE', holders: [MAC_A] });
    expect(await s.b.sh('ip -o addr show dev eth0 scope global')).toBe(before);

    const forced = await takeOver('192.0.2.70/24/eth0', {
      netns: s.b.name,
      onConflict: 'proceed',
      announce: { count: 2, intervalMs: 50 },
    });
    expect(forced.probe?.inUse).toBe(true);
    expect(forced.change.changed).toBe(true);
    expect(forced.announcement.frames).toHaveLength(4);
    await removeAddress('192.0.2.70', { netns: s.a.name });
    expect((await release('192.0.2.70', { netns: s.b.name })).changed).toBe(true);
  });

  it('takeOver of a free VIP, interface found by the subnet rule: probe, add, announce', async () => {
    const cap = await capture(s.client, 'br0', 'arp');
    const r = await takeOver('192.0.2.71', { netns: s.b.name, announce: { count: 2, intervalMs: 50 } });
    await sleep(100);
    const frames = readPcap(await cap.stop()).map((x) => decodeArpFrame(x.data));
    expect(r.probe?.inUse).toBe(false);
    expect(r.change).toMatchObject({ changed: true, interface: 'eth0' });
    expect(r.change.address?.prefixLength).toBe(24);
    // Probes (sender 0.0.0.0) first, then the announcements.
    const kinds = frames
      .filter((f) => formatMac(f.senderMac) === MAC_B)
      .map((f) => (f.senderIp.text === '0.0.0.0' ? 'probe' : f.operation === 1 ? 'request' : 'reply'));
    expect(kinds).toEqual(['probe', 'probe', 'probe', 'request', 'reply', 'request', 'reply']);
    await release('192.0.2.71', { netns: s.b.name });
  });

  it('sends a second burst after repeatAfterMs, and stops early when aborted', async () => {
    const cap = await capture(s.client, 'br0', 'arp');
    const r = await announce({
      address: '192.0.2.72',
      interface: 'eth0',
      netns: s.b.name,
      count: 2,
      intervalMs: 50,
      repeatAfterMs: 300,
      forms: ['request'],
    });
    await sleep(100);
    const times = readPcap(await cap.stop())
      .filter((x) => decodeArpFrame(x.data).senderIp.text === '192.0.2.72')
      .map((x) => x.timeUs / 1000);
    expect(r.aborted).toBe(false);
    expect(times).toHaveLength(4);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(290);
    expect(times[1]! - times[0]!).toBeLessThan(290);

    const ac = new AbortController();
    setTimeout(() => ac.abort(), 120);
    const cut = await announce({
      address: '192.0.2.72',
      interface: 'eth0',
      netns: s.b.name,
      count: 10,
      intervalMs: 50,
      signal: ac.signal,
    });
    expect(cut.aborted).toBe(true);
    expect(cut.frames.length).toBeGreaterThan(0);
    expect(cut.frames.length).toBeLessThan(20);
  });
});
