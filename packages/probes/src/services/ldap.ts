import { isIPv6 } from 'node:net';
import type { CheckResult, CheckTarget } from '../check.js';
import { CheckFailure, runService, type ServiceOptions } from './session.js';

/** The search base ldirectord uses: `request` without its first character (the slash). */
export function ldapBase(request: string | undefined): string {
  return (request ?? '').slice(1);
}

/**
 * service = ldap / ldaps, as ldirectord's Net::LDAP check: bind (as `login`
 * with `passwd` when both are set, else anonymously), read the entry named by
 * `request` (scope base, filter objectClass=*); up when exactly one entry
 * comes back and its DN matches `receive`. ldaps does not verify the
 * certificate. ldapts is loaded on first use.
 */
export function checkLdap(
  target: CheckTarget,
  o: ServiceOptions & { tls?: boolean } = {},
  signal?: AbortSignal,
): Promise<CheckResult> {
  return runService(o, signal, async (d) => {
    const { Client } = await import('ldapts');
    const host = isIPv6(target.host) ? `[${target.host}]` : target.host;
    const later = (o.timeout ?? 5) * 1000 + 1000; // our own deadline fires first
    const client = new Client({
      url: `${o.tls ? 'ldaps' : 'ldap'}://${host}:${target.port}`,
      timeout: later,
      connectTimeout: later,
      // ldapts talks TLS whenever tlsOptions is set, whatever the URL says.
      ...(o.tls ? { tlsOptions: { rejectUnauthorized: false } } : {}),
      strictDN: false,
    });
    const close = () => {
      client.unbind().catch(() => {});
    };
    d.signal.addEventListener('abort', close, { once: true });
    const said = (what: string) => (err: unknown) => {
      // A numeric code is an LDAP result code: the server answered, negatively.
      if (typeof (err as { code?: unknown })?.code === 'number') {
        throw new CheckFailure('bad-response', `${what}: ${(err as Error).message}`);
      }
      throw err;
    };
    try {
      if (o.login && o.passwd) await client.bind(o.login, o.passwd).catch(said('bind failed'));
      else await client.bind('', '').catch(said('anonymous bind failed'));
      const base = ldapBase(o.request);
      const { searchEntries } = await client
        .search(base, { scope: 'base', filter: '(objectClass=*)' })
        .catch(said(`search "${base}"`));
      if (searchEntries.length !== 1) {
        throw new CheckFailure('bad-response', `search "${base}": ${searchEntries.length} entries`);
      }
      const dn = searchEntries[0]?.dn ?? '';
      if (o.receive && !new RegExp(o.receive).test(dn))
        throw new CheckFailure('bad-response', `response mismatch: ${dn}`);
      return dn;
    } finally {
      d.signal.removeEventListener('abort', close);
      close();
    }
  });
}
