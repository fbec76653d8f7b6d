// The command dispatcher, separate from the bin file so tests can call it
// with captured output instead of spawning a process. Each command lives in
// commands/<name>.ts and is loaded only when used.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export interface CliCommand {
  summary: string;
  run(args: readonly string[], io: CliIo): Promise<number>;
}

const commands: Record<string, () => Promise<CliCommand>> = {
  // Add one line per command here.
  check: async () => (await import('./commands/check.js')).checkCommand,
  director: async () => (await import('./commands/director.js')).directorCommand,
  lab: async () => (await import('./commands/lab.js')).labCommand,
  start: async () => (await import('./commands/start.js')).startCommand,
  status: async () => (await import('./commands/control.js')).statusCommand,
  standby: async () => (await import('./commands/control.js')).standbyCommand,
  takeover: async () => (await import('./commands/control.js')).takeoverCommand,
  reload: async () => (await import('./commands/control.js')).reloadCommand,
  stop: async () => (await import('./commands/control.js')).stopCommand,
  drain: async () => (await import('./commands/weights.js')).drainCommand,
  undrain: async () => (await import('./commands/weights.js')).undrainCommand,
  weight: async () => (await import('./commands/weights.js')).weightCommand,
  'systemd-unit': async () => (await import('./commands/systemd-unit.js')).systemdUnitCommand,
};

function usage(): string {
  return `usage: lvs-ha <command> [options]\n\ncommands: ${Object.keys(commands).join(', ') || '(none)'}\nrun 'lvs-ha help <command>' or 'lvs-ha <command> --help' for a command's options, 'lvs-ha --version' for the version\n`;
}

/**
 * lvs-ha's version, read from its package.json when asked rather than baked
 * in by the build: the nearest package.json named lvs-ha above this module,
 * which is the same file from src/ and from the built (possibly chunked) dist/.
 */
export function cliVersion(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (name === 'lvs-ha' && version) return version;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json of lvs-ha above ${fileURLToPath(from)}`);
    dir = up;
  }
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === 'version') {
    io.stdout(`${cliVersion()}\n`);
    return 0;
  }
  // `lvs-ha help CMD` is `lvs-ha CMD --help`: each command owns its help text.
  if (name === 'help' && rest[0] !== undefined) return runCli([rest[0], '--help'], io);
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.stdout(usage());
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (!load) {
    io.stderr(`lvs-ha: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  const command = await load();
  return command.run(rest, io);
}
