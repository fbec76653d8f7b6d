// Tables used by the guest scenario (and the host assertions on it).
import type { DesiredService } from '../../src/index.js';

export const SCHEDULERS = [
  'rr',
  'wrr',
  'lc',
  'wlc',
  'lblc',
  'lblcr',
  'dh',
  'sh',
  'sed',
  'nq',
  'fo',
  'ovf',
  'mh',
];

/** What we create with the binding: every scheduler, protocol, family, flag and forwarding method. */
export const OURS: DesiredService[] = [
  ...SCHEDULERS.map(
    (scheduler, i): DesiredService => ({
      protocol: 'tcp',
      address: `192.0.2.${100 + i}`,
      port: 80,
      scheduler,
      destinations: [
        { address: '198.51.100.21', port: 8080, weight: i + 1 },
        { address: '198.51.100.22', port: 80, weight: 0, forward: 'masq' },
        ...(scheduler === 'lc' ? [{ address: '198.51.100.23', port: 80, forward: 'local' as const }] : []),
      ],
    }),
  ),
  {
    protocol: 'udp',
    address: '192.0.2.50',
    port: 53,
    scheduler: 'sh',
    schedulerFlags: ['sh-fallback', 'sh-port'],
    persistent: 60,
    netmask: '255.255.255.0',
    onePacket: true,
    destinations: [
      { address: '198.51.100.30', port: 53, forward: 'ipip', tunnelType: 'gre', tunnelChecksum: 'remcsum' },
      {
        address: '198.51.100.31',
        port: 53,
        forward: 'ipip',
        tunnelType: 'gue',
        tunnelPort: 6080,
        tunnelChecksum: 'csum',
      },
      { address: '198.51.100.32', port: 53, forward: 'ipip', tunnelType: 'gue', tunnelPort: 6081 },
      { address: '198.51.100.33', port: 53, forward: 'ipip', upperThreshold: 100, lowerThreshold: 10 },
    ],
  },
  {
    protocol: 'sctp',
    address: '192.0.2.50',
    port: 9,
    scheduler: 'mh',
    schedulerFlags: ['mh-fallback', 'mh-port'],
    destinations: [{ address: '198.51.100.21', port: 9, weight: 65535 }],
  },
  {
    protocol: 'tcp',
    address: '192.0.2.51',
    port: 80,
    scheduler: 'rr',
    schedulerFlags: ['flag-1', 'flag-3'],
    destinations: [],
  },
  { protocol: 'tcp', address: '192.0.2.52', port: 0, scheduler: 'wlc', persistent: 10, destinations: [] },
  { fwmark: 7, scheduler: 'lc', persistent: 360, destinations: [{ address: '198.51.100.21', port: 0 }] },
  {
    fwmark: 8,
    family: 'inet6',
    scheduler: 'rr',
    persistent: 100,
    netmask: 64,
    destinations: [{ address: '2001:db8::1', port: 0 }],
  },
  {
    protocol: 'tcp',
    address: '2001:db8::50',
    port: 443,
    scheduler: 'wlc',
    persistent: 30,
    netmask: 64,
    destinations: [
      {
        address: '2001:db8::21',
        port: 443,
        weight: 3,
        forward: 'masq',
        upperThreshold: 50,
        lowerThreshold: 5,
      },
      { address: '2001:db8::22', port: 443, forward: 'ipip', tunnelType: 'gue', tunnelPort: 5555 },
      // An IPv4 real server of an IPv6 service: tunnelled, with its own address family.
      { address: '198.51.100.60', port: 443, forward: 'ipip', family: 'inet' },
    ],
  },
  {
    protocol: 'udp',
    address: '2001:db8::53',
    port: 53,
    scheduler: 'nq',
    destinations: [{ address: '2001:db8::21', port: 53, forward: 'gate', weight: 7 }],
  },
];

/** What ipvsadm creates (-R input): the same ground with ipvsadm's own spelling, thresholds included. */
export const IPVSADM_RULES = `${SCHEDULERS.map(
  (s, i) =>
    `-A -t 192.0.2.${200 + i}:8${i} -s ${s}\n-a -t 192.0.2.${200 + i}:8${i} -r 198.51.100.${10 + i}:80 -g -w ${i}\n-a -t 192.0.2.${200 + i}:8${i} -r 198.51.100.99 -m -w 2 -x ${i * 10} -y ${i}\n`,
).join('')}-A -u 192.0.2.60:53 -s sh -p -M 255.255.0.0 -o -b sh-fallback,sh-port
-a -u 192.0.2.60:53 -r 198.51.100.40:5353 -i --tun-type gue --tun-port 6080 --tun-csum
-a -u 192.0.2.60:53 -r 198.51.100.41:5353 -i --tun-type gre --tun-nocsum -w 4
-a -u 192.0.2.60:53 -r 198.51.100.42 -i
-A --sctp-service 192.0.2.60:9 -s mh -b mh-port
-a --sctp-service 192.0.2.60:9 -r 198.51.100.40:9 -g
-A -t 192.0.2.61:443 -s rr -b flag-2
-A -f 17 -s wrr -p 20
-a -f 17 -r 198.51.100.40:0 -g -w 9 -x 1000 -y 900
-A -f 18 -6 -s dh -p 45 -M 48
-a -f 18 -6 -r [2001:db8::40]:0 -m -w 1
-A -t [2001:db8::60]:80 -s lblc
-a -t [2001:db8::60]:80 -r [2001:db8::41]:80 -g -w 5
-a -t [2001:db8::60]:80 -r [2001:db8::42]:8080 -i --tun-type gue --tun-port 7000 --tun-remcsum
-A -u [2001:db8::60]:53 -s sed -p 5
`;
