// A director of the pair as a library: what `lvs-ha start` wires up, in a
// few lines. Reads Heartbeat's files (ha.cf, authkeys, haresources) from
// DIR, joins the cluster as NODE and holds what the hand-over gives it (the
// VIPs, ldirectord, resource scripts); SIGTERM leaves cleanly (resources
// released, then the peer told). Needs root (VIPs), and a network the ha.cf
// media name: examples run it in network namespaces (test/example.netns.test.ts
// of @lvs-ha/cluster).
//   node --import tsx examples/cluster-node.ts DIR NODE
import { ClusterNode } from '@lvs-ha/cluster';
import { loadConfigDir } from '@lvs-ha/ha-config';

const [dir = '/etc/ha.d', name = 'load1'] = process.argv.slice(2);
const node = new ClusterNode({ config: await loadConfigDir(dir), node: name });
node.on('log', (line) => console.log(line));
node.on('failed', () => process.exit(1));
process.once('SIGTERM', () => void node.stop().then(() => console.log('stopped')));
await node.start();
