// `ipvsadm -Ln` / `--stats` / `--rate` / `-S` from the binding:
//
//   node --import tsx examples/ipvs-list.ts [--stats|--rate|--thresholds|--tun-info|--save] [--exact]
import { formatList, formatSave, Ipvs, type ListFormat } from '@lvs-ha/ipvs';

const args = new Set(process.argv.slice(2));
const ipvs = await Ipvs.open();
try {
  const table = await ipvs.getTable();
  if (args.has('--save') || args.has('-S')) process.stdout.write(formatSave(table));
  else {
    const format = (['stats', 'rate', 'thresholds', 'tun-info'] as const).find((f) => args.has(`--${f}`));
    process.stdout.write(
      formatList(table, await ipvs.info(), {
        format: (format ?? 'default') as ListFormat,
        exact: args.has('--exact'),
      }),
    );
  }
} finally {
  ipvs.close();
}
