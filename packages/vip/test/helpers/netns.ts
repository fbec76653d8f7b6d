// This package's view of @lvs-ha/lab's namespaces: sh() returns stdout (and
// throws on failure), veth pairs get fixed MACs so tests can name them.
import type { ChildProcess } from 'node:child_process';
import { Netns as LabNetns } from '@lvs-ha/lab';
import { describeWithLab } from '@lvs-ha/lab/vitest';

/** describe() that runs where root and network namespaces are available; skipped with the reason printed otherwise. */
export function describeWithNetns(name: string, fn: () => void): void {
  describeWithLab(['root', 'netns'], name, fn);
}

export class Netns {
  private constructor(private readonly lab: LabNetns) {}

  get name(): string {
    return this.lab.name;
  }

  static async create(label = 'vip'): Promise<Netns> {
    return new Netns(await LabNetns.create(label));
  }

  /** Runs a shell line inside the namespace and returns stdout; throws when it fails. */
  async sh(line: string): Promise<string> {
    return (await this.lab.sh(line)).stdout;
  }

  spawn(argv: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): ChildProcess {
    return this.lab.spawn(argv, opts);
  }

  async destroy(): Promise<void> {
    await this.lab.destroy();
  }
}

/** A veth pair between two namespaces, both ends up, with fixed MACs. */
export async function veth(a: Netns, ifA: string, macA: string, b: Netns, ifB: string, macB: string) {
  await a.sh(
    `ip link add ${ifA} address ${macA} type veth peer name ${ifB} netns ${b.name} address ${macB} && ip link set ${ifA} up`,
  );
  await b.sh(`ip link set ${ifB} up`);
}
