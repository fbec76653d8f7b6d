// The HTTP API of a running `lvs-ha start`: Node's http server on the
// control socket (a Unix socket, mode 0600: root's alone, as Heartbeat's
// own API is haclient's) and, when asked, on a TCP address. TCP is
// read-only unless started with writes allowed and a token; then a write
// needs `Authorization: Bearer <token>`. Every answer is JSON (or what a
// route writes itself, as /metrics); every error is
// `{ "error": { "code", "message" } }` with a fitting HTTP status.
import { timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, unlink } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';

export interface ApiRoute {
  method: 'GET' | 'POST';
  /** exact path, e.g. '/metrics' */
  path: string;
  /** true: refused on a read-only listener, needs the token on TCP */
  write?: boolean;
  /** one line for the endpoint table of `GET /api` (optional) */
  summary?: string;
  handle(req: IncomingMessage, res: ServerResponse, url: URL, listener: ApiListener): void | Promise<void>;
}

/** What the listener a request came in on allows (the status page shows its write buttons by it). */
export interface ApiListener {
  /** Writes are taken here (the Unix socket; TCP with --allow-writes). */
  writes: boolean;
  /** Writes need `Authorization: Bearer <token>` here (TCP with --allow-writes). */
  token: boolean;
}

/** The stable codes of the API's errors, each with its HTTP status. */
export const API_ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  READ_ONLY: 403,
  FAULT_INJECTION_OFF: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  TOO_LARGE: 413,
  INTERNAL: 500,
  STARTING: 503,
  STOPPING: 503,
} as const;
export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

/** An error a route answers with: its code picks the HTTP status; the message says where and why. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }
  get status(): number {
    return API_ERROR_STATUS[this.code];
  }
}

/** The errors of setting the API up: IN_USE another node answers on the socket, LISTEN a bad address or token file. */
export class ApiListenError extends Error {
  override readonly name = 'ApiListenError';
  constructor(
    readonly code: 'IN_USE' | 'LISTEN',
    message: string,
  ) {
    super(message);
  }
}

/** Writes `body` as JSON with `status`. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/** Writes an error in the API's one shape. */
export function sendError(res: ServerResponse, e: ApiError, headers: Record<string, string> = {}): void {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  sendJson(res, e.status, { error: { code: e.code, message: e.message } });
}

