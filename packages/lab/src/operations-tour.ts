// The seed article's section 4 on the running pair, with a client sending
// requests all through (pairTour's `operations`): Apache on rs1 stopped
// plainly (in LVS-DR the stopped server answers RST until the check takes
// it out: those requests fail, and are counted), then the same after
// `lvs-ha drain 192.0.2.21:80 --wait` (none may fail), rs2 stopped too (the
// fallback answers), both back; then `lvs-ha standby` on the holder: the
// group moves to the peer, and no request may fail.
//
// The client is one Node process in the client's namespace: one request at
// a time, a new TCP connection each, every `everyMs`, with a timeout a real
// client would have (a SYN lost while the VIP moves is sent again after a
// second; that is a slow answer, not a failure). A phase's requests are the
// client's lines between its start and end (counted by line, so the
// guest's clock never meets this machine's).
import type { BackgroundProcess } from './runner.js';
import type { Lab } from './topology.js';

export interface OperationsPhase {
  /** Client requests sent in the phase. */
  requests: number;
  /** Of them, failed (refused, reset, timed out, not 200), with the reasons counted. */
  failed: number;
  reasons: Record<string, number>;
  /** Who answered (rs1, rs2, fallback…). */
  answeredBy: Record<string, number>;
  /** How long the phase's change took to show in the kernel's table (ms). */
  tookMs: number;
  /** The longest a request of the phase took (ms). */
  slowestMs: number;
}

export interface OperationsResult {
  /** Apache on rs1 stopped as is: until the check takes it out, its share of requests meets a RST. */
  plainStop: OperationsPhase;
  /** `lvs-ha drain rs1 --wait`, then Apache on rs1 stopped. */
  drainedStop: OperationsPhase;
  /** rs2 stopped too (plainly): the fallback answers. */
  bothStopped: OperationsPhase;
  /** `lvs-ha undrain`, rs1 and rs2 started again: they return. */
  bothBack: OperationsPhase;
  /** `lvs-ha standby` on load1: load2 holds the VIP and the table. */
  standby: OperationsPhase;
  /** What the CLI said to drain and standby. */
  cli: { drain: string; standby: string };
}

export interface OperationsContext {
  lab: Lab;
  vip: string;
  /** The table both real servers make (ipvsadm -Sn). */
  table: string;
  /** `lvs-ha` as the lab's hosts run it, and its environment. */
  lvsHa: { argv: string[]; env?: Record<string, string> };
  /** The control socket of each node's `lvs-ha start`. */
  control: (node: string) => string;
  /** Starts (again) the real server of a host; returns what stops it. */
  startReal: (host: string) => Promise<{ stop(): Promise<void> }>;
  /** The running real servers, by host (stopped and replaced here). */
  reals: Record<string, { stop(): Promise<void> }>;
  /** Throws when a node exited (pairTour's check), for the waits. */
  until: (what: string, pred: () => Promise<boolean>, ms?: number) => Promise<number>;
  say: (line: string) => void;
  everyMs?: number;
  timeoutMs?: number;
}

const CLIENT = `
const http = require('node:http');
const url = process.env.OPS_URL;
const every = Number(process.env.OPS_EVERY_MS);
const timeout = Number(process.env.OPS_TIMEOUT_MS);
const ask = () => {
  const t = Date.now();
  let done = false;
  const finish = (ok, body) => {
    if (done) return;
    done = true;
    process.stdout.write(JSON.stringify({ ms: Date.now() - t, ok, body }) + '\\n');
    setTimeout(ask, Math.max(0, every - (Date.now() - t)));
  };
  const req = http.get(url, { agent: false, timeout }, (res) => {
    let b = '';
    res.setEncoding('utf8');
    res.on('data', (d) => { b += d; });
    res.on('end', () => finish(res.statusCode === 200, res.statusCode === 200 ? b.trim() : 'HTTP ' + res.statusCode));
    res.on('error', (e) => finish(false, e.code || e.message));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => finish(false, e.code || e.message));
};
process.stdout.write('ready\\n');
ask();
`;

interface Line {
  ms: number;
  ok: boolean;
  body: string;
}

class OpsClient {
  constructor(private readonly proc: BackgroundProcess) {}
  async lines(): Promise<Line[]> {
    const out: Line[] = [];
    for (const l of (await this.proc.output()).split('\n')) {
      if (!l.startsWith('{')) continue;
      try {
        out.push(JSON.parse(l) as Line);
      } catch {
        // a line being written
      }
    }
    return out;
  }
  async count(): Promise<number> {
    return (await this.lines()).length;
  }
  stop(): Promise<void> {
    return this.proc.stop();
  }
}

const who = (body: string) => /rs[12]|fallback/.exec(body)?.[0] ?? body;

