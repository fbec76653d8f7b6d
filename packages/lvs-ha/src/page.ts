// The status page of a running `lvs-ha start`, on its HTTP API (api.ts):
// GET / (one HTML page, src/page/index.html), /page.js and /page.css
// (plain files shipped in dist/page), and GET /events, the node's recent
// lines (JSON, or server-sent events for the page). The page reads the
// API's own answers (GET /status, GET /metrics) and writes through POST
// /drain and /undrain; it has no status model of its own. Whether it shows
// its write buttons, and asks for a token, is said by the listener the page
// came over (the Unix socket takes writes; TCP only with --allow-writes,
// and then with the token the operator types: the page never carries it).
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { ApiError, type ApiListener, type ApiRoute, sendJson } from './api.js';

/** One line of the node, numbered from 1 in the order it came, with its time. */
export interface PageEvent {
  seq: number;
  /** ISO time it was logged. */
  time: string;
  line: string;
}

/** The node's last lines (a ring of `capacity`), for GET /events; subscribers get each new one. */
export class EventLog {
  private readonly ring: PageEvent[] = [];
  private seq = 0;
  private readonly subscribers = new Set<(e: PageEvent) => void>();

  constructor(readonly capacity = 200) {}

  /** Records a line (the ClusterNode's `log` event). */
  push = (line: string): PageEvent => {
    const e: PageEvent = { seq: ++this.seq, time: new Date().toISOString(), line };
    this.ring.push(e);
    if (this.ring.length > this.capacity) this.ring.shift();
    for (const fn of this.subscribers) fn(e);
    return e;
  };

  /** The lines after `seq` still kept (all of them when `seq` is not one of this log's: a restarted node). */
  since(seq = 0): PageEvent[] {
    const after = seq > this.seq ? 0 : seq;
    return this.ring.filter((e) => e.seq > after);
  }

  subscribe(fn: (e: PageEvent) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /** How many streams listen now. */
  get listeners(): number {
    return this.subscribers.size;
  }
}

/** The page's files: dist/page next to the built modules, src/page next to this one when run from the sources. */
const PAGE_DIR = new URL('./page/', import.meta.url);

const ASSETS = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/page.js': { file: 'page.js', type: 'text/javascript; charset=utf-8' },
  '/page.css': { file: 'page.css', type: 'text/css; charset=utf-8' },
} as const;

/** What the page may do: no inline script or style, no other origin, never framed. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** The meta value the page reads: none (read-only), open (writes, no token: the Unix socket), token. */
export function writesOf(listener: ApiListener): 'none' | 'open' | 'token' {
  if (!listener.writes) return 'none';
  return listener.token ? 'token' : 'open';
}

/** The page's HTML for a listener (pure: the template with its one placeholder filled). */
export function renderPageHtml(template: string, listener: ApiListener): string {
  return template.replace('{{writes}}', writesOf(listener));
}

function send(res: ServerResponse, type: string, body: string): void {
  res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...PAGE_HEADERS });
  res.end(body);
}

export interface PageOptions {
  /** The node's lines (start.ts pushes every `log` line); without it /events answers an empty list. */
  events?: EventLog;
  /** Where index.html, page.js and page.css are (default: ./page/ beside this module). */
  dir?: URL;
}

/** The status page's routes: GET /, /page.js, /page.css and /events. */
export function pageRoutes(o: PageOptions = {}): ApiRoute[] {
  const dir = o.dir ?? PAGE_DIR;
  const cache = new Map<string, Promise<string>>();
  const asset = (file: string): Promise<string> => {
    let p = cache.get(file);
    if (!p) {
      p = readFile(new URL(file, dir), 'utf8').catch((e: unknown) => {
        cache.delete(file);
        throw new ApiError('INTERNAL', `the status page's ${file} is missing: ${(e as Error).message}`);
      });
      cache.set(file, p);
    }
    return p;
  };
  const events = o.events;
  const routes: ApiRoute[] = Object.entries(ASSETS).map(([path, a]) => ({
    method: 'GET' as const,
    path,
    ...(path === '/' && {
      summary: 'the status page (HTML): the pair, the virtual services, the recent events; live',
    }),
    async handle(_req, res, _url, listener) {
      const text = await asset(a.file);
      send(res, a.type, path === '/' ? renderPageHtml(text, listener) : text);
    },
  }));
  routes.push({
    method: 'GET',
    path: '/events',
    summary:
      "the node's recent lines (?after=SEQ); as server-sent events with Accept: text/event-stream (Last-Event-ID)",
    handle(req, res, url) {
      const last = Number(req.headers['last-event-id'] ?? url.searchParams.get('after') ?? 0);
      const after = Number.isInteger(last) && last > 0 ? last : 0;
      if (!/text\/event-stream/.test(req.headers.accept ?? '')) {
        sendJson(res, 200, { events: events?.since(after) ?? [] });
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
      });
      const write = (e: PageEvent) => res.write(`id: ${e.seq}\ndata: ${JSON.stringify(e)}\n\n`);
      res.write('retry: 2000\n\n');
      for (const e of events?.since(after) ?? []) write(e);
      const off = events?.subscribe(write);
      // a comment now and then: proxies and NAT keep an idle stream open
      const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
      ping.unref();
      res.on('close', () => {
        off?.();
        clearInterval(ping);
      });
    },
  });
  return routes;
}
