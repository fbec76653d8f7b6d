import { randomBytes } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { CheckResult, CheckTarget } from '../check.js';
import {
  CheckFailure,
  ldirectordIdentity,
  receiveMatches,
  runService,
  type ServiceOptions,
  TextSession,
} from './session.js';
import { udpExchange } from './udp.js';

/** The OPTIONS request ldirectord sends, from `local` (address:port) to sip:<login>. */
export function sipOptionsRequest(
  login: string,
  local: string,
  transport: 'UDP' | 'TCP',
  callId: string,
): string {
  return (
    `OPTIONS sip:${login} SIP/2.0\r\n` +
    `Via: SIP/2.0/${transport} ${local};branch=z9hG4bK${callId.slice(0, 10)}\r\n` +
    'Max-Forwards: 70\r\n' +
    `To: <sip:${login}>\r\n` +
    `From: <sip:${login}>;tag=1928301774\r\n` +
    `Call-ID: ${callId}\r\n` +
    'CSeq: 63104 OPTIONS\r\n' +
    `Contact: <sip:${login}>\r\n` +
    'Accept: application/sdp\r\n' +
    'Content-Length: 0\r\n\r\n'
  );
}

/** The status line of a SIP response and its headers as text. */
export function parseSipResponse(
  text: string,
): { status: number; statusLine: string; head: string } | undefined {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const statusLine = head.split('\r\n', 1)[0] ?? '';
  const m = /^SIP\/2\.0 (\d{3})/.exec(statusLine);
  return m ? { status: Number(m[1]), statusLine, head } : undefined;
}

/**
 * service = sip, as ldirectord: OPTIONS sip:<login> (ldirectord@<hostname> by
 * default) over the virtual service's protocol (UDP unless tcp); up when the
 * final answer is "SIP/2.0 200 OK" (and matches `receive` when set — an
 * addition). Provisional 1xx answers are skipped.
 */
export function checkSip(
  target: CheckTarget,
  o: ServiceOptions = {},
  signal?: AbortSignal,
): Promise<CheckResult> {
  return runService(o, signal, async (d, seen) => {
    const login = o.login || ldirectordIdentity();
    const callId = randomBytes(8).toString('hex');
    let answer: { status: number; statusLine: string; head: string } | undefined;
    if (o.protocol === 'tcp') {
      const s = await TextSession.open(target, { tls: false, signal: d.signal, seen });
      try {
        const local = `${s.socket.localAddress}:${s.socket.localPort}`;
        s.write(sipOptionsRequest(login, local, 'TCP', callId));
        do {
          const head = await s.read((b) => {
            const i = b.indexOf('\r\n\r\n');
            return i < 0 ? -1 : i + 4;
          });
          answer = parseSipResponse(head);
          if (!answer) throw new CheckFailure('bad-response', head);
        } while (answer.status < 200);
      } finally {
        s.close();
      }
    } else {
      const reply = await udpExchange(
        target,
        (local) => {
          const host = isIPv6(local.address) ? `[${local.address}]` : local.address;
          return Buffer.from(sipOptionsRequest(login, `${host}:${local.port}`, 'UDP', callId), 'latin1');
        },
        d.signal,
        (m) => {
          const r = parseSipResponse(m.toString('latin1'));
          return r === undefined || r.status >= 200; // skip provisional answers
        },
      );
      const text = reply.toString('latin1');
      seen(text);
      answer = parseSipResponse(text);
      if (!answer) throw new CheckFailure('bad-response', text);
    }
    if (!/^SIP\/2\.0 200 OK/.test(answer.statusLine) || !receiveMatches(answer.head, o.receive)) {
      throw new CheckFailure('bad-response', answer.head);
    }
    return answer.statusLine;
  });
}
