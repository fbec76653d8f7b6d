// The seed article's direct-routing service, made with the binding instead
// of ipvsadm: VIP 192.0.2.50:80, wrr, real servers rs1 and rs2 (gate).
// Run as root on a director (kernel with IPVS), e.g. in the lab:
//
//   ip netns exec load1 node --import tsx examples/ipvs-dr-service.ts 192.0.2.50 192.0.2.21 192.0.2.22
import { formatList, Ipvs } from '@lvs-ha/ipvs';

const [vip = '192.0.2.50', ...realServers] = process.argv.slice(2);
const servers = realServers.length ? realServers : ['192.0.2.21', '192.0.2.22'];

const ipvs = await Ipvs.open();
try {
  const web = { protocol: 'tcp', address: vip, port: 80 } as const;
  // reconcile: creates what is missing, leaves what is already right alone.
  const { operations } = await ipvs.reconcile(
    [
      {
        ...web,
        scheduler: 'wrr',
        destinations: servers.map((address) => ({ address, port: 80, weight: 5 })),
      },
    ],
    { owned: (s) => s.address === vip },
  );
  console.log(`${operations.length} change(s)`);
  process.stdout.write(formatList(await ipvs.getTable(), await ipvs.info()));
} finally {
  ipvs.close();
}
