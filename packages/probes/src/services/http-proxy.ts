import type { CheckResult, CheckTarget } from '../check.js';
import { CheckFailure, receiveMatches, runService, type ServiceOptions, TextSession } from './session.js';

/**
 * The absolute URI ldirectord asks the proxy for: `request` itself when it
 * is an http:// URI (a leading slash removed), else http://<real>:<port>/<request>.
 */
export function proxyUri(target: CheckTarget, request: string | undefined): string {
  const uri = (request ?? '/').replace(/^\/+/, '');
  if (/^http:\/\//i.test(uri)) return uri;
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `http://${host}:${target.port}/${uri}`;
}

/**
 * service = http_proxy, as ldirectord's LWP check with the real server as
 * the proxy: GET (or HEAD) the absolute URI through it; up when the status is
 * 2xx and the body (the headers for HEAD) matches `receive`.
 */
export function checkHttpProxy(
  target: CheckTarget,
  o: ServiceOptions = {},
  signal?: AbortSignal,
): Promise<CheckResult> {
  return runService(o, signal, async (d, seen) => {
    const uri = proxyUri(target, o.request);
    const method = o.httpmethod ?? 'GET';
    const host = new URL(uri).host;
    const s = await TextSession.open(target, { tls: false, signal: d.signal, seen });
    try {
      s.write(
        `${method} ${uri} HTTP/1.0\r\nHost: ${host}\r\nUser-Agent: lvs-ha-probes\r\nConnection: close\r\n\r\n`,
      );
      const response = await s.rest();
      const status = /^HTTP\/\d\.\d (\d{3})[^\r\n]*/.exec(response);
      if (!status?.[1]?.startsWith('2')) throw new CheckFailure('bad-response', response);
      const sep = response.indexOf('\r\n\r\n');
      const body = method === 'HEAD' || sep < 0 ? response : response.slice(sep + 4);
      if (!receiveMatches(body, o.receive)) throw new CheckFailure('bad-response', response);
      return status[0];
    } finally {
      s.close();
    }
  });
}
