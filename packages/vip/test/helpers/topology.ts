// Two would-be VIP holders (A, B) and a client on one Ethernet segment: a
// bridge in the client's namespace with a veth to each holder. The client
// has 192.0.2.1/24 and 2001:db8::1/64, A 192.0.2.11/24, B 192.0.2.12/24;
// the VIP moves between A and B.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Netns } from './netns.js';

export const MAC_A = '02:00:5e:00:53:0a';
export const MAC_B = '02:00:5e:00:53:0b';

export interface Segment {
  client: Netns;
  a: Netns;
  b: Netns;
  destroy(): Promise<void>;
}

const captureDirs: string[] = [];

export async function segment(): Promise<Segment> {
  const client = await Netns.create('vipc');
  const a = await Netns.create('vipa');
  const b = await Netns.create('vipb');
  const destroy = async () => {
    await Promise.all([client.destroy(), a.destroy(), b.destroy()]);
    for (const d of captureDirs.splice(0)) rmSync(d, { recursive: true, force: true });
  };
  try {
    await client.sh(
      'ip link add br0 type bridge mcast_snooping 0 && ip link set br0 up && ' +
        'sysctl -qw net.ipv6.conf.br0.accept_dad=0 && ' +
        'ip addr add 192.0.2.1/24 dev br0 && ip addr add 2001:db8::1/64 dev br0 nodad',
    );
    for (const [ns, mac, port, own] of [
      [a, MAC_A, 'pa', '192.0.2.11/24'],
      [b, MAC_B, 'pb', '192.0.2.12/24'],
    ] as const) {
      await client.sh(
        `ip link add ${port} type veth peer name eth0 netns ${ns.name} address ${mac} && ` +
          `ip link set ${port} master br0 && ip link set ${port} up`,
      );
      await ns.sh(
        `sysctl -qw net.ipv6.conf.eth0.accept_dad=0 && ip link set eth0 up && ip addr add ${own} dev eth0`,
      );
    }
  } catch (e) {
    await destroy();
    throw e;
  }
  return { client, a, b, destroy };
}

/** tcpdump -w in a namespace; stop() ends it and returns the pcap path. */
export async function capture(ns: Netns, iface: string, filter: string) {
  const dir = mkdtempSync(join(tmpdir(), 'vip-cap-'));
  captureDirs.push(dir);
  const file = join(dir, 'cap.pcap');
  const child = spawn(
    'ip',
    ['netns', 'exec', ns.name, 'tcpdump', '--immediate-mode', '-i', iface, '-U', '-n', '-w', file, filter],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`tcpdump exited ${code}: ${err}`)));
  });
  return {
    file,
    async stop(): Promise<string> {
      const exited = once(child, 'exit');
      child.kill('SIGINT');
      await exited;
      return file;
    },
  };
}
