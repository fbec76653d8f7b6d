// `lvs-ha status`, `lvs-ha standby`, `lvs-ha takeover`: Heartbeat's
// cl_status, hb_standby and hb_takeover for a running `lvs-ha start`,
// through its control socket (the HTTP API: GET /status, POST /standby…).
import { parseArgs } from 'node:util';
import type { ClusterReport, ClusterStatus } from '@lvs-ha/cluster';
import type { RealServerReport } from '@lvs-ha/director';
import { formatActiveStatus, isActiveReport } from '../active-status.js';
import type { CliCommand, CliIo } from '../cli-main.js';
import { askControl, DEFAULT_CONTROL_SOCKET } from '../control.js';

const WHAT = {
  status: 'what the running node believes: nodes, links, the groups it holds (cl_status)',
  standby: 'give our resource groups to the peer (hb_standby)',
  takeover: "take the peer's resource groups (hb_takeover)",
  reload:
    'reload ldirectord.cf (as SIGHUP; a file with errors changes nothing; a changed ha.cf, authkeys or haresources is reported: it needs a restart)',
  stop: "stop the node: release its resources and leave (as SIGTERM, Heartbeat's shutdown)",
} as const;

const FORWARD: Record<string, string> = { gate: 'Route', masq: 'Masq', ipip: 'Tunnel' };
const since = (t: string | undefined) => (t ? ` since ${t}` : '');

/** One real server's health as a few words: up/down with the last check's result, and a runtime override. */
function healthText(r: RealServerReport): string {
  const o = r.override;
  const override = !o
    ? ''
    : o.remove
      ? ', drained and removed (lvs-ha undrain)'
      : o.weight === 0
        ? ', drained (lvs-ha undrain)'
        : `, runtime weight ${o.weight} (lvs-ha undrain)`;
  const last = r.last;
  if (!last) return `${r.health}${override}`;
  if (last.ok) return `${r.health} (${Math.round(last.durationMs)} ms)${override}`;
  return `${r.health}: ${last.reason ?? 'failed'} (${last.detail})${override}`;
}

/** The table of each Director as `ipvsadm -Ln` shows it, with the checks' view of each real server. */
export function formatDirectorTables(ipvs: ClusterReport['ipvs']): string {
  const lines: string[] = [];
  for (const d of ipvs) {
    lines.push(`ipvs (${d.file}):`);
    lines.push('  Prot LocalAddress:Port Scheduler');
    lines.push('    -> RemoteAddress:Port           Forward Weight ActiveConn InActConn Health');
    for (const v of d.virtuals) {
      const [addr, proto] = v.service.split('/');
      lines.push(
        `  ${(proto ?? 'fwm').toUpperCase().padEnd(4)} ${addr} ${v.scheduler}${v.inKernel ? '' : ' (not in the kernel)'}`,
      );
      for (const r of v.reals) {
        const k = r.kernel;
        const name = (r.address.includes(':') ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`).padEnd(
          28,
        );
        lines.push(
          `    -> ${name} ${(FORWARD[r.forward] ?? r.forward).padEnd(7)} ${String(k ? k.weight : '-').padEnd(6)} ${String(k ? k.activeConns : '-').padEnd(10)} ${String(k ? k.inactiveConns : '-').padEnd(9)} ${healthText(r)}`,
        );
      }
      if (v.fallback) lines.push(`    -> ${v.fallback.padEnd(28)} fallback (no real server is up)`);
    }
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** cl_status's words, one line each, then the tables. */
export function formatClusterStatus(s: ClusterStatus | ClusterReport): string {
  if (isActiveReport(s)) return `${formatActiveStatus(s)}${formatDirectorTables(s.ipvs)}`;
  const lines = [`node ${s.node} (this node): ${s.nodeStatus}${since(s.nodeStatusSince)}`];
  for (const p of s.peers) {
    const links = Object.entries(p.links)
      .map(([medium, status]) => `${medium} ${status}`)
      .join(', ');
    lines.push(`node ${p.name}: ${p.status}${since(p.since)}${links ? ` (links: ${links})` : ''}`);
  }
  lines.push(`resources: ${s.holding} (${s.state})${since(s.holdingSince)}`);
  for (const g of s.groups ?? [])
    lines.push(`group ${g.key} (${g.owner}'s): ${g.heldHere ? 'held here' : 'not held here'}`);
  for (const v of s.vips ?? []) lines.push(`vip: ${v}`);
  for (const d of s.directors) lines.push(`director: ${d}`);
  return `${lines.join('\n')}\n${'ipvs' in s ? formatDirectorTables(s.ipvs) : ''}`;
}

function controlCommand(op: keyof typeof WHAT): CliCommand {
  const help = `usage: lvs-ha ${op} [--control PATH]${op === 'status' ? ' [--json]' : ''}

${WHAT[op][0]?.toUpperCase()}${WHAT[op].slice(1)}, asked of the 'lvs-ha start'
listening on PATH (default ${DEFAULT_CONTROL_SOCKET}).
Exit status: 0 done, 1 no node answers there (or it refused), 2 bad usage.
`;
  return {
    summary: WHAT[op],
    async run(args: readonly string[], io: CliIo) {
      let values: { control?: string; json?: boolean; help?: boolean };
      try {
        ({ values } = parseArgs({
          args: [...args],
          options: {
            control: { type: 'string' },
            help: { type: 'boolean', short: 'h' },
            json: { type: 'boolean' },
          },
          strict: true,
        }));
        if (values.json && op !== 'status') throw new Error("option '--json' is for 'lvs-ha status'");
      } catch (e) {
        io.stderr(`lvs-ha ${op}: ${(e as Error).message}\n${help}`);
        return 2;
      }
      if (values.help) {
        io.stdout(help);
        return 0;
      }
      try {
        const answer = await askControl(values.control ?? DEFAULT_CONTROL_SOCKET, { op });
        if (op === 'status') {
          const s = answer as ClusterReport;
          io.stdout(values.json ? `${JSON.stringify(s)}\n` : formatClusterStatus(s));
        } else if (op === 'reload') {
          const files = ((answer as { files?: unknown }).files ?? []) as {
            file: string;
            ok: boolean;
            restart?: true;
            message?: string;
          }[];
          for (const f of files)
            if (f.restart) io.stdout(`${f.message ?? `${f.file}: changed, needs a restart`}\n`);
            else io.stdout(`${f.file}: ${f.ok ? 'reloaded' : 'refused (errors: see the log)'}\n`);
          if (files.some((f) => !f.ok)) return 1;
        }
        return 0;
      } catch (e) {
        io.stderr(`lvs-ha ${op}: ${(e as Error).message}\n`);
        return 1;
      }
    },
  };
}

export const statusCommand = controlCommand('status');
export const standbyCommand = controlCommand('standby');
export const takeoverCommand = controlCommand('takeover');
export const reloadCommand = controlCommand('reload');
export const stopCommand = controlCommand('stop');
