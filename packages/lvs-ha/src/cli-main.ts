// The command dispatcher, separate from the bin file so tests can call it
// with captured output instead of spawning a process. Each command lives in
// commands/<name>.ts and is loaded only when used.

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
};

function usage(): string {
  return `usage: lvs-ha <command> [options]\n\ncommands: ${Object.keys(commands).join(', ') || '(none)'}\nrun 'lvs-ha <command> --help' for a command's options\n`;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
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
