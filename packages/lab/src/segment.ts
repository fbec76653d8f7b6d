// A small Ethernet segment for cluster tests: one namespace per node, each
// with eth0 on a bridge that lives in a separate "switch" namespace (so
// killing every process of a node's namespace never touches the capture or
// the other nodes). Addresses come from 192.0.2.0/24 with their broadcast,
// and 2001:db8::/64.
import { bridge, Netns, veth } from './netns.js';

export interface Segment {
  nodes: Netns[];
  switchNs: Netns;
  /** address of node i (192.0.2.(i+1)) */
  addresses: string[];
  broadcast: string;
  destroy(): Promise<void>;
}

export async function segment(labels: readonly string[]): Promise<Segment> {
  const all = await Netns.createMany([...labels, 'sw']);
  const switchNs = all[all.length - 1] as Netns;
  const nodes = all.slice(0, -1);
  const addresses: string[] = [];
  const ports: string[] = [];
  for (const [i, ns] of nodes.entries()) {
    const port = `p${i}`;
    await veth(ns, 'eth0', switchNs, port);
    const address = `192.0.2.${i + 1}`;
    await ns.addAddress('eth0', `${address}/24`, ['brd', '+']);
    // and 2001:db8::(i+1), without duplicate address detection's delay
    await ns.addAddress('eth0', `2001:db8::${i + 1}/64`, ['nodad']);
    addresses.push(address);
    ports.push(port);
  }
  await bridge(switchNs, 'br0', ports);
  return {
    nodes,
    switchNs,
    addresses,
    broadcast: '192.0.2.255',
    async destroy() {
      for (const ns of all) await ns.destroy();
    },
  };
}