/** Parses a request body's text: empty is {}, otherwise one JSON object (an ApiError BAD_REQUEST if not). */
export function parseJsonBody(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ApiError('BAD_REQUEST', `the body is not JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ApiError('BAD_REQUEST', 'the body is one JSON object');
  return v as Record<string, unknown>;
}

/** Reads a request's body (at most `limit` bytes) as one JSON object. */
export async function readJsonBody(req: IncomingMessage, limit = 65_536): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new ApiError('TOO_LARGE', `a body is at most ${limit} bytes`);
    chunks.push(c as Buffer);
  }
  return parseJsonBody(Buffer.concat(chunks).toString('utf8'));
}

/** Whether an Authorization header carries `token` as a Bearer token, compared in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer +(\S+)\s*$/i.exec(header ?? '');
  const want = Buffer.from(token, 'utf8');
  const got = Buffer.from(m?.[1] ?? '', 'utf8');
  // only the length may show; the bytes are compared in constant time
  if (want.length === 0 || got.length !== want.length) return false;
  return timingSafeEqual(got, want);
}

/** `HOST:PORT` or `[V6]:PORT` of --listen, as a host and a port. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || !(Number.isInteger(port) && port >= 0 && port <= 65_535))
    throw new ApiListenError(
      'LISTEN',
      `--listen needs HOST:PORT or [IPV6]:PORT, got ${JSON.stringify(text)}`,
    );
  return { host: m[1] as string, port };
}

/** What one listener allows: on the Unix socket everything (its mode is the guard); on TCP reads, and writes only with the token. */
export interface ApiAccess {
  writes: boolean;
  token?: string;
}

/**
 * The route for a request, or the ApiError to answer with. Pure: the
 * routing and the access rules, tested without a socket.
 */
export function routeRequest(
  routes: readonly ApiRoute[],
  method: string,
  path: string,
  authorization: string | undefined,
  access: ApiAccess,
): ApiRoute | ApiError {
  const same = routes.filter((r) => r.path === path);
  if (same.length === 0) return new ApiError('NOT_FOUND', `no endpoint ${path} (GET /api lists them)`);
  const route = same.find((r) => r.method === method || (method === 'HEAD' && r.method === 'GET'));
  if (!route)
    return new ApiError(
      'METHOD_NOT_ALLOWED',
      `${path} takes ${same.map((r) => r.method).join(' or ')}, not ${method}`,
    );
  if (route.write && !access.writes)
    return new ApiError(
      'READ_ONLY',
      `${route.method} ${path} changes the node: this listener is read-only (--allow-writes --token-file)`,
    );
  if (route.write && access.token !== undefined && !bearerMatches(authorization, access.token))
    return new ApiError('UNAUTHORIZED', `${route.method} ${path} needs Authorization: Bearer <token>`);
  return route;
}

function handler(routes: readonly ApiRoute[], access: ApiAccess) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://lvs-ha');
    const route = routeRequest(routes, req.method ?? 'GET', url.pathname, req.headers.authorization, access);
    if (route instanceof ApiError) {
      const allow = routes.filter((r) => r.path === url.pathname).map((r) => r.method);
      req.resume();
      sendError(
        res,
        route,
        route.code === 'METHOD_NOT_ALLOWED'
          ? { allow: allow.join(', ') }
          : route.code === 'UNAUTHORIZED'
            ? { 'www-authenticate': 'Bearer realm="lvs-ha"' }
            : {},
      );
      return;
    }
    Promise.resolve()
      .then(() => route.handle(req, res, url, { writes: access.writes, token: access.token !== undefined }))
      .catch((e: unknown) => {
        const err = e instanceof ApiError ? e : new ApiError('INTERNAL', (e as Error)?.message ?? String(e));
        if (!res.headersSent) sendError(res, err);
        else res.destroy();
      });
  };
}

/** The endpoints, for `GET /api`. */
function indexRoute(routes: () => readonly ApiRoute[]): ApiRoute {
  return {
    method: 'GET',
    path: '/api',
    summary: 'this list',
    handle(_req, res) {
      sendJson(res, 200, {
        endpoints: routes().map((r) => ({
          method: r.method,
          path: r.path,
          write: r.write === true,
          ...(r.summary && { summary: r.summary }),
        })),
      });
    },
  };
}

export interface ApiServerOptions {
  /** The control socket's path. */
  socketPath: string;
  routes: readonly ApiRoute[];
  /** Also listen on TCP (read-only unless `allowWrites` and a `token`). */
  tcp?: { host: string; port: number; allowWrites?: boolean; token?: string };
}

export interface ApiServer {
  /** The TCP address when listening there (port 0 gets one chosen by the kernel). */
  readonly tcpAddress?: { host: string; port: number };
  close(): Promise<void>;
}

function listen(server: Server, arg: string | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      resolve();
    };
    if (typeof arg === 'string') server.listen(arg, done);
    else server.listen(arg.port, arg.host, done);
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // a client waiting on a long answer (drain --wait) does not hold the stop
    server.closeAllConnections();
  });
}

/**
 * Serves `routes` on the control socket (and TCP when asked). A socket file
 * left by a node that died is replaced; one that answers is another node's
 * (ApiListenError IN_USE), so a second `lvs-ha start` stops before it joins.
 * close() removes the file.
 */
export async function serveApi(o: ApiServerOptions): Promise<ApiServer> {
  const path = o.socketPath;
  if (o.tcp?.allowWrites && !o.tcp.token)
    throw new ApiListenError('LISTEN', 'writes on TCP need a token (--token-file)');
  const alive = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (alive) throw new ApiListenError('IN_USE', `${path}: another lvs-ha start answers there`);
  await unlink(path).catch(() => undefined);
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const all: ApiRoute[] = [];
  all.push(
    indexRoute(() => all),
    ...o.routes,
  );
  const unix = createServer(handler(all, { writes: true }));
  await listen(unix, path);
  await chmod(path, 0o600);
  let tcp: Server | undefined;
  let tcpAddress: { host: string; port: number } | undefined;
  if (o.tcp) {
    const t = o.tcp;
    tcp = createServer(
      handler(all, t.allowWrites ? { writes: true, token: t.token as string } : { writes: false }),
    );
    try {
      await listen(tcp, t);
    } catch (e) {
      await closeServer(unix);
      await unlink(path).catch(() => undefined);
      throw new ApiListenError('LISTEN', `--listen ${t.host}:${t.port}: ${(e as Error).message}`);
    }
    const a = tcp.address();
    if (a && typeof a === 'object') tcpAddress = { host: a.address, port: a.port };
  }
  return {
    ...(tcpAddress && { tcpAddress }),
    close: async () => {
      await Promise.all([closeServer(unix), tcp ? closeServer(tcp) : undefined]);
      await unlink(path).catch(() => undefined);
    },
  };
}

/** One answer of the API: its HTTP status and its JSON body (or text when not JSON). */
export interface ApiAnswer {
  status: number;
  body: unknown;
  text: string;
}

/**
 * Asks the API over the Unix socket `socketPath` (or TCP with `host`/`port`);
 * resolves with any answer, rejects only when none came (the error's code
 * ENOENT/ECONNREFUSED when nothing listens, ETIMEDOUT after `timeoutMs`).
 */
export function requestApi(
  where: { socketPath: string } | { host: string; port: number },
  method: 'GET' | 'POST',
  path: string,
  o: { body?: unknown; token?: string; timeoutMs?: number } = {},
): Promise<ApiAnswer> {
  const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        ...where,
        method,
        path,
        headers: {
          ...(payload !== undefined && {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          }),
          ...(o.token !== undefined && { authorization: `Bearer ${o.token}` }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          if (/json/.test(res.headers['content-type'] ?? ''))
            try {
              body = JSON.parse(text);
            } catch {
              // left as text: the caller says it is not the API's shape
            }
          resolve({ status: res.statusCode ?? 0, body, text });
        });
      },
    );
    const timeoutMs = o.timeoutMs ?? 10_000;
    req.setTimeout(timeoutMs, () => {
      const e = new Error(`no answer to ${method} ${path} in ${timeoutMs} ms`) as NodeJS.ErrnoException;
      e.code = 'ETIMEDOUT';
      req.destroy(e);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
