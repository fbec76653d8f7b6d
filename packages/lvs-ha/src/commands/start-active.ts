// `lvs-ha start` in the active/active mode (DIR/bgp.cf present, or
// --active-active): @lvs-ha/cluster's ActiveNode wired to the control
// socket, the metrics and signals. No Heartbeat: ha.cf, authkeys and
// haresources are not read. SIGTERM/SIGINT (or `lvs-ha stop`): every VIP
// withdrawn first, then BIRD, the table, the VIPs on lo; SIGHUP reloads
// ldirectord.cf (bgp.cf: a restart).
import { hostname } from 'node:os';
import { ActiveNode, loadActiveConfig } from '@lvs-ha/cluster';
import { ApiError, type ApiServer, serveApi } from '../api.js';
import type { CliIo } from '../cli-main.js';
import { type ControlTarget, controlRoutes, DEFAULT_CONTROL_SOCKET } from '../control.js';
import { directorLogger, teeIo } from '../logging.js';
import { nodeControl } from '../node-control.js';
import { observeRoutes } from '../observe.js';
import { EventLog, pageRoutes } from '../page.js';
import { clusterStatusLine, type SystemdNotifier } from '../systemd.js';

export interface ActiveStartOptions {
  dir: string;
  node?: string;
  control?: string;
  birdDir?: string;
  tcp?: { host: string; port: number; allowWrites?: true; token?: string };
  sd: SystemdNotifier;
}

const NO_PAIR = 'active/active (bgp.cf): every director is active, there is no pair to hand over to';

export async function startActive(o: ActiveStartOptions, io: CliIo): Promise<number> {
  const config = await loadActiveConfig(o.dir);
  for (const p of config.problems)
    (p.severity === 'error' ? io.stderr : io.stdout)(`${p.severity}: ${p.message}\n`);
  if (!config.ldirectord || !config.bgp) {
    io.stderr(`lvs-ha start: ${config.bgpFile}: the active/active configuration has errors\n`);
    return 1;
  }
  const logfile = config.ldirectord.global.logfile;
  io = teeIo(io, directorLogger(config.ldirectordFile, logfile.explicit ? logfile.value : undefined, io));
  let node: ActiveNode | undefined;
  let target: ControlTarget | undefined;
  let stop: () => void = () => {};
  const events = new EventLog();
  let control: ApiServer;
  try {
    control = await serveApi({
      socketPath: o.control ?? DEFAULT_CONTROL_SOCKET,
      routes: [...controlRoutes(() => target), ...observeRoutes(() => node), ...pageRoutes({ events })],
      ...(o.tcp && { tcp: o.tcp }),
    });
  } catch (e) {
    io.stderr(`lvs-ha start: ${(e as Error).message}\n`);
    return 1;
  }
  const running = new ActiveNode({
    config,
    node: o.node ?? hostname(),
    ...(o.birdDir !== undefined && { birdDir: o.birdDir }),
  });
  node = running;
  const log = (line: string) => io.stdout(`${line}\n`);
  running.on('log', log);
  running.on('log', events.push);
  const reload = async () => {
    o.sd.reloading(`reloading ${config.ldirectordFile}`);
    type Files = Awaited<ReturnType<ActiveNode['reload']>>;
    const files: Files = await running.reload(await loadActiveConfig(o.dir)).catch((e: Error): Files => {
      log(`error reload: ${e.message}`);
      return [{ file: config.ldirectordFile, ok: false }];
    });
    for (const f of files) log(f.message ?? `${f.file}: ${f.ok ? 'reloaded' : 'refused (errors above)'}`);
    o.sd.ready(clusterStatusLine(running.status()));
    return files;
  };
  const base = nodeControl(
    {
      report: () => running.report(),
      standby: () => {
        throw new ApiError('CONFLICT', NO_PAIR);
      },
      takeover: () => {
        throw new ApiError('CONFLICT', NO_PAIR);
      },
      reload,
      directorsRunning: () => running.directorsRunning(),
    },
    { stop: () => setImmediate(stop) },
  );
  target = {
    ...base,
    drain: (req) => {
      // out of the table and back in later would put it at the end of the list: another Maglev table
      if (req.remove)
        throw new ApiError(
          'CONFLICT',
          'active/active: a real server stays in the table (drain without --remove: weight 0)',
        );
      return base.drain(req);
    },
  };
  return new Promise<number>((resolve) => {
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      for (const [sig, fn] of handlers) process.off(sig, fn);
      void control.close().then(() => resolve(code));
    };
    let stopping = false;
    stop = () => {
      if (stopping) return;
      stopping = true;
      o.sd.stopping('stopping: withdrawing the VIPs, then removing the table');
      void running.stop().then(
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
    const handlers: [NodeJS.Signals, () => void][] = [
      ['SIGTERM', stop],
      ['SIGINT', stop],
      ['SIGHUP', () => void reload()],
      ['SIGUSR1', () => log(`warning SIGUSR1 (standby): ${NO_PAIR}`)],
      ['SIGUSR2', () => log(`warning SIGUSR2 (takeover): ${NO_PAIR}`)],
    ];
    for (const [sig, fn] of handlers) process.on(sig, fn);
    running.start().then(
      () => o.sd.ready(clusterStatusLine(running.status())),
      (e: unknown) => {
        io.stderr(`lvs-ha start: ${(e as Error).message}\n`);
        finish(1);
      },
    );
  });
}
