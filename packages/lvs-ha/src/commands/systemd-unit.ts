// `lvs-ha systemd-unit`: prints the systemd unit of `lvs-ha start` (or, with
// --director, of `lvs-ha director`), so that installing it is one command:
//   lvs-ha systemd-unit > /etc/systemd/system/lvs-ha.service && systemctl daemon-reload && systemctl enable --now lvs-ha
// systemdUnit() is the one place the unit text lives: examples/systemd/*.service
// are its output for the defaults (a test keeps them equal).
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigDir } from '@lvs-ha/ha-config';
import type { CliCommand } from '../cli-main.js';

/** What `lvs-ha start` needs of root, and why (the unit's comments say the same). */
export const START_CAPABILITIES = ['CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_NET_BIND_SERVICE'] as const;
/** `lvs-ha director` binds no port: IPVS and the checks only. */
export const DIRECTOR_CAPABILITIES = ['CAP_NET_ADMIN', 'CAP_NET_RAW'] as const;
/**
 * What a typical resource script (an /etc/init.d script of another daemon,
 * start-stop-daemon) needs beyond ours: switching to the daemon's user,
 * its pid and log files, signals to a daemon that runs as another user,
 * raising ulimits.
 */
export const SCRIPT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FOWNER',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SYS_RESOURCE',
] as const;

/** Heartbeat's default deadtime, when no ha.cf says otherwise. */
const DEFAULT_DEADTIME_MS = 30_000;

export interface SystemdUnitOptions {
  /** The unit of `lvs-ha director` instead of `lvs-ha start`. */
  director?: boolean;
  /** Heartbeat's configuration directory (default /etc/ha.d). */
  configDir?: string;
  /** The command that runs lvs-ha, as argv (e.g. ['/usr/local/bin/lvs-ha'] or [node, cli.js]). */
  exec: readonly string[];
  /** ha.cf's deadtime: WatchdogSec is chosen after it (default Heartbeat's 30 s). */
  deadtimeMs?: number;
  /** Resource scripts in haresources (init.d scripts of other daemons): a wider bounding set, no sandboxing. */
  scripts?: boolean;
}

/**
 * One argument as systemd's ExecStart= splits it: % and $ doubled (no
 * specifier, no variable), and quoted when it holds blanks, quotes,
 * backslashes or ';'.
 */
