// `lvs-ha check`: read a Heartbeat configuration directory, say what it
// describes and every problem found, exit 0 when it would run (warnings
// allowed) and 1 otherwise — like `keepalived -t` or `nginx -t`.
import { parseArgs } from 'node:util';
import {
  type ConfigDir,
  type ConfigError,
  type HaMedium,
  loadConfigDir,
  resolveLdirectordDefaults,
} from '@lvs-ha/ha-config';
import type { CliCommand, CliIo } from '../cli-main.js';

const HELP = `usage: lvs-ha check [--config-dir DIR] [--json] [--quiet]

Validates ha.cf, authkeys, haresources and ldirectord.cf (DIR/ldirectord.cf or
DIR/conf/ldirectord.cf, or the file haresources passes to ldirectord) and the
agreement between them. Exit status: 0 valid, 1 errors found, 2 bad usage.

  --config-dir DIR   Heartbeat's configuration directory (default /etc/ha.d)
  --json             print the parsed files and problems as JSON
  --quiet            print problems only
`;

const seconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

function medium(m: HaMedium): string {
  switch (m.type) {
    case 'bcast':
      return `bcast ${m.interface}:${m.port}`;
    case 'ucast':
    case 'ucast6':
      return `${m.type} ${m.interface} -> ${m.peer}:${m.port}`;
    case 'mcast':
      return `mcast ${m.interface} ${m.group}:${m.port} ttl ${m.ttl}`;
    case 'mcast6':
      return `mcast6 ${m.interface} ${m.group}:${m.port} hops ${m.hops}`;
    case 'serial':
      return `serial ${m.device} ${m.baud} baud`;
  }
}

function describe(cfg: ConfigDir): string[] {
  const out: string[] = [];
  if (cfg.haCf) {
    const s = cfg.haCf.value.settings;
    out.push(
      `${cfg.haCf.file}: nodes ${s.nodes.join(', ') || '(none)'}; ${s.media.map(medium).join(', ') || 'no media'}; ` +
        `keepalive ${seconds(s.keepaliveMs)}, deadtime ${seconds(s.deadtimeMs)}; auto_failback ${s.autoFailback}`,
    );
  }
  if (cfg.authkeys) {
    const a = cfg.authkeys.value;
    const signing = a.keys.find((k) => k.index === a.auth);
    const mode = a.mode === undefined ? '' : `; mode ${a.mode.toString(8).padStart(4, '0')}`;
    out.push(
      `${cfg.authkeys.file}: signs with key ${a.auth} (${signing?.method ?? 'undefined'}); ${a.keys.length} key(s)${mode}`,
    );
  }
  if (cfg.haresources) {
    for (const g of cfg.haresources.value.groups) {
      const res = g.resources.map((r) =>
        r.kind === 'ipaddr'
          ? `VIP ${r.address}${r.prefix === undefined ? '' : `/${r.prefix}`}${r.interface ? ` on ${r.interface}` : ''}`
          : [r.name, ...r.args].join(' '),
      );
      out.push(`${cfg.haresources.file}: ${g.node} is the preferred holder of ${res.join(', ')}`);
    }
  }
  if (cfg.ldirectord) {
    const resolved = resolveLdirectordDefaults(cfg.ldirectord.value);
    out.push(
      `${cfg.ldirectord.file}: ${resolved.virtuals.length} virtual service(s), check every ${resolved.global.checkinterval.value}s, quiescent ${resolved.global.quiescent.value ? 'yes' : 'no'}`,
    );
    for (const v of resolved.virtuals) {
      const ct = v.checktype.value;
      const check =
        typeof ct === 'number'
          ? `negotiate ${v.service.value}, then ${ct} connect checks, and again (as ldirectord: first check negotiates)`
          : `${ct}${ct === 'negotiate' ? ` ${v.service.value}` : ''}`;
      out.push(`  ${v.id} ${v.scheduler.value}, check: ${check}`);
      for (const r of v.reals)
        out.push(`    real ${r.address}:${r.port} ${r.forward} weight ${r.weight.value}`);
      const fb = v.fallback.value;
      if (fb) out.push(`    fallback ${fb.host}${fb.port ? `:${fb.port}` : ''} ${fb.forward ?? 'gate'}`);
    }
  }
  return out;
}

const problemLine = (p: ConfigError) => `${p.severity}: ${p.message}`;

async function run(args: readonly string[], io: CliIo): Promise<number> {
  let values: { 'config-dir'?: string; json?: boolean; quiet?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        'config-dir': { type: 'string', short: 'c' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    io.stderr(`lvs-ha check: ${(err as Error).message}\n${HELP}`);
    return 2;
  }
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const dir = values['config-dir'] ?? '/etc/ha.d';
  const cfg = await loadConfigDir(dir);
  const errors = cfg.problems.filter((p) => p.severity === 'error');
  const warnings = cfg.problems.length - errors.length;
  if (values.json) {
    io.stdout(
      `${JSON.stringify({ ...cfg, problems: cfg.problems.map((p) => ({ ...p, message: p.message })) }, null, 2)}\n`,
    );
  } else {
    if (!values.quiet) for (const l of describe(cfg)) io.stdout(`${l}\n`);
    for (const p of cfg.problems) (p.severity === 'error' ? io.stderr : io.stdout)(`${problemLine(p)}\n`);
    const verdict = errors.length === 0 ? 'configuration is valid' : 'configuration has errors';
    io.stdout(`lvs-ha check: ${dir}: ${verdict} (${errors.length} error(s), ${warnings} warning(s))\n`);
  }
  return errors.length === 0 ? 0 : 1;
}

export const checkCommand: CliCommand = {
  summary: 'validate a Heartbeat/ldirectord configuration directory',
  run,
};
