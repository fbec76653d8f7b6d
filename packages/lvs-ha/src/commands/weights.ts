// `lvs-ha drain`, `lvs-ha undrain`, `lvs-ha weight`: runtime weights of a
// real server for a running `lvs-ha start`, through its control socket
// (POST /drain, /undrain, /weight). They hold through checks, reconciles
// and reloads until undone.
import { parseArgs } from 'node:util';
import type { CliCommand, CliIo } from '../cli-main.js';
import { askControl, type ControlRequest, DEFAULT_CONTROL_SOCKET } from '../control.js';

const HELP = {
  drain: `usage: lvs-ha drain REAL [--virtual VS] [--wait] [--timeout SECONDS] [--remove] [--control PATH]

Gives the real server REAL (ADDRESS[:PORT], [V6]:PORT) weight 0 in every
virtual service of the running ldirectord.cf that has it (or only in VS:
tcp:192.0.2.50:80, 192.0.2.50:80/tcp, 192.0.2.50:80 or a fwmark): no new
connection goes to it, those it has go on. With --wait, waits until the
kernel has counted no active connection on it (ipvsadm's ActiveConn) for
a second (a connection scheduled just before the drain becomes active a
round trip later), at most --timeout seconds (default 300); then --remove takes it out of the table
(without --wait, at once), otherwise it stays in at weight 0. It holds
through checks and reloads until 'lvs-ha undrain'.
Exit status: 0 done (drained, with --wait), 1 refused, no node answers, or
--wait timed out (it stays at weight 0), 2 bad usage.
`,
  undrain: `usage: lvs-ha undrain REAL [--virtual VS] [--control PATH]

Undoes 'lvs-ha drain' or 'lvs-ha weight' for REAL (in VS only, with
--virtual): its weight is ldirectord.cf's again while its checks pass.
Exit status: 0 done, 1 refused or no node answers, 2 bad usage.
`,
  weight: `usage: lvs-ha weight REAL N [--virtual VS] [--control PATH]

Gives REAL the weight N (0 to 65535; 0 is a drain without waiting) while its
checks pass, instead of ldirectord.cf's, until 'lvs-ha undrain'.
Exit status: 0 done, 1 refused or no node answers, 2 bad usage.
`,
} as const;

const SUMMARY = {
  drain: 'weight 0 for a real server, wait for its connections to end, remove it (runtime)',
  undrain: "undo a drain or a runtime weight: ldirectord.cf's weight again",
  weight: 'a runtime weight for a real server, until undrain',
} as const;

function weightsCommand(op: keyof typeof HELP): CliCommand {
  const help = HELP[op];
  return {
    summary: SUMMARY[op],
    async run(args: readonly string[], io: CliIo) {
      let req: ControlRequest;
      let control: string;
      let timeoutMs = 30_000;
      try {
        const { values, positionals } = parseArgs({
          args: [...args],
          allowPositionals: true,
          options: {
            virtual: { type: 'string' },
            control: { type: 'string' },
            help: { type: 'boolean', short: 'h' },
            ...(op === 'drain' && {
              wait: { type: 'boolean' },
              timeout: { type: 'string' },
              remove: { type: 'boolean' },
            }),
          },
          strict: true,
        });
        if (values.help) {
          io.stdout(help);
          return 0;
        }
        control = (values.control as string | undefined) ?? DEFAULT_CONTROL_SOCKET;
        const want = op === 'weight' ? 2 : 1;
        if (positionals.length !== want)
          throw new Error(op === 'weight' ? 'give REAL and N' : `give one REAL, got ${positionals.length}`);
        const real = positionals[0] as string;
        const sel = { real, ...(values.virtual !== undefined && { virtual: values.virtual as string }) };
        if (op === 'weight') {
          const n = Number(positionals[1]);
          if (!(Number.isInteger(n) && n >= 0 && n <= 65_535))
            throw new Error(`N is a weight from 0 to 65535, got ${positionals[1]}`);
          req = { op, ...sel, weight: n };
        } else if (op === 'drain') {
          const t = values.timeout as string | undefined;
          if (t !== undefined && !(Number(t) > 0 && Number(t) <= 86_400))
            throw new Error(`--timeout needs seconds from 0 to 86400, got ${t}`);
          if (t !== undefined && !values.wait) throw new Error('--timeout is for --wait');
          const timeout = t === undefined ? undefined : Number(t);
          req = {
            op,
            ...sel,
            ...(values.wait === true && { wait: true }),
            ...(timeout !== undefined && { timeout }),
            ...(values.remove === true && { remove: true }),
          };
          // the answer comes when the wait is over
          if (values.wait) timeoutMs = (timeout ?? 300) * 1000 + 30_000;
        } else req = { op, ...sel };
      } catch (e) {
        io.stderr(`lvs-ha ${op}: ${(e as Error).message}\n${help}`);
        return 2;
      }
      try {
        const answer = (await askControl(control, req, timeoutMs)) as {
          reals?: { file: string; virtual: string; real: string; weight?: number; activeConns?: number }[];
          drained?: boolean;
          removed?: boolean;
          waitedMs?: number;
        };
        for (const r of answer.reals ?? []) {
          if (op === 'drain')
            io.stdout(
              `${r.virtual} ${r.real}: weight 0${answer.removed ? ', removed' : ''} (${r.activeConns} active connections)\n`,
            );
          else if (op === 'undrain')
            io.stdout(`${r.virtual} ${r.real}: weight ${r.weight} (ldirectord.cf's)\n`);
          else io.stdout(`${r.virtual} ${r.real}: weight ${r.weight} (runtime)\n`);
        }
        if (op === 'drain' && req.op === 'drain' && req.wait && !answer.drained) {
          io.stderr(
            `lvs-ha drain: active connections left after ${Math.round((answer.waitedMs ?? 0) / 1000)} s: kept at weight 0${req.remove ? ', not removed' : ''}\n`,
          );
          return 1;
        }
        return 0;
      } catch (e) {
        io.stderr(`lvs-ha ${op}: ${(e as Error).message}\n`);
        return 1;
      }
    },
  };
}

export const drainCommand = weightsCommand('drain');
export const undrainCommand = weightsCommand('undrain');
export const weightCommand = weightsCommand('weight');
