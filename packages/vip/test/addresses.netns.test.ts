import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  addAddress,
  announce,
  findInterfaceFor,
  InvalidAddressError,
  InvalidArgumentError,
  listAddresses,
  listLinks,
  NoMatchingInterfaceError,
  NoSuchInterfaceError,
  NoSuchNetnsError,
  removeAddress,
  setLinkUp,
} from '../src/index.js';
import { describeWithNetns, Netns, veth } from './helpers/netns.js';

describeWithNetns('addresses over rtnetlink in a network namespace', () => {
  let a: Netns;
  let b: Netns;
  beforeAll(async () => {
    a = await Netns.create('vipa');
    b = await Netns.create('vipb');
    await veth(a, 'eth0', '02:00:5e:00:53:0a', b, 'eth0', '02:00:5e:00:53:0b');
    await a.sh('ip addr add 192.0.2.10/24 brd + dev eth0 && ip addr add 2001:db8::10/64 dev eth0 nodad');
  });
  afterAll(async () => {
    await a?.destroy();
    await b?.destroy();
  });
  const ipAddr = async () => (await a.sh('ip -o addr show dev eth0')).trim();

  it('lists links and addresses as ip shows them', async () => {
    const links = await listLinks({ netns: a.name });
    expect(links.map((l) => l.name).sort()).toEqual(['eth0', 'lo']);
    const eth0 = links.find((l) => l.name === 'eth0')!;
    expect(eth0.mac).toBe('02:00:5e:00:53:0a');
    expect(eth0.up).toBe(true);
    const addrs = await listAddresses({ netns: a.name, interface: 'eth0' });
    const v4 = addrs.find((x) => x.family === 4)!;
    expect(v4.address.text).toBe('192.0.2.10');
    expect(v4.prefixLength).toBe(24);
    expect(v4.broadcast?.text).toBe('192.0.2.255');
    expect(addrs.some((x) => x.address.text === '2001:db8::10' && x.prefixLength === 64)).toBe(true);
  });

  it('adds an IPv4 VIP with label and computed broadcast, idempotently, then removes it', async () => {
    const r = await addAddress('192.0.2.50/24/eth0:0', { netns: a.name });
    expect(r.changed).toBe(true);
    expect(r.interface).toBe('eth0');
    expect(await ipAddr()).toMatch(/inet 192\.0\.2\.50\/24 brd 192\.0\.2\.255 scope global secondary eth0:0/);
    const again = await addAddress('192.0.2.50/24/eth0:0', { netns: a.name });
    expect(again.changed).toBe(false);
    expect(again.address?.label).toBe('eth0:0');
    const del = await removeAddress('192.0.2.50', { netns: a.name });
    expect(del.changed).toBe(true);
    expect(del.address?.prefixLength).toBe(24);
    expect(await ipAddr()).not.toContain('192.0.2.50');
    expect((await removeAddress('192.0.2.50', { netns: a.name })).changed).toBe(false);
  });

  it("adds the seed's /32 form and an IPv6 VIP (nodad), with scope", async () => {
    expect((await addAddress('192.0.2.51/32/eth0', { netns: a.name })).changed).toBe(true);
    expect(await ipAddr()).toMatch(/inet 192\.0\.2\.51\/32 scope global eth0/);
    expect(
      (await addAddress({ address: '2001:db8::50', prefixLength: 64, interface: 'eth0' }, { netns: a.name }))
        .changed,
    ).toBe(true);
    expect(await ipAddr()).toMatch(/inet6 2001:db8::50\/64 scope global nodad/);
    await addAddress(
      { address: '198.51.100.7', prefixLength: 32, interface: 'eth0', scope: 'host' },
      { netns: a.name },
    );
    expect(await ipAddr()).toMatch(/inet 198\.51\.100\.7\/32 scope host eth0/);
    for (const x of ['192.0.2.51', '2001:db8::50', '198.51.100.7'])
      expect((await removeAddress({ address: x, interface: 'eth0' }, { netns: a.name })).changed).toBe(true);
    expect(await ipAddr()).not.toMatch(/192\.0\.2\.51|2001:db8::50|198\.51\.100\.7/);
  });

  it("finds the interface by IPaddr's rule and takes that subnet's prefix", async () => {
    expect((await findInterfaceFor('192.0.2.77', { netns: a.name })).interface).toBe('eth0');
    expect((await findInterfaceFor('2001:db8::77', { netns: a.name })).prefixLength).toBe(64);
    const r = await addAddress('192.0.2.77', { netns: a.name });
    expect(r.interface).toBe('eth0');
    expect(r.address?.prefixLength).toBe(24);
    await removeAddress('192.0.2.77', { netns: a.name });
    await expect(findInterfaceFor('203.0.113.9', { netns: a.name })).rejects.toBeInstanceOf(
      NoMatchingInterfaceError,
    );
  });

  it('brings a link up', async () => {
    await a.sh('ip link set eth0 down');
    expect((await setLinkUp('eth0', { netns: a.name })).changed).toBe(true);
    expect(await a.sh('ip -o link show eth0')).toMatch(/<[^>]*\bUP\b/);
    expect((await setLinkUp('eth0', { netns: a.name })).changed).toBe(false);
    await a.sh('ip link set eth0 down');
    await addAddress({ address: '192.0.2.52', interface: 'eth0', bringLinkUp: true }, { netns: a.name });
    expect(await a.sh('ip -o link show eth0')).toMatch(/<[^>]*\bUP\b/);
    await removeAddress('192.0.2.52', { netns: a.name });
  });

  it('rejects bad input with typed errors and changes nothing', async () => {
    const before = await ipAddr();
    await expect(addAddress('192.0.2.300/32/eth0', { netns: a.name })).rejects.toBeInstanceOf(
      InvalidAddressError,
    );
    await expect(addAddress('192.0.2.60/32/eth9', { netns: a.name })).rejects.toThrow(
      new NoSuchInterfaceError('eth9', ` in network namespace ${a.name}`),
    );
    await expect(addAddress('192.0.2.60/32/eth0:0/192.0.2.63', { netns: a.name })).resolves.toBeDefined();
    await removeAddress('192.0.2.60', { netns: a.name });
    await expect(
      addAddress({ address: '192.0.2.61', interface: 'eth0', label: 'foo:1' }, { netns: a.name }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(
      addAddress({ address: '192.0.2.61', interface: 'eth0', scope: 'galaxy' as 'host' }, { netns: a.name }),
    ).rejects.toThrow(/scope/);
    await expect(removeAddress('not-an-ip', { netns: a.name })).rejects.toMatchObject({
      code: 'INVALID_ADDRESS',
    });
    await expect(listAddresses({ netns: 'no-such-ns-here' })).rejects.toBeInstanceOf(NoSuchNetnsError);
    expect(await ipAddr()).toBe(before);
  });

  it('announcing on a link that is down says so', async () => {
    await a.sh('ip link set eth0 down');
    try {
      await expect(
        announce({ address: '192.0.2.10', interface: 'eth0', netns: a.name, count: 1 }),
      ).rejects.toMatchObject({
        code: 'PACKET_SOCKET',
        errnoName: 'ENETDOWN',
        message: expect.stringContaining('the link is down'),
      });
      await expect(
        announce({ address: '192.0.2.10', interface: 'lo', netns: a.name }),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
    } finally {
      await a.sh('ip link set eth0 up');
    }
  });
});
