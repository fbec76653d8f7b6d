// Checks across the four files: each is valid alone, yet together they can
// still describe a cluster that cannot work (a preferred node Heartbeat does
// not know, a virtual service on an address no director ever holds).
import type { Authkeys } from './authkeys.js';
import { type ConfigError, fileProblem } from './errors.js';
import type { HaCf } from './hacf.js';
import type { Haresources } from './haresources.js';
import type { LdirectordConfig } from './ldirectord.js';

/** A parsed file and the name it was read from (for error positions). */
export interface Named<T> {
  file: string;
  value: T;
}

export interface ClusterFiles {
  haCf?: Named<HaCf>;
  authkeys?: Named<Authkeys>;
  haresources?: Named<Haresources>;
  ldirectord?: Named<LdirectordConfig>;
}

export function checkCluster(files: ClusterFiles): ConfigError[] {
  const problems: ConfigError[] = [];
  const { haCf, haresources, ldirectord } = files;

  if (haCf && haresources) {
    const known = new Set(haCf.value.settings.nodes.map((n) => n.toLowerCase()));
    const autojoin = haCf.value.settings.other['autojoin'];
    for (const g of haresources.value.groups) {
      if (known.has(g.node.toLowerCase()) || autojoin === 'any' || autojoin === 'other') continue;
      problems.push(
        fileProblem({
          code: 'MISMATCH',
          file: haresources.file,
          line: g.line ?? 1,
          column: g.column ?? 1,
          message: `node '${g.node}' is not a node of ${haCf.file} (${[...known].join(', ') || 'none listed'})`,
          hint: `add it to a 'node' line in ${haCf.file}, or fix the name: it must match uname -n`,
        }),
      );
    }
  }

  if (haresources && ldirectord) {
    const vips = new Map<string, { line: number; column: number }>();
    for (const g of haresources.value.groups)
      for (const r of g.resources)
        if (r.kind === 'ipaddr') vips.set(r.address, { line: r.line ?? 1, column: r.column ?? 1 });
    const runsLdirectord = haresources.value.groups.some((g) =>
      g.resources.some((r) => r.kind === 'script' && r.name === 'ldirectord'),
    );
    const served = new Set<string>();
    for (const v of ldirectord.value.virtuals) {
      if (v.address.kind !== 'address' || v.ipv6) continue;
      const host = v.address.host;
      if (!/^\d+\.\d+\.\d+\.\d+$/.test(host)) continue; // a host name: no DNS here
      served.add(host);
      // A warning, not an error: Heartbeat and ldirectord accept it, and the
      // address is often brought up elsewhere (another resource script, a
      // loopback alias, keepalived, the interface's own configuration).
      if (!vips.has(host))
        problems.push(
          fileProblem({
            code: 'MISMATCH',
            file: ldirectord.file,
            line: v.line ?? 1,
            column: v.column ?? 1,
            severity: 'warning',
            message: `virtual service on ${host} but ${haresources.file} brings up no such address: unless it is brought up elsewhere, no director receives its traffic`,
            hint: `add ${host}/32/IFACE to the resource group in ${haresources.file}`,
          }),
        );
    }
    if (runsLdirectord)
      for (const [address, at] of vips)
        if (!served.has(address))
          problems.push(
            fileProblem({
              code: 'MISMATCH',
              file: haresources.file,
              line: at.line,
              column: at.column,
              severity: 'warning',
              message: `VIP ${address} has no virtual service in ${ldirectord.file}`,
              hint: `add 'virtual = ${address}:PORT' to ${ldirectord.file}, or drop the address`,
            }),
          );
  }
  return problems;
}