export async function operationsTour(c: OperationsContext): Promise<OperationsResult> {
  const { lab, vip, say } = c;
  const load1 = lab.host('load1');
  const load2 = lab.host('load2');
  const table1 = () => load1.ipvsadm(['-Sn']);
  const everyMs = c.everyMs ?? 20;
  const timeoutMs = c.timeoutMs ?? 5000;
  // the fallback (127.0.0.1:80 gate) answers on the director itself: in LVS-DR the VIP's packets are delivered locally
  const fallbacks = [
    await load1.serveHttp({ body: 'fallback on load1\n' }),
    await load2.serveHttp({ body: 'fallback on load2\n' }),
  ];
  const client = new OpsClient(
    await lab.host('client').ns.start(['node', '-e', CLIENT], {
      env: {
        OPS_URL: `http://${vip}/server-status`,
        OPS_EVERY_MS: String(everyMs),
        OPS_TIMEOUT_MS: String(timeoutMs),
      },
    }),
  );
  const cli = async (node: string, args: string[]) => {
    const r = await lab.host(node).ns.exec([...c.lvsHa.argv, ...args, '--control', c.control(node)], {
      ...(c.lvsHa.env && { env: c.lvsHa.env }),
      timeoutMs: 300_000,
    });
    if (r.code !== 0)
      throw new Error(`lvs-ha ${args.join(' ')} on ${node} exited ${r.code}: ${r.stdout}${r.stderr}`);
    return `${r.stdout}${r.stderr}`.trim();
  };
  /**
   * Runs `change`, waits for `settled` (given the client's lines since the
   * change began), then `tailMs` more; the client's lines of that time.
   */
  const phase = async (
    what: string,
    change: () => Promise<void>,
    settled: (since: Line[]) => Promise<boolean>,
    tailMs = 1500,
  ): Promise<OperationsPhase> => {
    const n0 = await client.count();
    await change();
    // from the end of the change (the server stopped, the command returned) to the table showing it
    const t0 = Date.now();
    await c.until(what, async () => settled((await client.lines()).slice(n0)), 120_000);
    const tookMs = Date.now() - t0;
    await new Promise((r) => setTimeout(r, tailMs));
    const n1 = await client.count();
    const lines = (await client.lines()).slice(n0, n1);
    const reasons: Record<string, number> = {};
    const answeredBy: Record<string, number> = {};
    for (const l of lines) {
      if (l.ok) answeredBy[who(l.body)] = (answeredBy[who(l.body)] ?? 0) + 1;
      else reasons[l.body] = (reasons[l.body] ?? 0) + 1;
    }
    const failed = lines.filter((l) => !l.ok).length;
    const slowestMs = Math.max(0, ...lines.map((l) => l.ms));
    return { requests: lines.length, failed, reasons, answeredBy, tookMs, slowestMs };
  };
  const show = (p: OperationsPhase) =>
    `${p.requests} requests, ${p.failed} failed${p.failed ? ` (${JSON.stringify(p.reasons)})` : ''}; answered by ${JSON.stringify(p.answeredBy)}; the slowest took ${p.slowestMs} ms`;
  try {
    await c.until('the client answered', async () => (await client.lines()).some((l) => l.ok), 60_000);
    const rs1 = '192.0.2.21:80';
    say(
      `\n5. The seed's section 4 with a client asking http://${vip}/server-status every ${everyMs} ms (timeout ${timeoutMs} ms).`,
    );
    const plainStop = await phase(
      'rs1 out of the table',
      () => (c.reals.rs1 as { stop(): Promise<void> }).stop(),
      async () => !(await table1()).includes(rs1),
    );
    say(
      `   Apache on rs1 stopped: out of the table ${(plainStop.tookMs / 1000).toFixed(1)} s later; ${show(plainStop)}`,
    );
    say('   (LVS-DR: until the check takes it out, a stopped server answers its share of SYNs with a RST)');
    c.reals.rs1 = await c.startReal('rs1');
    await c.until('rs1 back in the table', async () => (await table1()) === c.table, 120_000);

    let drainOut = '';
    const drainedStop = await phase(
      'rs1 drained and out of the table',
      async () => {
        drainOut = await cli('load1', ['drain', rs1, '--wait']);
        await (c.reals.rs1 as { stop(): Promise<void> }).stop();
      },
      async () => !(await table1()).includes(rs1),
    );
    say(`   lvs-ha drain ${rs1} --wait, then Apache on rs1 stopped: ${show(drainedStop)}`);
    const bothStopped = await phase(
      'the fallback in the table and answering',
      () => (c.reals.rs2 as { stop(): Promise<void> }).stop(),
      // the client asks one request at a time: one that meets rs2's end may wait out its timeout
      async (since) =>
        (await table1()).includes('127.0.0.1:80') && since.some((l) => l.ok && who(l.body) === 'fallback'),
    );
    say(
      `   rs2 stopped too: the fallback in the table and answering ${(bothStopped.tookMs / 1000).toFixed(1)} s later; ${show(bothStopped)}`,
    );
    const bothBack = await phase(
      'both real servers back',
      async () => {
        await cli('load1', ['undrain', rs1]);
        c.reals.rs1 = await c.startReal('rs1');
        c.reals.rs2 = await c.startReal('rs2');
      },
      async (since) =>
        (await table1()) === c.table &&
        ['rs1', 'rs2'].every((rs) => since.some((l) => l.ok && who(l.body) === rs)),
    );
    say(
      `   undrain, rs1 and rs2 started again: both back and answering ${(bothBack.tookMs / 1000).toFixed(1)} s later; ${show(bothBack)}`,
    );

    // no server on the directors' own port 80 while the group moves: a request meeting the VIP without its table must be seen to fail
    for (const f of fallbacks) await f.stop();
    say('\n6. lvs-ha standby on load1, the holder.');
    let standbyOut = '';
    const standby = await phase(
      'load2 holding the VIP and the table, load1 nothing',
      async () => {
        standbyOut = await cli('load1', ['standby']);
      },
      async () => {
        const [a, b] = [await load1.ipAddr(), await load2.ipAddr()];
        return (
          !a.includes(`${vip}/32`) &&
          b.includes(`${vip}/32`) &&
          (await table1()) === '' &&
          (await load2.ipvsadm(['-Sn'])) === c.table
        );
      },
      3000,
    );
    say(
      `   load2 holds ${vip} and the table ${(standby.tookMs / 1000).toFixed(1)} s later; ${show(standby)}`,
    );
    return {
      plainStop,
      drainedStop,
      bothStopped,
      bothBack,
      standby,
      cli: { drain: drainOut, standby: standbyOut },
    };
  } finally {
    await client.stop().catch(() => {});
    for (const f of fallbacks) await f.stop().catch(() => {});
  }
}