export function systemdQuote(arg: string): string {
  const s = arg.replaceAll('%', '%%').replaceAll('$', '$$$$');
  if (s !== '' && !/[\s"'\\;]/.test(s)) return s;
  return `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/**
 * systemd's watchdog after the node's own: the membership thread ends a
 * main thread hung for deadtime itself (VIPs down, the peer told), which a
 * SIGABRT from systemd would not; systemd's watchdog is for what that
 * cannot end. Twice deadtime, and at least deadtime + 5 s.
 */
export function watchdogSecFor(deadtimeMs: number): number {
  return Math.ceil(Math.max(2 * deadtimeMs, deadtimeMs + 5000) / 1000);
}

/** The unit file's text. */
export function systemdUnit(o: SystemdUnitOptions): string {
  const dir = o.configDir ?? '/etc/ha.d';
  const director = o.director === true;
  const exec = [
    ...o.exec,
    ...(director
      ? ['director', '--config', `${dir.replace(/\/+$/, '')}/ldirectord.cf`]
      : ['start', '--config-dir', dir]),
  ]
    .map(systemdQuote)
    .join(' ');
  const deadtimeMs = o.deadtimeMs ?? DEFAULT_DEADTIME_MS;
  const caps = [
    ...(director ? DIRECTOR_CAPABILITIES : START_CAPABILITIES),
    ...(o.scripts ? SCRIPT_CAPABILITIES : []),
  ];
  const name = director ? 'lvs-ha-director' : 'lvs-ha';
  const flags = `${director ? ' --director' : ''}${o.scripts ? ' --scripts' : ''}`;
  const L: string[] = [
    `# ${name}.service, written by \`lvs-ha systemd-unit${flags}\`. Install:`,
    `#   lvs-ha systemd-unit${flags} > /etc/systemd/system/${name}.service && systemctl daemon-reload && systemctl enable --now ${name}`,
    '[Unit]',
    director
      ? "Description=lvs-ha director: ldirectord's checks and IPVS table"
      : 'Description=lvs-ha: a director of the pair (Heartbeat membership, VIPs, ldirectord)',
    'Documentation=https://www.npmjs.com/package/lvs-ha',
    'After=network-online.target',
    'Wants=network-online.target',
    // one of them keeps the table and the VIP: never beside the daemons it replaces, nor beside the other unit
    director
      ? 'Conflicts=ldirectord.service lvs-ha.service'
      : 'Conflicts=heartbeat.service ldirectord.service lvs-ha-director.service',
    '',
    '[Service]',
    director
      ? '# READY=1 once the checks run and the table is applied; WATCHDOG=1 from the main thread'
      : '# READY=1 once the node has joined; WATCHDOG=1 from the main thread',
    'Type=notify',
    'NotifyAccess=main',
    `ExecStart=${exec}`,
    '# SIGHUP reloads ldirectord.cf; lvs-ha says RELOADING=1 and READY=1 around it',
    'ExecReload=/bin/kill -HUP $MAINPID',
    director
      ? '# a failed director (IPVS unusable, a crash) comes back; the table it left stays in the kernel meanwhile'
      : '# fail-stop: a failed node ends itself after taking its VIPs down, and must come back (its idle check takes leftovers down before it joins)',
    'Restart=on-failure',
    'RestartSec=2s',
    director
      ? '# a hung main thread means stale checks and table: systemd kills it (SIGABRT) and restarts it'
      : `# after the node's own watchdog (a main thread hung for deadtime, ${deadtimeMs / 1000} s: VIPs down, the peer told): 2 x deadtime, at least deadtime + 5 s`,
    `WatchdogSec=${director ? 30 : watchdogSecFor(deadtimeMs)}s`,
    '# SIGTERM to lvs-ha alone: it stops the resources in order; what they left is SIGKILLed after it exits',
    'KillMode=mixed',
    director
      ? '# cleanstop takes the virtual services out: quick'
      : '# a shutdown waits for a stop script that fails (retried, the peer not told): a bound would SIGKILL us with the VIP still up',
    `TimeoutStopSec=${director ? '90s' : 'infinity'}`,
    ...(director
      ? []
      : [
          '# /run/lvs-ha/control.sock: lvs-ha status, standby, takeover, reload, stop',
          'RuntimeDirectory=lvs-ha',
          'RuntimeDirectoryMode=0700',
        ]),
    '',
    director
      ? '# CAP_NET_ADMIN: IPVS over generic netlink; CAP_NET_RAW: ping and half-open (SYN) checks'
      : '# CAP_NET_ADMIN: VIPs over rtnetlink, IPVS over generic netlink, the sync daemon;',
    ...(director
      ? []
      : [
          "# CAP_NET_RAW: gratuitous ARP / unsolicited NA, ping and half-open checks; CAP_NET_BIND_SERVICE: Heartbeat's udpport 694",
        ]),
    ...(o.scripts
      ? [
          '# --scripts: what init.d scripts of other daemons need (start-stop-daemon --chuid, pid files,',
          '# signals to a daemon of another user, ulimit); add CAP_SYS_ADMIN for a Filesystem (mount) resource',
        ]
      : []),
    `CapabilityBoundingSet=${caps.join(' ')}`,
    `AmbientCapabilities=${caps.join(' ')}`,
    ...(o.scripts
      ? ['# no sandboxing: the daemons the scripts start live in this unit and would inherit it']
      : [
          '# sandboxing that lvs-ha does not notice (a daemon a resource script starts would: see --scripts)',
          'NoNewPrivileges=yes',
          'ProtectSystem=full',
          'ProtectHome=yes',
          'PrivateTmp=yes',
          'ProtectKernelTunables=yes',
          'ProtectKernelLogs=yes',
          'ProtectControlGroups=yes',
          'ProtectClock=yes',
          'ProtectHostname=yes',
          'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET',
          'RestrictNamespaces=yes',
          'RestrictRealtime=yes',
          'RestrictSUIDSGID=yes',
          'LockPersonality=yes',
          'SystemCallArchitectures=native',
        ]),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
  return L.join('\n');
}

const HELP = `usage: lvs-ha systemd-unit [--director] [--config-dir DIR] [--scripts] [--exec PATH]

Prints the systemd unit that runs 'lvs-ha start --config-dir DIR' (with
--director: 'lvs-ha director --config DIR/ldirectord.cf') as a Type=notify
service: READY=1 once joined, WATCHDOG=1 from the main thread, SIGHUP for
reload, restarted on failure, capabilities CAP_NET_ADMIN CAP_NET_RAW
CAP_NET_BIND_SERVICE only. Install it with

  lvs-ha systemd-unit > /etc/systemd/system/lvs-ha.service
  systemctl daemon-reload && systemctl enable --now lvs-ha

WatchdogSec follows ha.cf's deadtime in DIR (2 x deadtime, at least
deadtime + 5 s; Heartbeat's 30 s when there is no ha.cf): print the unit
again after changing deadtime.

  --director        the unit of 'lvs-ha director' (lvs-ha-director.service)
  --config-dir DIR  Heartbeat's configuration directory (default /etc/ha.d)
  --scripts         haresources runs resource scripts (init.d scripts of other
                    daemons): more capabilities, no sandboxing
  --exec PATH       the lvs-ha to run (default: the one running this command,
                    as node and its script)
`;

/** The command line that runs this lvs-ha: node, its flags (a TypeScript loader in development), the script. */
function runningExec(): string[] {
  const script = process.argv[1];
  if (!script) return ['/usr/local/bin/lvs-ha'];
  let path = script;
  try {
    path = realpathSync(script);
  } catch {
    // not on disk (an eval): the path as given
  }
  return [process.execPath, ...process.execArgv, path];
}

export const systemdUnitCommand: CliCommand = {
  summary: 'print the systemd unit of lvs-ha start (or director)',
  async run(args, io) {
    let values: {
      director?: boolean;
      'config-dir'?: string;
      scripts?: boolean;
      exec?: string;
      help?: boolean;
    };
    try {
      ({ values } = parseArgs({
        args: [...args],
        options: {
          director: { type: 'boolean' },
          'config-dir': { type: 'string' },
          scripts: { type: 'boolean' },
          exec: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
        strict: true,
      }));
      if (values.exec !== undefined && !values.exec.startsWith('/'))
        throw new Error(`--exec needs an absolute path, got ${values.exec}`);
    } catch (e) {
      io.stderr(`lvs-ha systemd-unit: ${(e as Error).message}\n${HELP}`);
      return 2;
    }
    if (values.help) {
      io.stdout(HELP);
      return 0;
    }
    // absolute: systemd runs the service from /
    const configDir = resolve(values['config-dir'] ?? '/etc/ha.d');
    // deadtime and the resources from the files when they can be read (the unit is often made before they exist)
    const config = await loadConfigDir(configDir).catch(() => undefined);
    const deadtimeMs = config?.haCf?.value.settings.deadtimeMs;
    if (!values.director && deadtimeMs === undefined)
      io.stderr(
        `lvs-ha systemd-unit: no ha.cf read in ${configDir}: WatchdogSec from Heartbeat's default deadtime (30 s)\n`,
      );
    const scripts = config?.haresources?.value.groups
      .flatMap((g) => g.resources)
      .flatMap((r) => (r.kind === 'script' && r.name !== 'ldirectord' ? [r.name] : []));
    if (!values.scripts && !values.director && scripts && scripts.length > 0)
      io.stderr(
        `lvs-ha systemd-unit: haresources runs ${[...new Set(scripts)].join(', ')}: a resource script needs more than lvs-ha's capabilities (see --scripts)\n`,
      );
    const bare = process.execArgv.filter(
      (a, i, all) => /^--(import|loader|require)$/.test(all[i - 1] ?? '') && !/^(\/|file:)/.test(a),
    );
    if (values.exec === undefined && bare.length > 0)
      io.stderr(
        `lvs-ha systemd-unit: node's ${bare.join(', ')} is resolved from the service's directory (/): give its absolute path, or --exec\n`,
      );
    io.stdout(
      systemdUnit({
        director: values.director === true,
        configDir,
        exec: values.exec !== undefined ? [values.exec] : runningExec(),
        ...(deadtimeMs !== undefined && { deadtimeMs }),
        scripts: values.scripts === true,
      }),
    );
    return 0;
  },
};
