// The hot paths: ipvs parses an address per real server of a table (10,000
// and more), vip formats every address of every rtnetlink notification.
import { bench, describe } from 'vitest';
import { formatIpv6, parseIp, parseIpv4, parseIpv6 } from '../src/index.js';

const v4 = Array.from({ length: 1000 }, (_, i) => `198.51.${i >> 8}.${i & 0xff}`);
const v6 = Array.from({ length: 1000 }, (_, i) => `2001:db8::${i.toString(16)}`);
const v6Bytes = v6.map((t) => parseIpv6(t)!);

describe('parse 1,000 addresses', () => {
  bench('parseIpv4 (bytes only)', () => {
    for (const t of v4) parseIpv4(t);
  });
  bench('parseIpv6 (bytes only)', () => {
    for (const t of v6) parseIpv6(t);
  });
  bench('parseIp IPv4 (bytes and canonical text)', () => {
    for (const t of v4) parseIp(t);
  });
  bench('parseIp IPv6 (bytes and canonical text)', () => {
    for (const t of v6) parseIp(t);
  });
});

describe('format 1,000 addresses', () => {
  bench('formatIpv6', () => {
    for (const b of v6Bytes) formatIpv6(b);
  });
});
