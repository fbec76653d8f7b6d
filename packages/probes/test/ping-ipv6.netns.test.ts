// ping (ICMP echo, both ways of sending it) and IPv6 real servers, between
// two namespaces joined by a veth pair: the prober (the director's side) and
// a real server with 192.0.2.21 and 2001:db8::21.
import { type BackgroundProcess, Netns, startHttpServer, veth } from '@lvs-ha/lab';
import { describeWithLab } from '@lvs-ha/lab/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CheckResult } from '../src/index.js';
import { type Prober, startProber } from './helpers/prober.js';

const RS4 = '192.0.2.21';
const RS6 = '2001:db8::21';

describeWithLab(['netns'], 'ping and IPv6 real servers in namespaces', () => {
  let prober: Netns;
  let rs: Netns;
  let viaCommand: Prober; // started while net.ipv4.ping_group_range is "1 0": ping(8)
  let viaSocket: Prober; // started after widening it: ICMP datagram socket
  let http: BackgroundProcess;
  const methods: string[] = [];

  beforeAll(async () => {
    [prober, rs] = (await Netns.createMany(['prober', 'rs'])) as [Netns, Netns];
    await veth(prober, 'eth0', rs, 'eth0');
    // keep_addr_on_down: a cut link must not flush the IPv6 addresses.
    await prober.sh(
      'sysctl -qw net.ipv6.conf.eth0.keep_addr_on_down=1 && ip addr add 192.0.2.1/24 brd + dev eth0 && ip addr add 2001:db8::1/64 dev eth0 nodad',
    );
    await rs.sh(
      'sysctl -qw net.ipv6.conf.eth0.keep_addr_on_down=1 && ip addr add 192.0.2.21/24 brd + dev eth0 && ip addr add 2001:db8::21/64 dev eth0 nodad',
    );
    http = await startHttpServer(rs, { label: 'rs6', host: '::', port: 80, body: 'Apache Server Status\n' });
    viaCommand = await startProber(prober);
    // The method is chosen at the first ping of each family, so ask before widening the sysctl.
    methods.push(
      await viaCommand.call('pingMethod', { family: 4 }),
      await viaCommand.call('pingMethod', { family: 6 }),
    );
    await prober.sysctl('net.ipv4.ping_group_range', '0 2147483647');
    viaSocket = await startProber(prober);
  });
  afterAll(async () => {
    await viaCommand?.close();
    await viaSocket?.close();
    await http?.stop();
    await prober?.destroy();
    await rs?.destroy();
  });

  it('uses ping(8) where the kernel refuses ICMP datagram sockets, and the socket where it allows them', async () => {
    expect(methods).toEqual(['command', 'command']);
    expect(await viaSocket.call('pingMethod', { family: 4 })).toBe('socket');
    expect(await viaSocket.call('pingMethod', { family: 6 })).toBe('socket');
  });

  const both = () =>
    [
      ['socket', viaSocket],
      ['command', viaCommand],
    ] as const;
  const ping = (p: Prober, host: string, options: object = {}) =>
    p.call<CheckResult>('ping', { target: { host, port: 0 }, options: { timeout: 1, ...options } });

  it('is up when the real server answers, IPv4 and IPv6, both ways', async () => {
    for (const [how, p] of both())
      for (const host of [RS4, RS6]) {
        const r = await ping(p, host);
        expect(r, `${how} ${host}`).toMatchObject({ ok: true });
        expect(r.detail).toContain('echo reply');
      }
  });

  it('times out when the real server drops ICMP (black hole), after checkcount attempts', async () => {
    await rs.sh(
      'ip rule add pref 10 ipproto icmp blackhole && ip -6 rule add pref 10 ipproto ipv6-icmp blackhole',
    );
    try {
      for (const [how, p] of both())
        for (const host of [RS4, RS6]) {
          const r = await ping(p, host, { timeout: 0.3, checkcount: 2 });
          expect(r, `${how} ${host}`).toMatchObject({ ok: false, reason: 'timeout' });
          expect(r.detail).toContain('2 attempts');
          expect(r.durationMs).toBeGreaterThanOrEqual(550);
        }
    } finally {
      await rs.sh('ip rule del pref 10; ip -6 rule del pref 10');
    }
    expect((await ping(viaSocket, RS4)).ok).toBe(true);
  });

  it('is down when the link is cut, and up again when it returns', async () => {
    await rs.linkDown('eth0');
    try {
      for (const [how, p] of both())
        for (const host of [RS4, RS6]) {
          const r = await ping(p, host, { timeout: 0.5 });
          expect(r.ok, `${how} ${host}`).toBe(false);
          expect(['timeout', 'unreachable']).toContain(r.reason);
        }
    } finally {
      await rs.linkUp('eth0');
    }
    await expect.poll(async () => (await ping(viaSocket, RS6)).ok, { timeout: 10_000 }).toBe(true);
  });

  it('connect and http checks reach an IPv6 real server at [2001:db8::21]', async () => {
    const t = { host: RS6, port: 80 };
    expect(await viaSocket.call('connect', { target: t, options: { timeout: 2 } })).toMatchObject({
      ok: true,
    });
    const r = await viaSocket.call('http', {
      target: t,
      options: { request: '/server-status', receive: 'Apache Server Status', timeout: 2 },
    });
    expect(r).toMatchObject({ ok: true });
    expect(r.detail).toMatch(/^HTTP\/1\.1 200/);
    expect(
      await viaSocket.call('connect', { target: { host: RS6, port: 81 }, options: { timeout: 2 } }),
    ).toMatchObject({ ok: false, reason: 'refused' });
  });
});
