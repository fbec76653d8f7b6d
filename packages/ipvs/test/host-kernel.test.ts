// A real generic-netlink socket on this machine's kernel: the family lookup
// answers either way, and where the kernel has no IPVS (this development
// machine's has none: the lab guest provides it) open() says so in words.
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { Ipvs, IpvsError } from '../src/index.js';

it('Ipvs.open() on this kernel resolves IPVS, or says the kernel has none', async () => {
  const hasIpvs = existsSync('/proc/net/ip_vs');
  const result = await Ipvs.open().then(
    (ipvs) => {
      const id = ipvs.familyId;
      ipvs.close();
      return id;
    },
    (e: unknown) => e,
  );
  if (hasIpvs) expect(result).toBeGreaterThanOrEqual(0x10);
  else {
    expect(result).toBeInstanceOf(IpvsError);
    expect(result).toMatchObject({
      code: 'NO_IPVS',
      message:
        'this kernel has no IPVS (generic netlink family "IPVS" not found): load it with `modprobe ip_vs`',
    });
  }
});
