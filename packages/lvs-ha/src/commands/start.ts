// `lvs-ha start`: this machine as one director of the pair, in the
// foreground (@lvs-ha/cluster's ClusterNode, wired to the control socket
// and to signals). The control socket is taken first and the node built
// and joined only then: a second `lvs-ha start` on the machine stops before
// it has done anything. SIGTERM or SIGINT leave the cluster as Heartbeat's
// shutdown does (resources released, however long that takes, then the
// peer told; a second signal does not cut it short); SIGHUP reloads
// ldirectord.cf; SIGUSR1 is hb_standby, SIGUSR2 hb_takeover.
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { ClusterNode, hasBgpCf } from '@lvs-ha/cluster';
import { loadConfigDir } from '@lvs-ha/ha-config';
import { type ApiServer, parseListen, serveApi } from '../api.js';
import type { CliCommand } from '../cli-main.js';
import { type ControlTarget, controlRoutes, DEFAULT_CONTROL_SOCKET } from '../control.js';
import { nodeLogger } from '../logging.js';
import { nodeControl } from '../node-control.js';
import { Notifier } from '../notify.js';
import { observeRoutes } from '../observe.js';
import { EventLog, pageRoutes } from '../page.js';
import { clusterStatusLine, SystemdNotifier } from '../systemd.js';
import { startActive } from './start-active.js';

const HELP = `usage: lvs-ha start [--config-dir DIR] [--node NAME] [--control PATH] [--script-timeout SECONDS]
                    [--listen HOST:PORT [--allow-writes --token-file FILE]]
                    [--notify SCRIPT [--notify-timeout SECONDS]]
                    [--active-active] [--bird-dir DIR]

Runs this machine as a director of the pair described by DIR (default
/etc/ha.d): ha.cf and authkeys for Heartbeat's membership (wire-compatible
with Heartbeat 3.0.6, so the peer may be a real Heartbeat), haresources for
what this node holds: an IPaddr/IPaddr2 VIP (brought up and announced),
ldirectord (checks and the IPVS table, as 'lvs-ha director'), or any script
in DIR/resource.d or /etc/init.d. Runs in the foreground, one line per event.
SIGTERM/SIGINT: release the resources and leave; SIGHUP: reload
ldirectord.cf; SIGUSR1: give our resources to the peer (hb_standby);
SIGUSR2: take the peer's (hb_takeover). 'lvs-ha status', 'standby',
'takeover', 'reload', 'stop', 'drain', 'undrain' and 'weight' ask it through
its control socket, an HTTP API (curl --unix-socket PATH http://x/status;
GET /api lists the endpoints).
Active/active: when DIR has a bgp.cf (or with --active-active), there is no
pair: this director is one of many behind the routers' ECMP route. The VIPs
of DIR/ldirectord.cf go on lo (ARP suppressed), IPVS uses mh (mh-port,
mh-fallback) with the real servers in the file's order, quiesced when they
fail, sloppy_tcp/sloppy_sctp are on, and BIRD (from bgp.cf: router-id,
local-as, neighbor…) announces each VIP while one of its real servers is
up; withdrawn when none is, and first at a stop. ha.cf, authkeys and
haresources are not read. 'lvs-ha status' shows the BGP and BFD sessions.
Exit status: 0 stopped, 1 the configuration cannot be used, another node
runs on the control socket, or the node failed (its VIPs were taken down
first), 2 bad usage.

  --config-dir DIR          Heartbeat's configuration directory (default /etc/ha.d)
  --node NAME               this node's name in ha.cf (default: the host name)
  --control PATH            the control socket (default ${DEFAULT_CONTROL_SOCKET})
  --script-timeout SECONDS  how long a resource script may run before it is
                            killed and counts as failed (default 60)
  --listen HOST:PORT        the HTTP API on TCP too ([V6]:PORT for IPv6), read-only
                            (the status and the metrics) unless --allow-writes
  --allow-writes            on --listen, take writes (standby, drain, weight…) from a
                            client that sends Authorization: Bearer <token>
  --token-file FILE         the token for --allow-writes: the file's first line
                            (keep it 0600); compared in constant time
  --notify SCRIPT           run SCRIPT TYPE NAME STATE REASON on every change of state,
                            as keepalived's notify: TYPE GROUP (NAME: the haresources
                            group) or NODE (NAME: this node); STATE MASTER, BACKUP,
                            FAULT or STOP; one run at a time, in order, never waited for
  --notify-timeout SECONDS  kill a notify run after this long (default 30)
  --active-active           the active/active mode even without DIR/bgp.cf (which it needs)
  --bird-dir DIR            where BIRD's bird.conf and bird.ctl go (default /run/lvs-ha/bird)
`;

