import { isIP } from 'node:net';
import type { CheckResult, CheckTarget } from '../check.js';
import { CheckFailure, openSocket, runService, type ServiceOptions } from './session.js';
import { udpExchange } from './udp.js';

/** The name and type ldirectord's Net::DNS search asks for: PTR for an address, else A. */
export function dnsQuestion(request: string): { name: string; type: 'A' | 'PTR' } {
  const q = request.replace(/^\//, '');
  if (isIP(q) === 4) return { name: `${q.split('.').reverse().join('.')}.in-addr.arpa`, type: 'PTR' };
  if (isIP(q) === 6) {
    const full = expandIPv6(q);
    return { name: `${full.split('').reverse().join('.')}.ip6.arpa`, type: 'PTR' };
  }
  return { name: q, type: 'A' };
}

function expandIPv6(a: string): string {
  const [head = '', tail = ''] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.map((g) => g.padStart(4, '0')).join('');
}

/**
 * service = dns: one query (A, or PTR when `request` is an address) to the
 * real server, over UDP unless the virtual service is TCP; up when an A
 * record's address or a PTR record's name matches `receive`. An empty
 * `receive` never matches, as in ldirectord.
 */
export function checkDns(
  target: CheckTarget,
  o: ServiceOptions = {},
  signal?: AbortSignal,
): Promise<CheckResult> {
  return runService(o, signal, async (d, seen) => {
    const packet = await import('dns-packet');
    const q = dnsQuestion(o.request ?? '');
    const id = Math.floor(Math.random() * 65536);
    const query = packet.encode({
      type: 'query',
      id,
      flags: packet.RECURSION_DESIRED,
      questions: [{ type: q.type, name: q.name, class: 'IN' }],
    });
    let raw: Buffer;
    if (o.protocol === 'tcp') {
      const sock = await openSocket(target, false, d.signal);
      try {
        raw = await new Promise<Buffer>((resolve, reject) => {
          let buf = Buffer.alloc(0);
          sock.on('data', (c: Buffer) => {
            buf = Buffer.concat([buf, c]);
            if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) resolve(buf.subarray(2));
          });
          sock.on('end', () =>
            reject(new CheckFailure('bad-response', 'connection closed without an answer')),
          );
          sock.on('error', reject);
          d.signal.addEventListener('abort', () => reject(d.signal.reason), { once: true });
          sock.write(packet.streamEncode(packet.decode(query)));
        });
      } finally {
        sock.destroy();
      }
    } else {
      raw = await udpExchange(target, query, d.signal, (m) => m.length >= 2 && m.readUInt16BE(0) === id);
    }
    let answer: ReturnType<typeof packet.decode>;
    try {
      answer = packet.decode(raw);
    } catch (err) {
      throw new CheckFailure('bad-response', `undecodable DNS answer: ${(err as Error).message}`);
    }
    const found = (answer.answers ?? [])
      .filter((a) => a.type === 'A' || a.type === 'PTR')
      .map((a) => `${a.type} ${String((a as { data: unknown }).data)}`);
    const detail = `${(answer as { rcode?: string }).rcode ?? ''} ${q.type} ${q.name}: ${found.join(', ') || 'no answer'}`;
    seen(detail);
    const receive = o.receive ?? '';
    const re = new RegExp(receive);
    const match = receive !== '' && found.some((f) => re.test(f.slice(f.indexOf(' ') + 1)));
    if (!match) throw new CheckFailure('bad-response', detail);
    return detail;
  });
}
