import type { CheckResult, CheckTarget } from '../check.js';
import { CheckFailure, classifyError, runService, type ServiceOptions } from './session.js';

/** The query ldirectord runs: `request` without its leading slash. */
export function sqlQuery(request: string | undefined): string {
  return (request ?? '').replace(/^\//, '');
}

function needLoginAndQuery(o: ServiceOptions): string {
  const q = sqlQuery(o.request);
  if (!o.login || !q) {
    // ldirectord refuses such a configuration the same way: never up.
    throw new CheckFailure('error', 'mysql/pgsql checks need a login and a request (the query)');
  }
  return q;
}

/** A server's own error (bad login, unknown database, failing query) is a bad response. */
function serverSaid(err: unknown, what: string): never {
  const e = err as { code?: string; sqlState?: string; severity?: string; message?: string };
  const reason = classifyError(err);
  if (reason !== 'error') throw err;
  if (e?.sqlState !== undefined || e?.severity !== undefined || /^ER_/.test(e?.code ?? '')) {
    throw new CheckFailure('bad-response', `${what}: ${e.message ?? String(err)}`);
  }
  throw err;
}

/**
 * service = mysql, as ldirectord's DBI check: log in to `database` as
 * `login`/`passwd`, run `request`; up when it returns at least one row.
 * mysql2 is loaded on first use.
 */
export function checkMysql(
  target: CheckTarget,
  o: ServiceOptions = {},
  signal?: AbortSignal,
): Promise<CheckResult> {
  return runService(o, signal, async (d) => {
    const query = needLoginAndQuery(o);
    const { createConnection } = await import('mysql2');
    const conn = createConnection({
      host: target.host,
      port: target.port,
      user: o.login,
      password: o.passwd ?? '',
      database: o.database || undefined,
      connectTimeout: (o.timeout ?? 5) * 1000 + 1000, // our own deadline fires first
    });
    const close = () => conn.destroy();
    d.signal.addEventListener('abort', close, { once: true });
    conn.on('error', () => {});
    try {
      const rows = await new Promise<unknown>((resolve, reject) => {
        conn.query(query, (err, res) => (err ? reject(err) : resolve(res)));
      }).catch((err) => serverSaid(err, 'mysql'));
      const count = Array.isArray(rows) ? rows.length : 0;
      if (count < 1) throw new CheckFailure('bad-response', `mysql: "${query}" returned no rows`);
      return `mysql: ${count} row(s)`;
    } finally {
      d.signal.removeEventListener('abort', close);
      close();
    }
  });
}

/**
 * service = pgsql, the same check against PostgreSQL (node-postgres, loaded
 * on first use).
 */
export function checkPgsql(
  target: CheckTarget,
  o: ServiceOptions = {},
  signal?: AbortSignal,
): Promise<CheckResult> {
  return runService(o, signal, async (d) => {
    const query = needLoginAndQuery(o);
    const pg = await import('pg');
    const Client = pg.default?.Client ?? pg.Client;
    const client = new Client({
      host: target.host,
      port: target.port,
      user: o.login,
      password: o.passwd ?? '',
      database: o.database || undefined,
      connectionTimeoutMillis: (o.timeout ?? 5) * 1000 + 1000, // our own deadline fires first
    });
    client.on('error', () => {});
    // end() waits for the server; a hung server must not hold the check.
    const close = () => {
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      client.end().catch(() => {});
    };
    d.signal.addEventListener('abort', close, { once: true });
    try {
      await client.connect().catch((err) => serverSaid(err, 'pgsql'));
      const res = await client.query(query).catch((err) => serverSaid(err, 'pgsql'));
      const count = res.rowCount ?? res.rows.length;
      if (count < 1) throw new CheckFailure('bad-response', `pgsql: "${query}" returned no rows`);
      return `pgsql: ${count} row(s)`;
    } finally {
      d.signal.removeEventListener('abort', close);
      close();
    }
  });
}
