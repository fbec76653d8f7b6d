// Runs probes inside a network namespace for the tests: one JSON request per
// stdin line, one JSON answer per stdout line; Monitor transitions are
// written as they happen.
import { createInterface } from 'node:readline';
import { connector } from '../../src/connector.js';
import {
  checkConnect,
  checkHttp,
  checkPing,
  Monitor,
  type MonitoredServer,
  type MonitorOptions,
  pingMethod,
} from '../../src/index.js';

type Req = { id: number; op: string; target?: { host: string; port: number }; options?: object } & Record<
  string,
  unknown
>;

const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
let monitor: Monitor | undefined;

async function handle(req: Req): Promise<unknown> {
  const t = req.target as { host: string; port: number };
  switch (req.op) {
    case 'ping':
      return checkPing(t, req.options);
    case 'pingMethod':
      return pingMethod(req.family as 4 | 6);
    case 'connect':
      return checkConnect(t, req.options);
    case 'http':
      return checkHttp(t, req.options);
    case 'monitor': {
      monitor?.stop();
      monitor = new Monitor(req.servers as MonitoredServer[], req.monitorOptions as MonitorOptions);
      monitor.on('transition', (tr) => out({ event: 'transition', ...tr }));
      return 'started';
    }
    case 'halfOpen': {
      // Which port the half-open checks of this family use, or why there are none.
      const c = connector();
      if (typeof c === 'string') return { unavailable: c };
      const why = c.halfOpenUnavailable(req.family as 4 | 6);
      return why ? { unavailable: why } : { port: c.halfOpenPort(req.family as 4 | 6) };
    }
    case 'states':
      return monitor?.states();
    default:
      throw new Error(`unknown op ${req.op}`);
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const req = JSON.parse(line) as Req;
  handle(req).then(
    (result) => out({ id: req.id, result }),
    (e) => out({ id: req.id, error: String(e) }),
  );
});
process.stdin.on('end', () => {
  monitor?.stop();
  process.exit(0);
});
out({ event: 'ready' });
