// `lvs-ha director`: ldirectord's job on this director, in the foreground.
// Checks the real servers of an ldirectord.cf and keeps the kernel's IPVS
// table to what ldirectord would make of them; SIGHUP reloads the file,
// SIGTERM/SIGINT stop (removing the virtual services, as ldirectord's
// cleanstop does). One line per event on stdout, errors on stderr.
import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigCallback } from '@lvs-ha/cluster';
import { Director, describeOperation, describeSysctlChange } from '@lvs-ha/director';
import { loadLdirectordCf } from '@lvs-ha/ha-config';
import { describeDestination, Ipvs } from '@lvs-ha/ipvs';
import type { CliCommand, CliIo } from '../cli-main.js';
import { directorLogger, teeIo } from '../logging.js';
import { SystemdNotifier } from '../systemd.js';

const HELP = `usage: lvs-ha director [--config FILE]

Does ldirectord's job on this director: checks the real servers FILE names
(default /etc/ha.d/ldirectord.cf) and keeps the kernel's IPVS table to what
ldirectord makes of their health (quiescent, fallback, failurecount...),
changing only the virtual services the file names. Runs in the foreground
(as ldirectord with supervised = yes): SIGHUP reloads FILE, SIGTERM or SIGINT
stops and removes the virtual services (unless cleanstop = no).
Exit status: 0 stopped, 1 the file or IPVS cannot be used, 2 bad usage.

  --config FILE   the ldirectord.cf (default /etc/ha.d/ldirectord.cf)
`;

async function load(file: string, io: CliIo) {
  const r = await loadLdirectordCf(file, { configDir: process.cwd() });
  for (const p of r.problems) io.stderr(`${p.severity}: ${p.message}\n`);
  return r.value;
}

export const directorCommand: CliCommand = {
  summary: "ldirectord's job: check the real servers, keep the IPVS table",
  async run(args, io) {
    let values: { config?: string; help?: boolean };
    try {
      ({ values } = parseArgs({
        args: [...args],
        options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
        strict: true,
      }));
    } catch (e) {
      io.stderr(`lvs-ha director: ${(e as Error).message}\n${HELP}`);
      return 2;
    }
    if (values.help) {
      io.stdout(HELP);
      return 0;
    }
    // systemd (Type=notify): its variables kept from what fallbackcommand inherits; WATCHDOG=1 from the main thread
    const sd = SystemdNotifier.fromEnvironment(process.env, {
      onError: (e) => io.stderr(`lvs-ha director: systemd: ${(e as Error).message}\n`),
    });
    sd.startWatchdog();
    const file = values.config ?? '/etc/ha.d/ldirectord.cf';
    const config = await load(file, io);
    if (!config) return 1;
    let ipvs: Ipvs;
    try {
      ipvs = await Ipvs.open();
    } catch (e) {
      io.stderr(`lvs-ha director: ${(e as Error).message}\n`);
      return 1;
    }
    const director = new Director({ ipvs });
    // from here every line also goes where ldirectord.cf's logfile says (a path or a syslog facility)
    const logfile = config.global.logfile.explicit ? config.global.logfile.value : undefined;
    io = teeIo(io, directorLogger(file, logfile, io));
    director.on('sysctl', (c) => io.stdout(`${describeSysctlChange(c)}\n`));
    director.on('fallback', (f) =>
      io.stdout(
        `${f.virtual} fallback ${f.server} ${f.on ? 'on (no real server up)' : 'off (a real server is up)'}\n`,
      ),
    );
    director.on('transition', (t) => {
      const real = describeDestination(t.real);
      const why = t.up ? '' : ` (${t.result.reason}: ${t.result.detail.split(/\r?\n/)[0]?.slice(0, 120)})`;
      io.stdout(`${t.virtual} real ${real} ${t.up ? 'up' : 'down'}${why}\n`);
    });
    director.on('applied', (a) => {
      for (const op of a.operations) io.stdout(`${describeOperation(op)}\n`);
    });
    director.on('error', (e) => io.stderr(`error ${e.code}: ${e.message}\n`));
    try {
      await director.start(config);
    } catch (e) {
      io.stderr(`lvs-ha director: ${(e as Error).message}\n`);
      await director.stop().catch(() => []);
      ipvs.close();
      return 1;
    }
    io.stdout(`started: ${config.virtuals.length} virtual service(s) from ${file}\n`);
    sd.ready(`${config.virtuals.length} virtual service(s) from ${file}`);
    // ldirectord's callback: CALLBACK FILE whenever the file's content changed (looked at as autoreload looks)
    let running = config;
    const callback = new ConfigCallback({
      say: (line) =>
        (line.startsWith('error') || line.startsWith('warning') ? io.stderr : io.stdout)(`${line}\n`),
    });
    await callback.look(file, null);
    return new Promise<number>((resolve) => {
      const reload = async () => {
        sd.reloading(`reloading ${file}`);
        const next = await load(file, io);
        if (!next) {
          io.stderr(`reload of ${file} refused: the running configuration stays\n`);
          sd.ready(`reload of ${file} refused: the running configuration stays`);
          await callback.look(file, running.global.callback.value);
          return;
        }
        running = next;
        await director.reload(next).catch(() => undefined); // errors are reported by the 'error' event
        io.stdout(`reloaded ${file}\n`);
        sd.ready(`${next.virtuals.length} virtual service(s) from ${file}`);
        await callback.look(file, next.global.callback.value);
      };
      const onHup = () => void reload();
      // ldirectord's autoreload: the file looked at every checkinterval, reloaded when it changed
      const stampOf = async () => {
        const st = await stat(file).catch(() => undefined);
        return st ? `${st.mtimeMs}/${st.size}` : 'missing';
      };
      let stamp = '';
      void stampOf().then((now) => {
        stamp = now;
      });
      let looking = false;
      const autoreload = setInterval(() => {
        const g = running.global;
        if ((!g.autoreload.value && !g.callback.value) || looking) return;
        looking = true;
        void stampOf()
          .then(async (now) => {
            if (now === stamp) return;
            stamp = now;
            if (!g.autoreload.value) {
              await callback.look(file, g.callback.value);
              return;
            }
            io.stdout(`${file} changed (autoreload): reloading\n`);
            await reload();
          })
          .finally(() => {
            looking = false;
          });
      }, config.global.checkinterval.value * 1000);
      const stop = async () => {
        sd.stopping('stopping: removing the virtual services');
        clearInterval(autoreload);
        process.off('SIGHUP', onHup);
        process.off('SIGTERM', onStop);
        process.off('SIGINT', onStop);
        let code = 0;
        try {
          for (const op of await director.stop()) io.stdout(`${describeOperation(op)}\n`);
        } catch (e) {
          io.stderr(`lvs-ha director: ${(e as Error).message}\n`);
          code = 1;
        }
        ipvs.close();
        io.stdout('stopped\n');
        resolve(code);
      };
      const onStop = () => void stop();
      process.on('SIGHUP', onHup);
      process.on('SIGTERM', onStop);
      process.on('SIGINT', onStop);
    });
  },
};
