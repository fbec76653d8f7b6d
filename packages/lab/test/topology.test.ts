import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apacheConfig,
  Lab,
  LabError,
  parseHttpResponse,
  seedTopology,
  seedTopologyWith,
  topologyScript,
} from '../src/index.js';
import { describeWithLab } from '../src/vitest.js';

describe('topology descriptions', () => {
  it('accepts the seed topology', () => {
    expect(() => Lab.validate(seedTopology)).not.toThrow();
    expect(Object.keys(seedTopology.hosts)).toEqual(['client', 'load1', 'load2', 'rs1', 'rs2']);
  });

  it('refuses addresses outside the documentation ranges and bad names', () => {
    const bad = structuredClone(seedTopology);
    bad.hosts.client!.addresses.front = '10.0.0.1/24';
    expect(() => Lab.validate(bad)).toThrow(/documentation range/);
    expect(() => Lab.validate({ ...seedTopology, vip: '8.8.8.8' })).toThrow(LabError);
    expect(() =>
      Lab.validate({ ...seedTopology, hosts: { 'Bad-Name': seedTopology.hosts.client! } }),
    ).toThrow(/host name/);
    expect(() =>
      Lab.validate({
        ...seedTopology,
        hosts: { x: { role: 'client', addresses: { nowhere: '192.0.2.9/24' } } },
      }),
    ).toThrow(/unknown segment/);
  });

  it('grows the seed with more real servers and clients', () => {
    expect(seedTopologyWith()).toEqual(seedTopology);
    const t = seedTopologyWith({ realServers: 4, clients: 2 });
    expect(Object.keys(t.hosts)).toEqual(['client', 'client2', 'load1', 'load2', 'rs1', 'rs2', 'rs3', 'rs4']);
    expect(t.hosts.rs4).toEqual({
      role: 'realServer',
      addresses: { front: '192.0.2.24/24', back: '198.51.100.24/24' },
    });
    expect(() => Lab.validate(t)).not.toThrow();
    expect(() => seedTopologyWith({ realServers: 0 })).toThrow(LabError);
  });

  it('builds the whole topology with one ip -batch per namespace', () => {
    const names = { client: 'N-client', load1: 'N-load1', load2: 'N-load2', rs1: 'N-rs1', rs2: 'N-rs2' };
    const script = topologyScript(seedTopology, 'N-sw', names);
    expect(script.startsWith('set -e\n')).toBe(true);
    expect(script).toContain('link add name eth0 netns N-rs1 type veth peer name rs1-0 netns N-sw');
    expect(script).toContain('link add name eth1 netns N-rs1 type veth peer name rs1-1 netns N-sw');
    expect(script).toContain('link set rs1-1 master br-back up');
    expect(script).toContain('link add name br-front type bridge forward_delay 0 stp_state 0');
    expect(script).toMatch(/ip -n N-rs2 -batch - <<'EOF'\n[\s\S]*addr add 192\.0\.2\.50\/32 dev lo\nEOF/);
    // each segment's address with its broadcast (Heartbeat's bcast sends there)
    expect(script).toContain('addr add 198.51.100.2/24 brd + dev eth1');
    expect(script).toContain(
      'ip netns exec N-rs1 sysctl -q -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2',
    );
    expect(script).toContain('ip netns exec N-load1 sysctl -q -w net.ipv4.ip_forward=1');
    expect(script).not.toContain('N-client sysctl');
    expect(script.match(/-batch/g)).toHaveLength(2 + 5);
    expect(() => topologyScript(seedTopology, 'N-sw', { client: 'x' })).toThrow(
      /no namespace for host load1/,
    );
  });

  it('writes an Apache configuration with mod_status and its own files', () => {
    const conf = apacheConfig('/tmp/a', { listen: ['192.0.2.21', '192.0.2.50'], serverName: 'rs1' });
    expect(conf).toContain('Listen 192.0.2.21:80\nListen 192.0.2.50:80');
    expect(conf).toContain('PidFile /tmp/a/run/apache2.pid');
    expect(conf).toContain('LoadModule status_module /usr/lib/apache2/modules/mod_status.so');
    expect(conf).toMatch(/<Location \/server-status>\n\s+SetHandler server-status/);
    expect(conf).not.toMatch(/\/etc\/apache2|\/var\/log/);
  });

  it('parses an HTTP response as curl -i prints it', () => {
    const r = parseHttpResponse('HTTP/1.1 200 OK\r\nX-Real-Server: rs1\r\nContent-Length: 4\r\n\r\nrs1\n');
    expect(r).toEqual({
      status: 200,
      headers: { 'x-real-server': 'rs1', 'content-length': '4' },
      body: 'rs1\n',
    });
    expect(() => parseHttpResponse('curl: (7) Failed to connect')).toThrow(LabError);
  });
});

