import { hostname } from 'node:os';
import type { CheckResult, CheckTarget } from '../check.js';
import { CheckFailure, receiveMatches, runService, type ServiceOptions, TextSession } from './session.js';

/**
 * service = smtp / submission, as ldirectord's Net::SMTP check: the greeting
 * must be 2xx and EHLO (or HELO when EHLO is refused) accepted, then QUIT.
 * ldirectord ignores `receive` here; when set, we also match it against the
 * greeting (an addition, off by default).
 */
export function checkSmtp(
  target: CheckTarget,
  o: ServiceOptions = {},
  signal?: AbortSignal,
): Promise<CheckResult> {
  return runService(o, signal, async (d, seen) => {
    const s = await TextSession.open(target, { tls: false, signal: d.signal, seen });
    try {
      const greeting = await s.reply();
      if (greeting.code < 200 || greeting.code > 299) throw new CheckFailure('bad-response', greeting.text);
      if (!receiveMatches(greeting.text, o.receive)) throw new CheckFailure('bad-response', greeting.text);
      const me = hostname() || 'localhost';
      s.write(`EHLO ${me}\r\n`);
      let hello = await s.reply();
      if (hello.code !== 250) {
        s.write(`HELO ${me}\r\n`);
        hello = await s.reply();
        if (hello.code !== 250) throw new CheckFailure('bad-response', `${greeting.text}${hello.text}`);
      }
      s.write('QUIT\r\n');
      return greeting.text.trim();
    } finally {
      s.close();
    }
  });
}
