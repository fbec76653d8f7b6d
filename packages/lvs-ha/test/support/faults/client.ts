// The client of the fault suite: one Node process in the client's namespace
// on the pair's segment that asks http://VIP/ for every VIP, one request in
// flight per VIP, a new one every `everyMs` (a new TCP connection each, a
// short timeout), and prints one JSON line per answer or failure. Each
// director answers with its own name (an HTTP server on 0.0.0.0:80), so an
// answer says which director holds the VIP as the network sees it.
//
// The same process listens to the segment's Heartbeat broadcasts (UDP 694)
// and prints each new (src, hg) pair it sees: a node instance the peer could
// take for a new one (a restart) shows up as a new generation.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Netns } from '@lvs-ha/lab';

const CLIENT = `
const http = require('node:http');
const dgram = require('node:dgram');
const vips = process.env.FAULT_VIPS.split(',');
const every = Number(process.env.FAULT_EVERY_MS);
const timeout = Number(process.env.FAULT_TIMEOUT_MS);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
for (const vip of vips) {
  const ask = () => {
    const t = Date.now();
    let done = false;
    const finish = (ok, body) => {
      if (done) return;
      done = true;
      out({ k: 'r', t, ms: Date.now() - t, vip, ok, body });
      setTimeout(ask, Math.max(0, every - (Date.now() - t)));
    };
    const req = http.get({ host: vip, port: 80, path: '/', agent: false, timeout }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { b += d; });
      res.on('end', () => finish(res.statusCode === 200, b.trim()));
      res.on('error', (e) => finish(false, e.code || e.message));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => finish(false, e.code || e.message));
  };
  ask();
}
const seen = new Set();
const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
s.on('message', (m) => {
  const txt = m.toString('latin1');
  const f = (k) => (new RegExp('(?:^|\\\\n)' + k + '=([^\\\\n]*)').exec(txt) || [])[1];
  const src = f('src');
  const hg = f('hg');
  if (!src || !hg || seen.has(src + ' ' + hg)) return;
  seen.add(src + ' ' + hg);
  out({ k: 'hb', t: Date.now(), src, hg });
});
s.bind(694, () => out({ k: 'ready', t: Date.now() }));
`;

export interface Answer {
  /** when the request was sent */
  t: number;
  ms: number;
  vip: string;
  ok: boolean;
  /** the director that answered, or the error */
  body: string;
}

export class Client {
  readonly answers: Answer[] = [];
  /** (node, generation) pairs heard on the segment, first time each */
  readonly instances: { t: number; src: string; hg: string }[] = [];
  #child: ChildProcess | undefined;

  private constructor(readonly ns: Netns) {}

  static async start(ns: Netns, vips: readonly string[], everyMs = 100, timeoutMs = 500): Promise<Client> {
    const c = new Client(ns);
    const child = ns.spawn([process.execPath, '-e', CLIENT], {
      env: {
        FAULT_VIPS: vips.join(','),
        FAULT_EVERY_MS: String(everyMs),
        FAULT_TIMEOUT_MS: String(timeoutMs),
      },
    });
    c.#child = child;
    let ready: () => void = () => {};
    const isReady = new Promise<void>((r) => {
      ready = r;
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let m: { k: string } & Record<string, unknown>;
      try {
        m = JSON.parse(line);
      } catch {
        return;
      }
      if (m.k === 'r') c.answers.push(m as unknown as Answer);
      else if (m.k === 'hb') c.instances.push(m as unknown as { t: number; src: string; hg: string });
      else if (m.k === 'ready') ready();
    });
    child.stderr?.resume();
    await Promise.race([
      isReady,
      new Promise((_, reject) => setTimeout(() => reject(new Error('the client did not start')), 30_000)),
    ]);
    return c;
  }

  get pid(): number {
    return this.#child?.pid ?? -1;
  }

  /** Answers for the VIP sent in [from, to). */
  between(vip: string | undefined, from: number, to: number): Answer[] {
    return this.answers.filter((a) => (vip === undefined || a.vip === vip) && a.t >= from && a.t < to);
  }

  /** The last `n` answers for the VIP sent at or after `since` (fewer if there are not n yet). */
  last(vip: string, since: number, n: number): Answer[] {
    const l = this.answers.filter((a) => a.vip === vip && a.t >= since);
    return l.slice(-n);
  }

  stop(): void {
    this.#child?.kill('SIGKILL');
  }
}
