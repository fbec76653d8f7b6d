// ldirectord's own checks as a reference: the same spec, run by the check
// subs of Debian's /usr/sbin/ldirectord (test/servers/ldirectord-check.pl)
// inside the namespace, against the same real server.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Netns } from '@lvs-ha/lab';
import { type CheckSpec, type CheckTarget, proxyUri } from '../../src/index.js';

const script = join(dirname(fileURLToPath(import.meta.url)), 'ldirectord-check.pl');
const IDENTITY = 'ldirectord@probe.localdomain';

const SUBS: Record<string, [string, ...number[]]> = {
  http: ['check_http'],
  https: ['check_http'],
  http_proxy: ['check_http'],
  ftp: ['check_ftp'],
  smtp: ['check_smtp'],
  submission: ['check_smtp'],
  pop: ['check_pop', 0],
  pops: ['check_pop', 1],
  imap: ['check_imap'],
  imaps: ['check_imaps'],
  ldap: ['check_ldap'],
  ldaps: ['check_ldap'],
  nntp: ['check_nntp'],
  dns: ['check_dns'],
  sip: ['check_sip'],
  radius: ['check_radius'],
  simpletcp: ['check_simpletcp'],
};

/** ldirectord's virtual ($v) and real ($r) hashes for a spec, with its defaults. */
export function ldirectordArgs(spec: CheckSpec, target: CheckTarget) {
  const service = spec.service ?? 'http';
  const sub = SUBS[service];
  if (!sub) throw new Error(`no ldirectord reference for service ${service}`);
  const negotiatetimeout = spec.negotiatetimeout ?? spec.timeout ?? 5;
  const request = `/${(spec.request ?? '').replace(/^\//, '')}`;
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const url =
    service === 'http_proxy'
      ? proxyUri(target, spec.request)
      : `${service === 'https' ? 'https' : 'http'}://${host}:${target.port}${request}`;
  return {
    sub: sub[0],
    extra: sub.slice(1),
    v: {
      service,
      login: spec.login || (service === 'ftp' ? 'anonymous' : service === 'sip' ? IDENTITY : ''),
      passwd: spec.passwd || (service === 'ftp' ? IDENTITY : ''),
      secret: spec.secret ?? '',
      database: spec.database ?? '',
      negotiatetimeout,
      checktimeout: spec.timeout ?? negotiatetimeout,
      protocol: spec.protocol ?? 'tcp',
      httpmethod: spec.httpmethod ?? 'GET',
      ...(spec.virtualhost ? { virtualhost: spec.virtualhost } : {}),
    },
    r: { server: target.host, port: target.port, request, receive: spec.receive ?? '', url },
  };
}

/** Runs ldirectord's check for the spec inside the namespace: 'up' or 'down'. */
export async function ldirectordCheck(
  ns: Netns,
  spec: CheckSpec,
  target: CheckTarget,
  opts: { caFile?: string } = {},
): Promise<string> {
  // Perl's IO::Socket::SSL verifies certificates by default; caFile makes it trust the test's own.
  const env: Record<string, string> = opts.caFile ? { SSL_CERT_FILE: opts.caFile } : {};
  const r = await ns.exec(['perl', script, JSON.stringify(ldirectordArgs(spec, target))], {
    timeoutMs: 60_000,
    env,
  });
  const verdict = r.stdout.trim().split('\n').pop() ?? '';
  if (verdict !== 'up' && verdict !== 'down')
    throw new Error(`ldirectord check failed: ${r.stdout}${r.stderr}`);
  return verdict;
}
