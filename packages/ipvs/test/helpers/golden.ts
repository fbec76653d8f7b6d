// Golden netlink messages derived by hand from include/uapi/linux/ip_vs.h
// (x86-64, little-endian). codec.test.ts checks our encoder produces them;
// the guest test sends them to the real kernel and checks what ipvsadm sees.
export const hex = (s: string) =>
  Uint8Array.from(s.replace(/#.*$/gm, '').replace(/\s+/g, '').match(/../g) ?? [], (b) =>
    Number.parseInt(b, 16),
  );

/** NEW_SERVICE (1) for TCP 192.0.2.50:80 wrr, family id 0x20, seq 1, REQUEST|ACK. */
export const GOLDEN_NEW_SERVICE = hex(`
  68000000 2000 0500 01000000 00000000   # nlmsghdr: len 104, type 0x20, flags REQUEST|ACK, seq 1, pid 0
  01010000                               # genlmsghdr: cmd NEW_SERVICE, version 1
  5400 0180                              # IPVS_CMD_ATTR_SERVICE with NLA_F_NESTED, 84 bytes
    0600 0100 0200 0000                  # AF = AF_INET (u16)
    0600 0200 0600 0000                  # PROTOCOL = IPPROTO_TCP (u16)
    1400 0300 c0000232 00000000 00000000 00000000   # ADDR: union nf_inet_addr, 16 bytes
    0600 0400 0050 0000                  # PORT = 80 (be16)
    0800 0600 77727200                   # SCHED_NAME "wrr" NUL
    0c00 0700 00000000 fdffffff          # FLAGS: struct ip_vs_flags, flags 0, mask all but HASHED
    0800 0800 00000000                   # TIMEOUT = 0
    0800 0900 ffffffff                   # NETMASK = 255.255.255.255 (be32)
`);

/** DEL_DEST (7): real server [2001:db8::21]:443 out of fwmark 8 (IPv6), seq 2. */
export const GOLDEN_DEL_DEST = hex(`
  50000000 2000 0500 02000000 00000000   # nlmsghdr: len 80
  07010000                               # DEL_DEST, version 1
  1400 0180                              # SERVICE, nested, 20 bytes
    0600 0100 0a00 0000                  # AF = AF_INET6
    0800 0500 08000000                   # FWMARK = 8
  2800 0280                              # DEST, nested, 40 bytes
    1400 0100 20010db8 00000000 00000000 00000021   # ADDR 2001:db8::21
    0600 0200 01bb 0000                  # PORT = 443 (be16)
    0600 0b00 0a00 0000                  # ADDR_FAMILY = AF_INET6
`);

/** GET_INFO reply (SET_INFO, 14): version 1.2.1, connection table 4096. */
export const GOLDEN_INFO_REPLY = hex(`
  24000000 2000 0000 09000000 00000000
  0e010000
  0800 0100 01020100                     # INFO_ATTR_VERSION = 0x010201
  0800 0200 00100000                     # INFO_ATTR_CONN_TAB_SIZE = 4096
`);

/** The same bytes with another family id (the kernel assigns it at module load). */
export function withFamily(msg: Uint8Array, familyId: number): Uint8Array {
  const out = Uint8Array.from(msg);
  new DataView(out.buffer).setUint16(4, familyId, true);
  return out;
}
