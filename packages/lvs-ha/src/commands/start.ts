// `lvs-ha start`: this machine as one director of the pair, in the
// foreground: Heartbeat's membership and hand-over with the peer (real
// Heartbeat 3.0.6 or lvs-ha), and the haresources groups it holds (the VIP,
// ldirectord as the Director, other resource scripts). SIGTERM or SIGINT
// leave the cluster as Heartbeat's shutdown does (resources released, the
// peer told); SIGUSR1 is hb_standby, SIGUSR2 hb_takeover.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { ClusterNode } from '@lvs-ha/cluster';
import { loadConfigDir } from '@lvs-ha/ha-config';
import type { CliCommand } from '../cli-main.js';
import { type ControlAnswer, DEFAULT_CONTROL_SOCKET, serveControl } from '../control.js';

const HELP = `usage: lvs-ha start [--config-dir DIR] [--node NAME]

Runs this machine as a director of the pair described by DIR (default
/etc/ha.d): ha.cf and authkeys for Heartbeat's membership (wire-compatible
with Heartbeat 3.0.6, so the peer may be a real Heartbeat), haresources for
what this node holds: an IPaddr/IPaddr2 VIP (brought up and announced),
ldirectord (checks and the IPVS table, as 'lvs-ha director'), or any script
in DIR/resource.d or /etc/init.d. Runs in the foreground, one line per event.
SIGTERM/SIGINT: release the resources and leave; SIGUSR1: give our resources
to the peer (hb_standby); SIGUSR2: take the peer's (hb_takeover). 'lvs-ha
status', 'lvs-ha standby' and 'lvs-ha takeover' ask it through its control
socket.
Exit status: 0 stopped, 1 the configuration cannot be used or another node
runs on the control socket, 2 bad usage.

  --config-dir DIR   Heartbeat's configuration directory (default /etc/ha.d)
  --node NAME        this node's name in ha.cf (default: the host name)
  --control PATH     the control socket (default ${DEFAULT_CONTROL_SOCKET})
`;

export const startCommand: CliCommand = {
  summary: 'run this machine as a director of the pair (Heartbeat, VIP, ldirectord)',
  async run(args, io) {
    let values: { 'config-dir'?: string; node?: string; control?: string; help?: boolean };
    try {
      ({ values } = parseArgs({
        args: [...args],
        options: {
          'config-dir': { type: 'string' },
          node: { type: 'string' },
          control: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
        strict: true,
      }));
    } catch (e) {
      io.stderr(`lvs-ha start: ${(e as Error).message}\n${HELP}`);
      return 2;
    }
    if (values.help) {
      io.stdout(HELP);
      return 0;
    }
    const dir = values['config-dir'] ?? '/etc/ha.d';
    const config = await loadConfigDir(dir);
    for (const p of config.problems) io.stderr(`${p.severity}: ${p.message}\n`);
    let node: ClusterNode;
    try {
      node = new ClusterNode({ config, node: values.node ?? hostname() });
    } catch (e) {
      io.stderr(`lvs-ha start: ${(e as Error).message}\n`);
      return 1;
    }
    node.on('log', (line) => io.stdout(`${line}\n`));
    // the control socket first: a second node on this machine stops here, before it joins
    let control: { close(): Promise<void> };
    try {
      control = await serveControl(
        values.control ?? DEFAULT_CONTROL_SOCKET,
        async (req): Promise<ControlAnswer> => {
          if (req.op === 'status') return { ok: true, status: node.status() };
          if (req.op === 'standby') node.heartbeat.standby('all');
          else node.heartbeat.takeover('all');
          return { ok: true };
        },
      );
    } catch (e) {
      io.stderr(`lvs-ha start: ${(e as Error).message}\n`);
      return 1;
    }
    try {
      await node.start();
    } catch (e) {
      io.stderr(`lvs-ha start: ${(e as Error).message}\n`);
      await node.stop({ graceful: false }).catch(() => {});
      await control.close();
      return 1;
    }
    return new Promise<number>((resolve) => {
      const standby = () => node.heartbeat.standby('all');
      const takeover = () => node.heartbeat.takeover('all');
      const stop = () => {
        for (const [sig, fn] of handlers) process.off(sig, fn);
        void node
          .stop({ graceful: true })
          .finally(() => control.close())
          .then(
            () => {
              io.stdout('stopped\n');
              resolve(0);
            },
            (e: unknown) => {
              io.stderr(`lvs-ha start: ${(e as Error).message}\n`);
              resolve(1);
            },
          );
      };
      const handlers: [NodeJS.Signals, () => void][] = [
        ['SIGTERM', stop],
        ['SIGINT', stop],
        ['SIGUSR1', standby],
        ['SIGUSR2', takeover],
      ];
      for (const [sig, fn] of handlers) process.on(sig, fn);
    });
  },
};
