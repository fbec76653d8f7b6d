// ICMP echo the way checktype = ping does it, IPv4 and IPv6.
//   node --import tsx examples/probes-ping.ts [HOST...]   (default: 127.0.0.1 ::1)
import { isIPv6 } from 'node:net';
import { checkPing, pingMethod } from '@lvs-ha/probes';

const hosts = process.argv.length > 2 ? process.argv.slice(2) : ['127.0.0.1', '::1'];
for (const host of hosts) {
  const how = await pingMethod(isIPv6(host) ? 6 : 4); // ICMP datagram socket, or ping(8) where the kernel refuses one
  const r = await checkPing({ host }, { timeout: 1, checkcount: 2 });
  console.log(
    `${host}: ${r.ok ? 'up' : `down (${r.reason})`} via ${how} in ${r.durationMs.toFixed(1)} ms: ${r.detail}`,
  );
}
