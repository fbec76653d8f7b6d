import {
  type CheckResult,
  type CheckTarget,
  checkConnect,
  checkExternal,
  checkFixed,
  checkHttp,
  checkSimpleTcp,
} from './check.js';
import { checkPing } from './ping.js';
import { checkDns } from './services/dns.js';
import { checkFtp } from './services/ftp.js';
import { checkHttpProxy } from './services/http-proxy.js';
import { checkLdap } from './services/ldap.js';
import { checkImap, checkPop } from './services/mail.js';
import { checkNntp } from './services/nntp.js';
import { checkRadius } from './services/radius.js';
import type { ServiceOptions } from './services/session.js';
import { checkSip } from './services/sip.js';
import { checkSmtp } from './services/smtp.js';
import { checkMysql, checkPgsql } from './services/sql.js';

export type CheckType =
  | 'connect'
  | 'negotiate'
  | 'ping'
  | 'external'
  | 'external-perl'
  | 'on'
  | 'off'
  | number;
export type Service =
  | 'http'
  | 'https'
  | 'http_proxy'
  | 'simpletcp'
  | 'ftp'
  | 'smtp'
  | 'submission'
  | 'pop'
  | 'pops'
  | 'imap'
  | 'imaps'
  | 'mysql'
  | 'pgsql'
  | 'ldap'
  | 'ldaps'
  | 'radius'
  | 'sip'
  | 'nntp'
  | 'dns'
  | 'none';

export interface CheckSpec extends ServiceOptions {
  checktype: CheckType;
  service?: Service;
  /** Seconds for negotiate checks; defaults to `timeout`, as ldirectord(8) says. */
  negotiatetimeout?: number;
}

/** ldirectord's defaults when neither timeout is set (ld_setup). */
const DEFAULT_CHECKTIMEOUT = 5;
const DEFAULT_NEGOTIATETIMEOUT = 30;

/** checktimeout and negotiatetimeout default to each other, then to 5 and 30 s, as in ldirectord. */
export function ldirectordTimeouts(spec: { timeout?: number; negotiatetimeout?: number }): {
  timeout: number;
  negotiatetimeout: number;
} {
  return {
    timeout: spec.timeout ?? spec.negotiatetimeout ?? DEFAULT_CHECKTIMEOUT,
    negotiatetimeout: spec.negotiatetimeout ?? spec.timeout ?? DEFAULT_NEGOTIATETIMEOUT,
  };
}

/**
 * Runs one check as ldirectord would. `round` counts this server's checks from
 * 0: with the numeric checktype N the first check negotiates, then N connect
 * checks, then a negotiate again (rounds 0, N+1, 2N+2…; the Monitor also makes
 * the check after a failed connect negotiate, as ldirectord does). A connect
 * check of a UDP service is a ping; checktimeout and negotiatetimeout default
 * to each other, then to 5 and 30 s.
 */
export function runCheck(
  spec: CheckSpec,
  target: CheckTarget,
  round = 0,
  signal?: AbortSignal,
): Promise<CheckResult> {
  const t = spec.checktype;
  const timeouts = ldirectordTimeouts(spec);
  if (t === 'on') return Promise.resolve(checkFixed(true));
  if (t === 'off') return Promise.resolve(checkFixed(false));
  const connectOpts = { ...spec, timeout: timeouts.timeout };
  if (t === 'ping') return checkPing(target, connectOpts, signal);
  if (t === 'external') return checkExternal(target, connectOpts, signal);
  if (t === 'external-perl') return checkExternal(target, { ...connectOpts, perl: true }, signal);
  const negotiate = t === 'negotiate' || (typeof t === 'number' && round % (t + 1) === 0);
  if (!negotiate) {
    return spec.protocol === 'udp'
      ? checkPing(target, connectOpts, signal)
      : checkConnect(target, connectOpts, signal);
  }
  // service = none is ldirectord's check_none: it only stands in for the negotiate step.
  if (spec.service === 'none') return Promise.resolve(checkFixed(true));
  const opts = { ...spec, timeout: timeouts.negotiatetimeout };
  switch (spec.service ?? 'http') {
    case 'https':
      return checkHttp(target, { ...opts, tls: true }, signal);
    case 'simpletcp':
      return checkSimpleTcp(target, opts, signal);
    case 'ftp':
      return checkFtp(target, opts, signal);
    case 'smtp':
    case 'submission':
      return checkSmtp(target, opts, signal);
    case 'pop':
    case 'pops':
      return checkPop(target, { ...opts, tls: spec.service === 'pops' }, signal);
    case 'imap':
    case 'imaps':
      return checkImap(target, { ...opts, tls: spec.service === 'imaps' }, signal);
    case 'mysql':
      return checkMysql(target, opts, signal);
    case 'pgsql':
      return checkPgsql(target, opts, signal);
    case 'ldap':
    case 'ldaps':
      return checkLdap(target, { ...opts, tls: spec.service === 'ldaps' }, signal);
    case 'radius':
      return checkRadius(target, opts, signal);
    case 'sip':
      return checkSip(target, opts, signal);
    case 'nntp':
      return checkNntp(target, opts, signal);
    case 'http_proxy':
      return checkHttpProxy(target, opts, signal);
    case 'dns':
      return checkDns(target, opts, signal);
    default:
      return checkHttp(target, opts, signal);
  }
}
