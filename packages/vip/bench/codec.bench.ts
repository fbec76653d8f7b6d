// The hot paths: decoding every rtnetlink notification the watcher reads
// (a burst is thousands), and building announcement frames.
import { bench, describe } from 'vitest';
import {
  decodeAddressMessage,
  decodeArpFrame,
  decodeNeighborDiscoveryFrame,
  decodeNetlinkMessages,
  encodeAddressMessage,
  encodeNetlinkMessage,
  gratuitousArp,
  NLM_F,
  parseIp,
  parseMac,
  RTM,
  unsolicitedNeighborAdvertisement,
} from '../src/index.js';

const mac = parseMac('02:00:5e:00:53:0a');
const v4 = parseIp('192.0.2.50');
const v6 = parseIp('2001:db8::50');
const newaddr = encodeNetlinkMessage(
  { type: RTM.NEWADDR, flags: NLM_F.REQUEST, seq: 1 },
  encodeAddressMessage({
    family: 4,
    prefixLength: 24,
    flags: 0,
    scope: 0,
    index: 2,
    local: v4,
    address: v4,
    label: 'eth0:0',
    broadcast: parseIp('192.0.2.255'),
  }),
);
// A datagram of 32 notifications, as the watcher reads under load.
const datagram = new Uint8Array(newaddr.length * 32);
for (let i = 0; i < 32; i++) datagram.set(newaddr, i * newaddr.length);
const arp = gratuitousArp('request', mac, v4);
const na = unsolicitedNeighborAdvertisement(mac, v6);

describe('rtnetlink', () => {
  bench('decode a 32-message notification datagram (per datagram)', () => {
    for (const m of decodeNetlinkMessages(datagram)) decodeAddressMessage(m.payload);
  });
  bench('encode RTM_NEWADDR request', () => {
    encodeNetlinkMessage(
      { type: RTM.NEWADDR, flags: NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, seq: 7 },
      encodeAddressMessage({
        family: 4,
        prefixLength: 32,
        flags: 0,
        scope: 0,
        index: 2,
        local: v4,
        address: v4,
      }),
    );
  });
});

describe('frames', () => {
  bench('build gratuitous ARP', () => {
    gratuitousArp('reply', mac, v4);
  });
  bench('build unsolicited NA (with checksum)', () => {
    unsolicitedNeighborAdvertisement(mac, v6);
  });
  bench('decode ARP', () => {
    decodeArpFrame(arp);
  });
  bench('decode NA (verify checksum)', () => {
    decodeNeighborDiscoveryFrame(na);
  });
});
