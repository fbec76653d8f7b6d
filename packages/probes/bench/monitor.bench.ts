// `pnpm bench`: the Monitor checking 10,000 real servers (connect: full, as
// ldirectord, and half-open; and full on two check threads) and 1,000
// (HTTP negotiate) at a 1 s interval, and Debian's ldirectord on the same kind
// of configuration in the same run (fewer servers: it checks them one after
// the other and forks ipvsadm 5-6 times per real server at start). Everything
// runs in a fresh network namespace, traffic on its loopback only; the
// figures are printed (vitest's own timing of this entry is not the figure).
import { fileURLToPath } from 'node:url';
import { capabilitiesSync, Netns } from '@lvs-ha/lab';
import { bench, describe } from 'vitest';

const caps = capabilitiesSync();
const pkg = fileURLToPath(new URL('..', import.meta.url));
const scenario = fileURLToPath(new URL('scenario.ts', import.meta.url));

type Row = {
  who: string;
  userMsPer1000Checks?: number;
  systemMsPer1000Checks?: number;
  kind: string;
  servers: number;
  checksPerSecond: number;
  cpuPercentOfOneCore: number;
  cpuMsPer1000Checks: number;
  downDelayMs: { n: number; min: number; p50: number; p95: number; max: number };
  downReasons?: string[];
  falseDowns?: number;
};

describe.runIf(caps.root && caps.netns)('Monitor vs ldirectord (namespace loopback)', () => {
  bench(
    '10,000 connect (full, half-open, 2 threads) + 1,000 http at 1 s; ldirectord 500 connect + 100 http',
    async () => {
      const ns = await Netns.create('bench');
      try {
        const r = await ns.exec([process.execPath, '--import', 'tsx', scenario, '10'], {
          cwd: pkg,
          timeoutMs: 1_200_000,
        });
        if (r.code !== 0) throw new Error(`scenario failed (${r.code}): ${r.stderr}`);
        const rows = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as Row[];
        const ms = (d: Row['downDelayMs']) => `p50 ${d.p50} / p95 ${d.p95} / max ${d.max} ms (n=${d.n})`;
        let out =
          '\n[probes bench] 1 s interval, checks on a namespace loopback, machine shared with other work:\n';
        for (const x of rows)
          out +=
            `  ${x.who}, ${x.servers} ${x.kind === 'tcp' ? 'connect' : 'HTTP negotiate'} checks: ` +
            `${x.checksPerSecond} checks/s, CPU ${x.cpuPercentOfOneCore}% of a core = ${x.cpuMsPer1000Checks} ms per 1,000 checks` +
            `${x.userMsPer1000Checks !== undefined ? ` (user ${x.userMsPer1000Checks}, system ${x.systemMsPer1000Checks})` : ''}; ` +
            `death → down ${ms(x.downDelayMs)}${x.downReasons ? ` (${x.downReasons.join(',')})` : ''}` +
            `${x.falseDowns !== undefined ? `; false downs ${x.falseDowns}` : ''}\n`;
        for (const a of rows.filter((x) => x.who.startsWith('lvs-ha'))) {
          const b = rows.find((x) => x.kind === a.kind && x.who.startsWith('ldirectord'));
          if (b)
            out += `  CPU per check, ldirectord / ${a.who} (${a.servers} ${a.kind === 'tcp' ? 'connect' : 'http'}) = ${(b.cpuMsPer1000Checks / a.cpuMsPer1000Checks).toFixed(1)}x\n`;
        }
        process.stdout.write(out);
      } finally {
        await ns.destroy();
      }
    },
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});
