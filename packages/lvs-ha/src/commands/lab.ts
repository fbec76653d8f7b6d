// `lvs-ha lab`: brings the seed's network up (client, load1, load2, rs1,
// rs2; in a qemu guest with kernel IPVS when this machine's kernel has
// none), sets up the seed's service by hand (VIP on load1, wrr, direct
// routing, Apache with mod_status on the real servers), prints a short
// guided tour, and tears everything down. The tour itself is seedTour() in
// @lvs-ha/lab, where the lab's tests run it.
import type { CliCommand, CliIo } from '../cli-main.js';

const HELP = `usage: lvs-ha lab [--pair [--mixed]] [--requests N] [--hold SECONDS]

Brings the seed topology up and shows it: addresses, the IPVS table, client
requests to the VIP and which real server answered, the VIP moving to load2.
Needs root; boots a qemu guest (Debian's kernel) when this kernel has no IPVS.

  --pair           run the real thing instead: 'lvs-ha start' on load1 and load2
                   from the seed's files; load1 serves, dies, load2 takes over,
                   load1 comes back and takes its group again
  --mixed          with --pair: load1 runs Debian's Heartbeat 3.0.6 and
                   ldirectord on the same files (a cluster moved to lvs-ha one
                   director at a time)
  --requests N     client requests to send to the VIP (default 12)
  --hold SECONDS   keep the lab up this long before tearing it down (default 0;
                   not with --pair)
`;

interface LabOptions {
  requests: number;
  holdSeconds: number;
  pair: boolean;
  mixed: boolean;
}

function parseArgs(args: readonly string[]): LabOptions | string {
  const o: LabOptions = { requests: 12, holdSeconds: 0, pair: false, mixed: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = args[i + 1];
    const int = (name: string, max: number) => {
      const n = Number(value);
      if (value === undefined || !Number.isInteger(n) || n < 0 || n > max) {
        throw new Error(`${name} needs an integer from 0 to ${max}, got ${value ?? 'nothing'}`);
      }
      i++;
      return n;
    };
    try {
      if (a === '--requests') o.requests = int('--requests', 1000);
      else if (a === '--hold') o.holdSeconds = int('--hold', 86_400);
      else if (a === '--pair') o.pair = true;
      else if (a === '--mixed') o.mixed = true;
      else return `unknown option ${a}`;
    } catch (e) {
      return (e as Error).message;
    }
  }
  if (o.mixed && !o.pair) return '--mixed goes with --pair';
  return o;
}

/**
 * The lab is a package of its own (a qemu guest, namespaces, test servers)
 * that no director needs: an optional peer, loaded only here.
 */
async function loadLab(): Promise<typeof import('@lvs-ha/lab')> {
  try {
    return await import('@lvs-ha/lab');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND')
      throw new Error(
        'the lab is not installed: npm install @lvs-ha/lab (it is not needed to run a director)',
      );
    throw e;
  }
}

async function tour(o: LabOptions, io: CliIo): Promise<number> {
  const lab = await loadLab();
  if (o.pair) {
    const started = Date.now();
    await lab.pairTour({
      requests: o.requests,
      // this very command, run the same way (its node options, e.g. tsx's loader, included)
      lvsHa: { argv: [process.execPath, ...process.execArgv, process.argv[1] as string] },
      ...(o.mixed && { load1: 'heartbeat' as const }),
      say: (line) => io.stdout(`${line}\n`),
    });
    io.stdout(`\nTorn down. The tour took ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
    return 0;
  }
  await lab.seedTour({
    requests: o.requests,
    holdSeconds: o.holdSeconds,
    say: (line) => io.stdout(`${line}\n`),
  });
  return 0;
}

export const labCommand: CliCommand = {
  summary:
    'bring the seed topology up (qemu guest when the kernel has no IPVS), show a guided tour, tear it down',
  async run(args, io) {
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout(HELP);
      return 0;
    }
    const o = parseArgs(args);
    if (typeof o === 'string') {
      io.stderr(`lvs-ha lab: ${o}\n${HELP}`);
      return 2;
    }
    try {
      return await tour(o, io);
    } catch (e) {
      io.stderr(`lvs-ha lab: ${(e as Error).message}\n`);
      return 1;
    }
  },
};
