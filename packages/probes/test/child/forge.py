# Forged TCP replies for the half-open tests: COUNT segments from SRC:SPORT to
# DST:DPORT with random sequence and acknowledgement numbers, alternately
# SYN-ACK and RST-ACK, checksums right (a raw IPPROTO_TCP socket; the kernel
# writes the IPv4 header).
#   python3 forge.py SRC SPORT DST DPORT COUNT
import random
import socket
import struct
import sys

src, sport, dst, dport, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
s.bind((src, 0))


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t > 0xFFFF:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF


for i in range(count):
    flags = 0x12 if i % 2 == 0 else 0x14
    seq, ack = random.getrandbits(32), random.getrandbits(32)
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(hdr))
    hdr = hdr[:16] + struct.pack("!H", checksum(pseudo + hdr)) + hdr[18:]
    s.sendto(hdr, (dst, 0))
print("sent", count)
