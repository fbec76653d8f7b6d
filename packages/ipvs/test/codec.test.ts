import { describe, expect, it } from 'vitest';
import {
  canonicalAddress,
  DecodeError,
  decodeDestination,
  decodeIpvsMessage,
  decodeService,
  encodeDestination,
  encodeIpvsMessage,
  encodeOperation,
  encodeOperations,
  encodeService,
  InvalidArgumentError,
  IPVS_CMD,
  ipvsMessageLength,
  NLM_F,
  type Operation,
} from '../src/index.js';
import { GOLDEN_DEL_DEST, GOLDEN_INFO_REPLY, GOLDEN_NEW_SERVICE, hex } from './helpers/golden.js';

const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('golden byte vectors (from the uapi header)', () => {
  it('encodes NEW_SERVICE for TCP 192.0.2.50:80 wrr byte for byte', () => {
    const m = encodeIpvsMessage({
      familyId: 0x20,
      cmd: IPVS_CMD.NEW_SERVICE,
      seq: 1,
      flags: NLM_F.REQUEST | NLM_F.ACK,
      attrs: {
        service: encodeService({ protocol: 'tcp', address: '192.0.2.50', port: 80, scheduler: 'wrr' }),
      },
    });
    expect(toHex(m)).toBe(toHex(GOLDEN_NEW_SERVICE));
    expect(m.length).toBe(104);
    expect(ipvsMessageLength({ cmd: IPVS_CMD.NEW_SERVICE, attrs: decodeIpvsMessage(m).attrs })).toBe(104);
  });

  it('encodes DEL_DEST for an IPv6 real server of an IPv6 fwmark service', () => {
    const m = encodeOperation(
      {
        op: 'delete-destination',
        service: { fwmark: 8, family: 'inet6' },
        destination: { address: '2001:db8::21', port: 443 },
      },
      0x20,
    );
    const dv = new DataView(m.buffer);
    dv.setUint32(8, 2, true);
    expect(toHex(m)).toBe(toHex(GOLDEN_DEL_DEST));
  });

  it('decodes a GET_INFO reply (SET_INFO with version and table size)', () => {
    const m = decodeIpvsMessage(GOLDEN_INFO_REPLY);
    expect(m).toMatchObject({
      familyId: 0x20,
      cmd: IPVS_CMD.SET_INFO,
      seq: 9,
      attrs: { version: 0x010201, connTabSize: 4096 },
    });
  });

  it('round-trips every service option through encode and decode', () => {
    const spec = {
      protocol: 'udp' as const,
      address: '2001:db8::50',
      port: 53,
      scheduler: 'mh',
      persistent: 60,
      netmask: 64,
      onePacket: true,
      schedulerFlags: ['mh-fallback' as const, 'mh-port' as const],
      pe: 'sip',
    };
    const m = decodeIpvsMessage(
      encodeIpvsMessage({ familyId: 30, cmd: 1, attrs: { service: encodeService(spec) } }),
    );
    const s = decodeService(m.attrs.service ?? {});
    expect(s).toMatchObject({ ...spec, family: 'inet6', hashed: false, flags: 0x1 | 0x4 | 0x8 | 0x10 });
  });

  it('round-trips a tunnelled real server with GUE port and checksum', () => {
    const d = {
      address: '198.51.100.7',
      port: 8080,
      forward: 'ipip' as const,
      weight: 7,
      upperThreshold: 100,
      lowerThreshold: 10,
      tunnelType: 'gue' as const,
      tunnelPort: 6080,
      tunnelChecksum: 'remcsum' as const,
    };
    const m = decodeIpvsMessage(
      encodeIpvsMessage({ familyId: 30, cmd: 5, attrs: { dest: encodeDestination(d) } }),
    );
    expect(decodeDestination(m.attrs.dest ?? {})).toMatchObject({ ...d, family: 'inet' });
  });
});

