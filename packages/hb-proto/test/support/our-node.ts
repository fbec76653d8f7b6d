// Runs examples/hb-proto-node.ts (our node) inside a namespace, against this
// package's sources, and collects the JSON lines it prints.
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Netns } from '@lvs-ha/lab';

const pkg = fileURLToPath(new URL('../..', import.meta.url));
const haConfig = fileURLToPath(new URL('../../../ha-config/src/index.ts', import.meta.url));
export const EXAMPLE = fileURLToPath(new URL('../../../../examples/hb-proto-node.ts', import.meta.url));

export interface OurLine {
  event: string;
  [k: string]: unknown;
}

export class OurNode {
  readonly lines: OurLine[] = [];
  stderr = '';
  readonly child: ChildProcess;
  readonly dir: string;
  readonly exited: Promise<number | null>;
  #waiters: (() => void)[] = [];

  private constructor(child: ChildProcess, dir: string) {
    this.child = child;
    this.dir = dir;
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      try {
        this.lines.push(JSON.parse(l) as OurLine);
      } catch {
        this.lines.push({ event: 'raw', line: l });
      }
      for (const w of this.#waiters.splice(0)) w();
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
  }

  static async start(
    ns: Netns,
    name: string,
    files: { haCf: string; authkeys: string; haresources?: string },
    env: Record<string, string> = {},
  ): Promise<OurNode> {
    const dir = await mkdtemp(join(tmpdir(), `hbproto-ours-${name}-`));
    await writeFile(join(dir, 'ha.cf'), files.haCf);
    if (files.haresources !== undefined) await writeFile(join(dir, 'haresources'), files.haresources);
    await writeFile(join(dir, 'authkeys'), files.authkeys, { mode: 0o600 });
    await chmod(join(dir, 'authkeys'), 0o600);
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          baseUrl: pkg,
          paths: { '@lvs-ha/hb-proto': ['src/index.ts'], '@lvs-ha/ha-config': [haConfig] },
        },
      }),
    );
    const child = ns.spawn([process.execPath, '--import', 'tsx', EXAMPLE, dir, name], {
      cwd: pkg,
      env: { TSX_TSCONFIG_PATH: join(dir, 'tsconfig.json'), PATH: process.env.PATH ?? '', ...env },
    });
    return new OurNode(child, dir);
  }

  /** Waits for a line matching `pred`; returns it, or throws with what was seen. */
  async waitFor(pred: (l: OurLine) => boolean, timeoutMs: number, what: string): Promise<OurLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `our node: no ${what} within ${timeoutMs} ms; saw ${JSON.stringify(this.lines.slice(-15))} stderr=${this.stderr.slice(-800)}`,
        );
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** What our node holds now (its last "resources" line). */
  holding(): { holding: string; rscstatus: string } | undefined {
    const l = this.lines.filter((x) => x.event === 'resources').at(-1);
    return l ? { holding: l.holding as string, rscstatus: l.rscstatus as string } : undefined;
  }

  /** Waits until our node's last "resources" line satisfies `pred`. */
  async waitHolding(
    pred: (h: { holding: string; rscstatus: string }) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<void> {
    await this.waitFor(
      (l) =>
        l === this.lines.filter((x) => x.event === 'resources').at(-1) &&
        pred({ holding: l.holding as string, rscstatus: l.rscstatus as string }),
      timeoutMs,
      what,
    );
  }

  status(node: string): string | undefined {
    let s: string | undefined;
    for (const l of this.lines) if (l.event === 'status' && l.node === node) s = l.status as string;
    return s;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }

  async cleanup(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
