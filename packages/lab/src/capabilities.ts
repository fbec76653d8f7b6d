// What this machine offers the lab. Detection is synchronous so that
// describeWithLab can decide at collection time whether a suite runs.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { guestImageStatus } from './guest-image.js';

export interface LabCapabilities {
  /** Running as root (namespaces, ipvsadm and qemu's 9p export of / need it). */
  root: boolean;
  /** Network namespaces can be created on this machine. */
  netns: boolean;
  /** This machine's own kernel has IPVS (then the lab needs no guest). */
  hostIpvs: boolean;
  /** A qemu guest with an IPVS kernel can be booted (qemu + kernel cached or fetchable). */
  guest: boolean;
  /** Why a capability is missing, one sentence each. */
  reasons: string[];
}

export type LabNeed = 'root' | 'netns' | 'guest' | 'ipvs';

/** Finds an executable in PATH (plus the sbin directories, which a non-login PATH may lack). */
export function which(command: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const p = join(dir, command);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // try the next directory
    }
  }
  return undefined;
}

let cached: LabCapabilities | undefined;

/** Probes the machine once per process (cached). */
export function capabilitiesSync(): LabCapabilities {
  if (cached) return cached;
  const reasons: string[] = [];
  const root = process.getuid?.() === 0;
  if (!root) reasons.push('not running as root');

  let netns = false;
  if (!root) {
    reasons.push('network namespaces need root');
  } else if (!which('ip')) {
    reasons.push("no 'ip' command (Debian package iproute2)");
  } else {
    const probe = `lvsha-${process.pid}-probe`;
    const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
    if (add.status === 0) {
      netns = true;
      spawnSync('ip', ['netns', 'del', probe]);
    } else {
      reasons.push(`cannot create a network namespace: ${(add.stderr ?? '').trim() || `exit ${add.status}`}`);
    }
  }

  let hostIpvs = existsSync('/proc/net/ip_vs');
  if (!hostIpvs && root && which('modprobe')) {
    spawnSync('modprobe', ['-q', 'ip_vs']);
    hostIpvs = existsSync('/proc/net/ip_vs');
  }
  if (!hostIpvs) reasons.push('the host kernel has no IPVS (/proc/net/ip_vs missing, modprobe ip_vs failed)');

  const image = guestImageStatus();
  let guest = false;
  if (!root) {
    reasons.push('the qemu guest needs root (it exports / over 9p and runs ipvsadm as root)');
  } else if (!which('qemu-system-x86_64')) {
    reasons.push('no qemu-system-x86_64 (Debian package qemu-system-x86; run scripts/setup-system.sh)');
  } else if (!image.ready && !image.preparable) {
    reasons.push(`no guest kernel image: ${image.reason}`);
  } else {
    guest = true;
  }
  cached = { root, netns, hostIpvs, guest, reasons };
  return cached;
}

/** What this machine offers the lab: root, namespaces, IPVS on the host, the qemu guest. */
export async function capabilities(): Promise<LabCapabilities> {
  return capabilitiesSync();
}

/** The reasons the machine cannot meet `needs`, empty when it can. 'ipvs' is met by the host or the guest. */
export function missingFor(needs: readonly LabNeed[], caps: LabCapabilities = capabilitiesSync()): string[] {
  const missing: string[] = [];
  for (const need of needs) {
    if (need === 'root' && !caps.root) missing.push('needs root');
    if (need === 'netns' && !caps.netns) missing.push('needs network namespaces');
    if (need === 'guest' && !caps.guest) missing.push('needs the qemu IPVS guest');
    if (need === 'ipvs' && !caps.hostIpvs && !caps.guest)
      missing.push('needs kernel IPVS (host or qemu guest)');
  }
  if (missing.length > 0) missing.push(...caps.reasons.map((r) => `(${r})`));
  return missing;
}