describe('batch encoding', () => {
  it('encodes many operations into one buffer byte for byte as one at a time', () => {
    const web = { protocol: 'tcp' as const, address: '192.0.2.50', port: 80 };
    const v6 = { fwmark: 8, family: 'inet6' as const };
    const ops: Operation[] = [
      { op: 'add-service', service: { ...web, scheduler: 'wrr' } },
      ...Array.from({ length: 20 }, (_, i) => ({
        op: 'add-destination' as const,
        service: i % 2 ? web : v6,
        destination: { address: i % 2 ? `198.51.100.${i}` : `2001:db8::${i}`, port: 80, weight: i },
      })),
      {
        op: 'edit-destination',
        service: web,
        destination: {
          address: '198.51.100.1',
          port: 8080,
          forward: 'masq',
          weight: 0,
          upperThreshold: 100,
          lowerThreshold: 10,
        },
      },
      {
        op: 'add-destination',
        service: v6,
        destination: { address: '198.51.100.9', port: 0, forward: 'ipip', family: 'inet' },
      },
      {
        op: 'add-destination',
        service: web,
        destination: {
          address: '198.51.100.8',
          port: 80,
          forward: 'ipip',
          tunnelType: 'gue',
          tunnelPort: 6080,
        },
      },
      {
        op: 'add-destination',
        service: web,
        destination: { address: '198.51.100.7', port: 80, forward: 'local', weight: 2147483647 },
      },
      { op: 'delete-destination', service: web, destination: { address: '198.51.100.1', port: 80 } },
      { op: 'delete-service', service: v6 },
    ];
    const one = ops.map((op) => toHex(encodeOperation(op, 0x20)));
    expect(encodeOperations(ops, 0x20).map(toHex)).toEqual(one);
  });
});

describe('64-bit counters', () => {
  it('decode as numbers while exact and as bigints beyond 2^53', () => {
    const stats64 = { conns: 5, inbytes: 2n ** 53n - 1n, outbytes: 2n ** 64n - 1n };
    const m = encodeIpvsMessage({ familyId: 30, cmd: IPVS_CMD.NEW_SERVICE, attrs: { service: { stats64 } } });
    expect(decodeIpvsMessage(m).attrs.service?.stats64).toEqual({
      conns: 5,
      inbytes: 2 ** 53 - 1,
      outbytes: 2n ** 64n - 1n,
    });
  });
});

describe('typed decode errors', () => {
  it('reports truncation at every cut of a valid message', () => {
    for (let cut = 1; cut < GOLDEN_NEW_SERVICE.length; cut++) {
      const e = (() => {
        try {
          decodeIpvsMessage(GOLDEN_NEW_SERVICE.subarray(0, cut));
        } catch (err) {
          return err;
        }
      })();
      expect(e, `cut at ${cut}`).toBeInstanceOf(DecodeError);
      expect((e as DecodeError).code).toBe('DECODE');
    }
  });

  it('reports an attribute whose length does not fit its type, with the offset', () => {
    const bad = Uint8Array.from(GOLDEN_NEW_SERVICE);
    bad[24] = 5; // AF attribute claims 5 bytes: 1 byte of payload for a u16
    const e = (() => {
      try {
        decodeIpvsMessage(bad);
      } catch (err) {
        return err as DecodeError;
      }
    })();
    expect(e).toBeInstanceOf(DecodeError);
    expect(e?.offset).toBe(24);
    expect(e?.message).toMatch(/service\.af is 1 bytes, expected 2/);
  });

  it('skips attributes it does not know (a newer kernel)', () => {
    const m = hex(
      '2c000000 2000 0000 09000000 00000000 0e010000 08000100 01020100 08006300 ffffffff 08000200 00100000',
    );
    expect(decodeIpvsMessage(m).attrs).toEqual({ version: 0x010201, connTabSize: 4096 });
  });
});

describe('bad input is refused before anything is sent', () => {
  it.each([
    [{ protocol: 'tcp', address: '192.0.2.300', port: 80 }, /not an IPv4 or IPv6 address/],
    [{ protocol: 'tcp', address: '192.0.2.1', port: 70000 }, /service port/],
    [{ protocol: 'icmp', address: '192.0.2.1', port: 1 }, /protocol/],
    [{ fwmark: 0 }, /fwmark/],
    [
      { protocol: 'tcp', address: '192.0.2.1', port: 1, scheduler: 'a-very-long-scheduler-name' },
      /longer than 15/,
    ],
    [{ protocol: 'tcp', address: '192.0.2.1', port: 1, persistent: 10, netmask: '2001:db8::' }, /netmask/],
  ])('%j', (spec, why) => {
    expect(() => encodeOperation({ op: 'add-service', service: spec as never }, 1)).toThrow(
      InvalidArgumentError,
    );
    expect(() => encodeOperation({ op: 'add-service', service: spec as never }, 1)).toThrow(why);
  });
});

describe('addresses are formatted as inet_ntop does', () => {
  it.each([
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['::192.0.2.1', '::192.0.2.1'],
    ['2001:db8:1:2:3:4:5:0', '2001:db8:1:2:3:4:5:0'],
    ['fe80::', 'fe80::'],
    ['[2001:db8::50]', '2001:db8::50'],
  ])('%s → %s', (input, want) => {
    expect(canonicalAddress(input)).toBe(want);
  });
});
