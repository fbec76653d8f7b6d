// Frame and unframe netlink messages with no socket: a request, then the
// three answers a kernel gives (an ACK, an error echoing the request, the
// DONE that ends a dump), split and read back as a netlink socket user would.
//   node --import tsx examples/netlink-frame-decode.ts
import {
  decodeDoneErrno,
  decodeErrorPayload,
  decodeNetlinkMessages,
  encodeDoneMessage,
  encodeErrorMessage,
  encodeNetlinkMessage,
  NetlinkDecodeError,
  NLM_F,
  NLMSG,
} from '@lvs-ha/netlink-frame';

const RTM_NEWADDR = 20;
const EEXIST = 17;
const request = encodeNetlinkMessage(
  { type: RTM_NEWADDR, flags: NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, seq: 7 },
  new Uint8Array(8), // struct ifaddrmsg (attributes left out)
);
console.log(`request: ${request.length} bytes`);

// One datagram may carry several messages; these three are concatenated.
const answers = [
  encodeErrorMessage(7, 0, request),
  encodeErrorMessage(7, EEXIST, request),
  encodeDoneMessage(8),
];
const datagram = Buffer.concat(answers);

for (const m of decodeNetlinkMessages(datagram)) {
  if (m.header.type === NLMSG.ERROR) {
    const { errno } = decodeErrorPayload(m.payload);
    console.log(`seq ${m.header.seq} at ${m.offset}: ${errno === 0 ? 'ACK' : `error errno ${errno}`}`);
  } else if (m.header.type === NLMSG.DONE) {
    console.log(`seq ${m.header.seq} at ${m.offset}: DONE, errno ${decodeDoneErrno(m.payload)}`);
  }
}

// A datagram cut short is a typed error with the offset, not a wrong answer.
try {
  decodeNetlinkMessages(datagram.subarray(0, 30));
} catch (e) {
  if (!(e instanceof NetlinkDecodeError)) throw e;
  console.log(`truncated: ${e.code} at byte ${e.offset}: ${e.reason}`);
}
