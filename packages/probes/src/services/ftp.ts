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

/** Parses a 229 reply's "(|||port|)" (EPSV, RFC 2428) into the data port. */
export function parseEpsv(text: string): number | undefined {
  const m = /\((.)\1\1(\d{1,5})\1\)/.exec(text);
  const port = m ? Number(m[2]) : Number.NaN;
  return port > 0 && port < 65536 ? port : undefined;
}

/** Parses a 227 reply's "(h1,h2,h3,h4,p1,p2)" into the data port. */
export function parsePasv(text: string): number | undefined {
  const m = /(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/.exec(text);
  if (!m) return undefined;
  const hi = Number(m[5]);
  const lo = Number(m[6]);
  return hi < 256 && lo < 256 ? hi * 256 + lo : undefined;
}

/**
 * service = ftp, as ldirectord's Net::FTP check: log in (anonymous by
 * default), cwd /, binary, passive (EPSV for IPv6), RETR `request`; up when the file's
 * content matches `receive`. The data connection goes to the real server's
 * address rather than the one in the 227 reply (NAT-safe, like curl).
 */
export function checkFtp(
  target: CheckTarget,
  o: ServiceOptions = {},
  signal?: AbortSignal,
): Promise<CheckResult> {
  return runService(o, signal, async (d, seen) => {
    const s = await TextSession.open(target, { tls: false, signal: d.signal, seen });
    try {
      const expect = async (ok: (code: number) => boolean) => {
        const r = await s.reply();
        if (!ok(r.code)) throw new CheckFailure('bad-response', r.text);
        return r;
      };
      await expect((c) => c === 220);
      s.write(`USER ${o.login || 'anonymous'}\r\n`);
      const user = await expect((c) => c === 230 || c === 331);
      if (user.code === 331) {
        s.write(`PASS ${o.passwd || ldirectordIdentity()}\r\n`);
        await expect((c) => c === 230);
      }
      s.write('CWD /\r\n');
      await expect((c) => c === 250);
      s.write('TYPE I\r\n');
      await expect((c) => c === 200);
      // PASV has no room for an IPv6 address: EPSV there, as Net::FTP does.
      const v6 = isIPv6(target.host);
      s.write(v6 ? 'EPSV\r\n' : 'PASV\r\n');
      const pasv = await expect((c) => c === (v6 ? 229 : 227));
      const port = v6 ? parseEpsv(pasv.text) : parsePasv(pasv.text);
      if (port === undefined) throw new CheckFailure('bad-response', pasv.text);
      const data = await TextSession.open(
        { host: target.host, port },
        { tls: false, signal: d.signal, seen: () => {} },
      );
      try {
        s.write(`RETR ${(o.request ?? '').replace(/^\//, '')}\r\n`);
        await expect((c) => c === 150 || c === 125);
        const content = await data.rest();
        await expect((c) => c === 226 || c === 250);
        s.write('QUIT\r\n');
        if (!receiveMatches(content, o.receive)) throw new CheckFailure('bad-response', content);
        return content;
      } finally {
        data.close();
      }
    } finally {
      s.close();
    }
  });
}