describeWithLab(['root', 'netns'], 'the seed topology on this machine (no IPVS)', () => {
  let lab: Lab;
  beforeAll(async () => {
    const t = Date.now();
    lab = await Lab.start(seedTopology);
    process.stderr.write(`[lab] seed topology up on the host in ${Date.now() - t} ms\n`);
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('gives every host its documentation addresses, and real servers the VIP on lo with ARP suppressed', async () => {
    const rs1 = lab.host('rs1');
    const info = await rs1.interfacesInfo();
    expect(info.find((i) => i.ifname === 'lo')?.addresses).toContain('192.0.2.50/32');
    expect(info.find((i) => i.ifname === 'eth0')?.addresses).toContain('192.0.2.21/24');
    expect(info.find((i) => i.ifname === 'eth1')?.addresses).toContain('198.51.100.21/24');
    const sysctl = await rs1.exec([
      'sysctl',
      '-n',
      'net.ipv4.conf.all.arp_ignore',
      'net.ipv4.conf.all.arp_announce',
    ]);
    expect(sysctl.stdout.split('\n').slice(0, 2)).toEqual(['1', '2']);
    expect(await lab.host('load1').ipAddr()).toMatch(/eth0@\S+\s+UP\s+192\.0\.2\.2\/24/);
    // Nothing answers ARP for the VIP until a director brings it up.
    const arping = await lab
      .host('client')
      .exec(['busybox', 'arping', '-c', '1', '-w', '1', '-I', 'eth0', '192.0.2.50']);
    expect(arping.code).not.toBe(0);
  });

  it('serves HTTP from a real server to the client (our Node server and Apache with mod_status)', async () => {
    const node = await lab.host('rs1').serveHttp();
    const apache = await lab.host('rs2').startApache();
    try {
      const r1 = await lab.host('client').fetch('http://192.0.2.21/');
      expect(r1.status).toBe(200);
      expect(r1.body).toBe('rs1\n');
      expect(r1.headers['x-real-server']).toBe('rs1');
      const index = await lab.host('client').fetch('http://192.0.2.22/');
      expect(index.body).toBe('rs2\n');
      const status = await lab.host('client').fetch('http://192.0.2.22/server-status');
      expect(status.status).toBe(200);
      expect(status.body).toContain('Apache Server Status');
      // The client learnt the real servers' MACs.
      const arp = await lab.host('client').arpCache();
      expect(arp.find((n) => n.address === '192.0.2.22')?.mac).toBe(await lab.host('rs2').mac());
    } finally {
      await node.stop();
      await apache.stop();
    }
  });

  it('cuts and restores a link, and kills a host’s processes', async () => {
    const client = lab.host('client');
    expect((await client.exec(['ping', '-c', '1', '-W', '2', '192.0.2.2'])).code).toBe(0);
    await lab.cut('load1');
    expect((await client.exec(['ping', '-c', '1', '-W', '1', '192.0.2.2'])).code).not.toBe(0);
    await lab.restore('load1');
    expect((await client.exec(['ping', '-c', '1', '-W', '2', '192.0.2.2'])).code).toBe(0);
    await lab.host('rs1').start(['sleep', '60']);
    // `ip netns exec` enters the namespace just after it starts: wait until the namespace lists it.
    for (let i = 0; i < 50 && (await lab.host('rs1').ns.pids()).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await lab.host('rs1').killAll()).toBeGreaterThan(0);
    expect(await lab.host('rs1').ns.pids()).toEqual([]);
  });
});
