import type { CheckResult, CheckTarget } from '../check.js';
import { CheckFailure, runService, type ServiceOptions, TextSession } from './session.js';

/**
 * service = pop / pops, as ldirectord's Mail::POP3Client check: the greeting
 * must be +OK; with a `login`, USER and PASS must both be accepted; QUIT.
 * pops talks TLS from the first byte, without verifying the certificate.
 */
export function checkPop(
  target: CheckTarget,
  o: ServiceOptions & { tls?: boolean } = {},
  signal?: AbortSignal,
): Promise<CheckResult> {
  return runService(o, signal, async (d, seen) => {
    const s = await TextSession.open(target, { tls: o.tls ?? false, signal: d.signal, seen });
    try {
      const expectOk = async (context: string) => {
        const l = await s.line();
        if (!l.startsWith('+OK')) throw new CheckFailure('bad-response', `${context}${l}`);
        return l;
      };
      const greeting = await expectOk('');
      if (o.login) {
        s.write(`USER ${o.login}\r\n`);
        await expectOk('USER: ');
        s.write(`PASS ${o.passwd ?? ''}\r\n`);
        await expectOk('PASS: ');
      }
      s.write('QUIT\r\n');
      return greeting;
    } finally {
      s.close();
    }
  });
}

/** Quotes a string for an IMAP command (RFC 3501 quoted string). */
export function imapQuote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * service = imap / imaps, as ldirectord's Net::IMAP::Simple check: the
 * greeting must be "* OK" (or PREAUTH); with a `login`, LOGIN must be
 * answered OK; LOGOUT. imaps talks TLS from the first byte.
 */
export function checkImap(
  target: CheckTarget,
  o: ServiceOptions & { tls?: boolean } = {},
  signal?: AbortSignal,
): Promise<CheckResult> {
  return runService(o, signal, async (d, seen) => {
    const s = await TextSession.open(target, { tls: o.tls ?? false, signal: d.signal, seen });
    try {
      const greeting = await s.line();
      if (!/^\* (OK|PREAUTH)/i.test(greeting)) throw new CheckFailure('bad-response', greeting);
      if (o.login) {
        s.write(`a1 LOGIN ${imapQuote(o.login)} ${imapQuote(o.passwd ?? '')}\r\n`);
        for (;;) {
          const l = await s.line();
          if (l.startsWith('* ')) continue; // untagged data before the answer
          if (!/^a1 OK/i.test(l)) throw new CheckFailure('bad-response', `LOGIN: ${l}`);
          break;
        }
      }
      s.write('a2 LOGOUT\r\n');
      return greeting;
    } finally {
      s.close();
    }
  });
}
