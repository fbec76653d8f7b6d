// maintenancedir as ldirectord 4.12 reads it (_check_real_for_maintenance):
// a file named after the real server takes it out without a check.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The file names ldirectord looks for, in its order: `IP:port`, `IP`, then
 * for each host name `name:port`, `name`, `short:port`, `short` (the first
 * label of a dotted name). ldirectord gets the name by reverse DNS; here the
 * caller passes the names it knows (no lookup is made). `port` is the real
 * server's port, not checkport. Pure.
 */
export function maintenanceFileNames(host: string, port: number | string, names: readonly string[] = []) {
  const out = [`${host}:${port}`, host];
  for (const name of names) {
    out.push(`${name}:${port}`, name);
    const short = /^([a-z][a-z0-9-]+)\./.exec(name)?.[1];
    if (short) out.push(`${short}:${port}`, short);
  }
  return out;
}

/** The first maintenance file present in `dir` for this real server, or undefined. */
export function maintenanceFile(
  dir: string,
  host: string,
  port: number | string,
  names: readonly string[] = [],
): string | undefined {
  for (const f of maintenanceFileNames(host, port, names)) {
    if (f.includes('/') || f === '.' || f === '..') continue;
    if (existsSync(join(dir, f))) return f;
  }
  return undefined;
}
