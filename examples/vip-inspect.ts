// Read-only look at a machine from a VIP's point of view: its links and
// addresses, which interface would take the VIP (IPaddr's subnet rule),
// and whether another host already answers for it. For example:
//
//   ip netns exec load1 pnpm --filter @lvs-ha/vip exec tsx ../../examples/vip-inspect.ts 192.0.2.50
import {
  findInterfaceFor,
  listAddresses,
  listLinks,
  NoMatchingInterfaceError,
  probeAddress,
} from '@lvs-ha/vip';

const vip = process.argv[2] ?? '192.0.2.50';

for (const link of await listLinks()) {
  const addrs = await listAddresses({ interface: link.name });
  const list = addrs.map(
    (a) => `${a.address.text}/${a.prefixLength}${a.label && a.label !== link.name ? ` (${a.label})` : ''}`,
  );
  console.log(
    `${link.name.padEnd(10)} ${link.up ? 'UP  ' : 'DOWN'} ${link.mac.padEnd(17)} ${list.join(' ')}`,
  );
}

try {
  const where = await findInterfaceFor(vip);
  console.log(
    `${vip} would go on ${where.interface} as /${where.prefixLength} (subnet of ${where.via.address.text})`,
  );
  const probe = await probeAddress({ address: vip, interface: where.interface });
  console.log(
    probe.inUse
      ? `${vip} is already answered for by ${probe.holders.map((h) => h.mac).join(', ')}`
      : `nobody on ${where.interface} answers for ${vip}`,
  );
} catch (e) {
  if (!(e instanceof NoMatchingInterfaceError)) throw e;
  console.log(e.message);
}
