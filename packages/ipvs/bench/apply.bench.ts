// `pnpm bench`: applying 10,000 real servers across 100 services in the
// kernel (lab guest), the binding against `ipvsadm -R` of the same table in
// the same run; the in-guest figures are printed (vitest's own timing of
// this entry includes the guest's process start and is not the figure).
// Plus host-side codec throughput.
import { fileURLToPath } from 'node:url';
import { capabilitiesSync, Guest, tsxLoader } from '@lvs-ha/lab';
import { bench, describe } from 'vitest';
import {
  decodeIpvsMessage,
  encodeIpvsMessage,
  encodeOperation,
  encodeService,
  IPVS_CMD,
  type Operation,
} from '../src/index.js';

const ops: Operation[] = Array.from({ length: 10_000 }, (_, i) => ({
  op: 'add-destination',
  service: { protocol: 'tcp', address: `192.0.2.${(i % 100) + 1}`, port: 80 },
  destination: { address: `10.${i >> 8}.${i & 255}.1`, port: 80, weight: 5 },
}));
const reply = encodeIpvsMessage({
  familyId: 0x20,
  cmd: IPVS_CMD.NEW_SERVICE,
  attrs: { service: { ...encodeService({ protocol: 'tcp', address: '192.0.2.50', port: 80 }) } },
});

describe('codec (host)', () => {
  bench('encode 10,000 NEW_DEST messages', () => {
    for (const op of ops) encodeOperation(op, 0x20);
  });
  bench('decode 10,000 service messages', () => {
    for (let i = 0; i < 10_000; i++) decodeIpvsMessage(reply);
  });
});

const caps = capabilitiesSync();
describe.runIf(caps.guest)('10,000 real servers across 100 services (kernel, lab guest)', () => {
  bench(
    'binding (pipelined) vs ipvsadm -R, 3 rounds each',
    async () => {
      // Booted here: vitest's bench mode runs no beforeAll hooks.
      const guest = await Guest.boot();
      const script = fileURLToPath(new URL('guest/apply-10k.ts', import.meta.url));
      const r = await guest
        .exec(['node', '--import', tsxLoader(), script, '3'], { timeoutMs: 600_000 })
        .finally(() => guest.shutdown());
      if (r.code !== 0) throw new Error(r.stderr);
      const f = JSON.parse(r.stdout) as Record<string, number | number[]>;
      const ms = (v: unknown) =>
        Array.isArray(v) ? v.map((x: number) => `${Math.round(x)} ms`).join(', ') : v;
      process.stdout.write(
        `\n[ipvs bench] apply 10,000 real servers + 100 services, in the guest (TCG):\n` +
          `  binding apply():        ${ms(f.bindingApplyMs)} (${f.datagramsPerApply} datagrams each)\n` +
          `  binding reconcile():    ${ms(f.bindingReconcileFromEmptyMs)}\n` +
          `  ipvsadm -R:             ${ms(f.ipvsadmRestoreMs)}\n` +
          `  median ratio ipvsadm/binding: ${(f.medianRatio as number).toFixed(1)}x\n` +
          `  read the 10,100-entry table: ${Math.round(f.readTableMs as number)} ms; plan unchanged: ${Math.round(f.planUnchangedMs as number)} ms (${f.planUnchangedOperations} ops)\n` +
          `  one weight change: ${f.oneWeightChangeOperations} operation, ${f.oneWeightChangeMessages} netlink message\n`,
      );
    },
    { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});