/** For the fail-safety tests: the main thread does nothing else for `ms`, as a hung one would. */
function blockMainThread(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: no timer, no I/O, no message from the membership thread is handled
  }
}

export const startCommand: CliCommand = {
  summary: 'run this machine as a director of the pair (Heartbeat, VIP, ldirectord)',
  async run(args, io) {
    let values: {
      'config-dir'?: string;
      node?: string;
      control?: string;
      'script-timeout'?: string;
      listen?: string;
      'allow-writes'?: boolean;
      'token-file'?: string;
      notify?: string;
      'notify-timeout'?: string;
      'active-active'?: boolean;
      'bird-dir'?: string;
      help?: boolean;
    };
    let tcp: { host: string; port: number } | undefined;
    try {
      ({ values } = parseArgs({
        args: [...args],
        options: {
          'config-dir': { type: 'string' },
          node: { type: 'string' },
          control: { type: 'string' },
          'script-timeout': { type: 'string' },
          listen: { type: 'string' },
          'allow-writes': { type: 'boolean' },
          'token-file': { type: 'string' },
          notify: { type: 'string' },
          'notify-timeout': { type: 'string' },
          'active-active': { type: 'boolean' },
          'bird-dir': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
        strict: true,
      }));
      const t = values['script-timeout'];
      if (t !== undefined && !(Number(t) > 0 && Number(t) <= 86_400))
        throw new Error(`--script-timeout needs seconds from 0 to 86400, got ${t}`);
      if (values.listen !== undefined) tcp = parseListen(values.listen);
      if ((values['allow-writes'] || values['token-file'] !== undefined) && !tcp)
        throw new Error(
          '--allow-writes and --token-file are for --listen (the Unix socket takes writes: it is mode 0600)',
        );
      if (values['allow-writes'] && values['token-file'] === undefined)
        throw new Error('--allow-writes needs --token-file FILE');
      const nt = values['notify-timeout'];
      if (nt !== undefined && !(Number(nt) > 0 && Number(nt) <= 3600))
        throw new Error(`--notify-timeout needs seconds from 0 to 3600, got ${nt}`);
      if (nt !== undefined && values.notify === undefined)
        throw new Error('--notify-timeout is for --notify SCRIPT');
    } catch (e) {
      io.stderr(`lvs-ha start: ${(e as Error).message}\n${HELP}`);
      return 2;
    }
    if (values.help) {
      io.stdout(HELP);
      return 0;
    }
    // systemd (Type=notify): its variables kept from what our scripts inherit; WATCHDOG=1 from this, the main, thread
    const sd = SystemdNotifier.fromEnvironment(process.env, {
      onError: (e) => io.stderr(`lvs-ha start: systemd: ${(e as Error).message}\n`),
    });
    sd.startWatchdog();
    const dir = values['config-dir'] ?? '/etc/ha.d';
    let token: string | undefined;
    if (values['allow-writes']) {
      try {
        token = (await readFile(values['token-file'] as string, 'utf8')).split('\n')[0]?.trim();
        if (!token) throw new Error('its first line is empty');
      } catch (e) {
        io.stderr(`lvs-ha start: --token-file ${values['token-file']}: ${(e as Error).message}\n`);
        return 1;
      }
    }
    // active/active: our bgp.cf beside Heartbeat's files (or --active-active): no pair, BIRD announces the VIPs
    if (values['active-active'] || (await hasBgpCf(dir))) {
      if (values.notify !== undefined || values['script-timeout'] !== undefined)
        io.stderr('lvs-ha start: warning: --notify and --script-timeout are for a pair, not active/active\n');
      return startActive(
        {
          dir,
          sd,
          ...(values.node !== undefined && { node: values.node }),
          ...(values.control !== undefined && { control: values.control }),
          ...(values['bird-dir'] !== undefined && { birdDir: values['bird-dir'] }),
          ...(tcp && {
            tcp: {
              ...tcp,
              ...(values['allow-writes'] && { allowWrites: true as const }),
              ...(token && { token }),
            },
          }),
        },
        io,
      );
    }
    const config = await loadConfigDir(dir);
    for (const p of config.problems) io.stderr(`${p.severity}: ${p.message}\n`);
    const faults = process.env.LVS_HA_FAULT_INJECTION === '1';
    let node: ClusterNode | undefined;
    let stop: () => void = () => {};
    let target: ControlTarget | undefined;
    if (values.notify !== undefined) {
      const script = values.notify;
      const ok = await access(script, constants.X_OK).then(
        () => true,
        () => false,
      );
      if (!ok) {
        io.stderr(`lvs-ha start: --notify ${script}: not an executable file\n`);
        return 1;
      }
    }
    // The control socket first: a second node on this machine stops here, before anything is built.
    let control: ApiServer;
    // the node's recent lines for the status page (GET /events)
    const events = new EventLog();
    try {
      control = await serveApi({
        socketPath: values.control ?? DEFAULT_CONTROL_SOCKET,
        routes: [...controlRoutes(() => target), ...observeRoutes(() => node), ...pageRoutes({ events })],
        ...(tcp && {
          tcp: { ...tcp, ...(values['allow-writes'] && { allowWrites: true }), ...(token && { token }) },
        }),
      });
    } catch (e) {
      io.stderr(`lvs-ha start: ${(e as Error).message}\n`);
      return 1;
    }
    if (control.tcpAddress)
      io.stdout(
        `api on http://${control.tcpAddress.host.includes(':') ? `[${control.tcpAddress.host}]` : control.tcpAddress.host}:${control.tcpAddress.port} (${values['allow-writes'] ? 'writes with the token' : 'read-only'})\n`,
      );
    try {
      const t = values['script-timeout'];
      node = new ClusterNode({
        config,
        node: values.node ?? hostname(),
        ...(t !== undefined && { scriptTimeout: Number(t) }),
      });
    } catch (e) {
      io.stderr(`lvs-ha start: ${(e as Error).message}\n`);
      await control.close();
      return 1;
    }
    const running = node;
    target = nodeControl(running, {
      stop: () => setImmediate(stop),
      ...(faults && {
        fault: (f) => {
          if (f.fault === 'kill-heartbeat-thread') running.crashHeartbeatThread();
          else setTimeout(() => blockMainThread(f.ms), 50);
        },
      }),
    });
    // stdout as before, and where ha.cf's logfile/debugfile/logfacility and ldirectord.cf's logfile say
    const log = nodeLogger(config, io, { host: values.node ?? hostname() }).line;
    running.on('log', log);
    running.on('log', events.push);
    // --notify: every change of state, to the script, in order, in the background
    const nt = values['notify-timeout'];
    const notifier =
      values.notify === undefined
        ? undefined
        : new Notifier({
            script: values.notify,
            node: running.status().node,
            say: log,
            ...(nt !== undefined && { timeoutMs: Number(nt) * 1000 }),
          });
    if (notifier) running.on('state', (c) => notifier.notify(c));
    let joined = false;
    // STATUS= for systemctl status, sent when the node's line changes
    running.on('log', () => {
      if (joined) sd.status(clusterStatusLine(running.status()));
    });
    return new Promise<number>((resolve) => {
      let done = false;
      const finish = (code: number) => {
        if (done) return;
        done = true;
        for (const [sig, fn] of handlers) process.off(sig, fn);
        // the last notify runs (STOP, FAULT) are started before the process ends, each bounded by its timeout
        void Promise.all([control.close(), notifier?.idle(notifier.timeoutMs * (notifier.queued + 1))]).then(
          () => resolve(code),
        );
      };
      let stopping = false;
      stop = () => {
        // a second signal while the resources are being released: said, and waited for (no half state)
        if (stopping) {
          void running.stop({ graceful: true });
          return;
        }
        stopping = true;
        sd.stopping('stopping: releasing the resources, then telling the peer');
        void running.stop({ graceful: true }).then(
          () => {
            io.stdout('stopped\n');
            finish(0);
          },
          (e: unknown) => {
            io.stderr(`lvs-ha start: ${(e as Error).message}\n`);
            finish(1);
          },
        );
      };
      const reload = () => {
        sd.reloading('reloading ldirectord.cf');
        void running
          .reload()
          .catch(() => undefined)
          .finally(() => {
            if (!stopping) sd.ready(clusterStatusLine(running.status()));
          });
      };
      const standby = () => running.standby('all');
      const takeover = () => running.takeover('all');
      const handlers: [NodeJS.Signals, () => void][] = [
        ['SIGTERM', stop],
        ['SIGINT', stop],
        ['SIGHUP', reload],
        ['SIGUSR1', standby],
        ['SIGUSR2', takeover],
      ];
      for (const [sig, fn] of handlers) process.on(sig, fn);
      running.on('failed', (reason) => {
        io.stderr(`lvs-ha start: ${reason}\n`);
        sd.status(`failed: ${reason}`);
        finish(1);
        // fail-stop: the resources are down; the process ends now (the peer is about to take over),
        // whatever still holds the event loop; once the notify script was told (FAULT), if there is one
        void (notifier?.idle(notifier.timeoutMs * (notifier.queued + 1)) ?? Promise.resolve()).then(() =>
          setTimeout(() => process.exit(1), 50),
        );
      });
      running.start().then(
        () => {
          // joined: systemd's start-up is complete
          joined = true;
          sd.ready(clusterStatusLine(running.status()));
        },
        async (e: unknown) => {
          io.stderr(`lvs-ha start: ${(e as Error).message}\n`);
          await running.stop({ graceful: false }).catch(() => {});
          finish(1);
        },
      );
    });
  },
};
