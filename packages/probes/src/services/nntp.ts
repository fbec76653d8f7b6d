import type { CheckResult, CheckTarget } from '../check.js';
import { CheckFailure, receiveMatches, runService, type ServiceOptions, TextSession } from './session.js';

/**
 * service = nntp, as ldirectord: connect and read the greeting; up when it
 * starts with 2 (200 posting allowed, 201 read-only). ldirectord ignores
 * `receive`; when set we also match it against the greeting (an addition).
 */
export function checkNntp(
  target: CheckTarget,
  o: ServiceOptions = {},
  signal?: AbortSignal,
): Promise<CheckResult> {
  return runService(o, signal, async (d, seen) => {
    const s = await TextSession.open(target, { tls: false, signal: d.signal, seen });
    try {
      const greeting = await s.line();
      if (!greeting.startsWith('2') || !receiveMatches(greeting, o.receive)) {
        throw new CheckFailure('bad-response', greeting);
      }
      s.write('QUIT\r\n');
      return greeting;
    } finally {
      s.close();
    }
  });
}
