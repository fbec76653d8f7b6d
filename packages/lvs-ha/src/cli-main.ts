// The command dispatcher, separate from the bin file so tests can call it
// with captured output instead of spawning a process.

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const USAGE = `usage: lvs-ha <command> [options]

commands:
  check [--config-dir DIR]   validate ha.cf, authkeys, haresources, ldirectord.cf
  help                       this text
`;

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout(USAGE);
      return command === undefined ? 2 : 0;
    default:
      io.stderr(`lvs-ha: unknown command '${command}'\n${USAGE}`);
      void rest;
      return 2;
  }
}
