import type { CheckResult, CheckTarget } from '../check.js';
import { CheckFailure, runService, type ServiceOptions } from './session.js';
import { udpExchange } from './udp.js';

type RadiusLib = typeof import('radius');

/**
 * service = radius, as ldirectord's Authen::Radius check_pwd: an
 * Access-Request for `login`/`passwd` signed with `secret`; up only on an
 * Access-Accept whose authenticator proves the server knows the secret. An
 * Access-Reject (or a reply signed with another secret) is a bad response.
 * The radius codec is loaded on first use.
 */
export function checkRadius(
  target: CheckTarget,
  o: ServiceOptions = {},
  signal?: AbortSignal,
): Promise<CheckResult> {
  return runService(o, signal, async (d) => {
    const mod = (await import('radius')) as RadiusLib & { default?: RadiusLib };
    const radius = mod.default ?? mod;
    const secret = o.secret ?? '';
    const identifier = Math.floor(Math.random() * 256);
    // No Message-Authenticator, like Authen::Radius: the codec then insists
    // on one in the reply, which servers before the Blast-RADIUS fixes omit.
    const request = radius.encode({
      code: 'Access-Request',
      secret,
      identifier,
      attributes: [
        ['User-Name', o.login ?? ''],
        ['User-Password', o.passwd ?? ''],
      ],
    });
    const reply = await udpExchange(target, request, d.signal, (m) => m.length >= 20 && m[1] === identifier);
    if (!radius.verify_response({ response: reply, request, secret })) {
      throw new CheckFailure('bad-response', 'reply authenticator does not match the secret');
    }
    const packet = radius.decode({ packet: reply, secret });
    const message = packet.attributes?.['Reply-Message'];
    const detail = `${packet.code}${message ? `: ${String(message)}` : ''}`;
    if (packet.code !== 'Access-Accept') throw new CheckFailure('bad-response', detail);
    return detail;
  });
}
