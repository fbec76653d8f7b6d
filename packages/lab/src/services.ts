// Real services for real servers: Apache from Debian with mod_status (so the
// seed's check, GET /server-status expecting "Apache Server Status", works
// unchanged), and a minimal Node HTTP server that names the real server.
import { LabError } from './errors.js';
import type { Netns } from './netns.js';
import type { BackgroundProcess } from './runner.js';
import { until } from './until.js';

export interface HttpServerOptions {
  /** Port (default 80). */
  port?: number;
  /** Address to listen on (default every address of the namespace, which includes a VIP on lo). */
  host?: string;
  /** Response body (default the label and a newline). */
  body?: string;
  /** Names the server in the X-Real-Server header and the default body. */
  label: string;
}

// Plain JavaScript run with the host's node inside the namespace (node -e).
const NODE_SERVER = `
const http = require('node:http');
const { LAB_LABEL, LAB_BODY, LAB_PORT, LAB_HOST } = process.env;
const server = http.createServer((req, res) => {
  res.setHeader('X-Real-Server', LAB_LABEL);
  res.setHeader('Content-Type', 'text/plain');
  res.end(LAB_BODY);
});
server.listen(Number(LAB_PORT), LAB_HOST || undefined, () => console.log('listening ' + LAB_PORT));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/** For until(): a server that exits while it starts is a failure at once, not a timeout. */
const alive = (what: string, proc: BackgroundProcess) => async () => {
  if (!(await proc.running())) throw new LabError('COMMAND_FAILED', `${what} exited while starting`);
};

/** Starts the minimal Node HTTP server in a namespace and waits until it listens. */
export async function startHttpServer(ns: Netns, opts: HttpServerOptions): Promise<BackgroundProcess> {
  const port = opts.port ?? 80;
  const proc = await ns.start([process.execPath, '-e', NODE_SERVER], {
    env: {
      LAB_LABEL: opts.label,
      LAB_BODY: opts.body ?? `${opts.label}\n`,
      LAB_PORT: String(port),
      LAB_HOST: opts.host ?? '',
    },
  });
  try {
    const what = `node http server in ${ns.name}`;
    await until(what, async () => (await proc.output()).includes('listening'), 30_000, {
      guard: alive(what, proc),
    });
  } catch (e) {
    const out = await proc.output().catch(() => '');
    await proc.stop();
    throw new LabError((e as LabError).code ?? 'TIMEOUT', `${(e as Error).message}: ${out.trim()}`);
  }
  return proc;
}

export interface ApacheOptions {
  /** Addresses to Listen on (e.g. the real server's address and the VIP). */
  listen: readonly string[];
  /** Port (default 80). */
  port?: number;
  /** ServerName and the body of / (default "<serverName>\n"). */
  serverName: string;
  body?: string;
}

export interface ApacheServer extends BackgroundProcess {
  /** The server's own directory: apache2.conf, htdocs/, logs, pid and lock files. */
  readonly dir: string;
  readonly config: string;
}

/** The apache2.conf the lab writes. Pure. */
export function apacheConfig(dir: string, o: ApacheOptions): string {
  const port = o.port ?? 80;
  const mods = '/usr/lib/apache2/modules';
  return `# lvs-ha lab: Apache for real server ${o.serverName}
ServerRoot ${dir}
ServerName ${o.serverName}
PidFile ${dir}/run/apache2.pid
DefaultRuntimeDir ${dir}/run
Mutex file:${dir}/lock default
ErrorLog ${dir}/logs/error.log
LogLevel warn
User www-data
Group www-data
LoadModule mpm_event_module ${mods}/mod_mpm_event.so
LoadModule authz_core_module ${mods}/mod_authz_core.so
LoadModule dir_module ${mods}/mod_dir.so
LoadModule mime_module ${mods}/mod_mime.so
LoadModule status_module ${mods}/mod_status.so
TypesConfig /etc/mime.types
${o.listen.map((a) => `Listen ${a}:${port}`).join('\n')}
StartServers 1
ServerLimit 1
ThreadsPerChild 16
MaxRequestWorkers 16
ExtendedStatus On
LogFormat "%a %l %u %t \\"%r\\" %>s %b" common
CustomLog ${dir}/logs/access.log common
DocumentRoot ${dir}/htdocs
DirectoryIndex index.html
<Directory />
  Require all denied
</Directory>
<Directory ${dir}/htdocs>
  Require all granted
</Directory>
<Location /server-status>
  SetHandler server-status
  Require all granted
</Location>
`;
}

/**
 * Starts Debian's Apache in a namespace with its own config, pid, lock and
 * log files under a temporary directory, /server-status served by
 * mod_status, and waits until it answers.
 */
export async function startApache(ns: Netns, o: ApacheOptions): Promise<ApacheServer> {
  if (o.listen.length === 0)
    throw new LabError('INVALID_ARGUMENT', 'Apache needs at least one address to listen on');
  const port = o.port ?? 80;
  const mk = await ns.runner.exec(
    ['mktemp', '-d', `/tmp/lvsha-apache-${process.pid}-${o.serverName}-XXXXXX`],
    {
      check: true,
    },
  );
  const dir = mk.stdout.trim();
  const config = `${dir}/apache2.conf`;
  await ns.runner.exec(
    [
      'sh',
      '-c',
      `chmod 755 "$1" && mkdir -p "$1/htdocs" "$1/run" "$1/lock" "$1/logs" && cat > "$1/apache2.conf" && printf %s "$2" > "$1/htdocs/index.html"`,
      'sh',
      dir,
      o.body ?? `${o.serverName}\n`,
    ],
    { input: apacheConfig(dir, o), check: true },
  );
  const proc = await ns.start(['apache2', '-f', config, '-DFOREGROUND']);
  const url = `http://${o.listen[0]!.includes(':') ? `[${o.listen[0]}]` : o.listen[0]}:${port}/server-status?auto`;
  try {
    const what = `apache in ${ns.name}`;
    await until(
      what,
      async () => (await ns.exec(['curl', '-sf', '--noproxy', '*', '--max-time', '2', url])).code === 0,
      30_000,
      { guard: alive(what, proc) },
    );
  } catch (e) {
    const out = await proc.output().catch(() => '');
    const log = await ns.runner.exec(['cat', `${dir}/logs/error.log`]).catch(() => ({ stdout: '' }));
    await proc.stop();
    await ns.runner.exec(['rm', '-rf', dir]).catch(() => {});
    throw new LabError(
      (e as LabError).code ?? 'TIMEOUT',
      `${(e as Error).message}: ${out.trim()} ${log.stdout.trim()}`,
    );
  }
  return {
    pid: proc.pid,
    dir,
    config,
    output: () => proc.output(),
    running: () => proc.running(),
    stop: async () => {
      await proc.stop();
      await ns.runner.exec(['rm', '-rf', dir]);
    },
  };
}
