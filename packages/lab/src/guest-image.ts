// The guest's kernel, modules and initramfs, built from Debian's
// linux-image-amd64 package into a cache directory (never installed on the
// host). Building it is prepareGuestImage(); guestImageStatus() only looks.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the guest image lives: $LVS_HA_GUEST_CACHE, else $XDG_CACHE_HOME/lvs-ha/guest, else ~/.cache/lvs-ha/guest. */
export function guestCacheDir(): string {
  if (process.env.LVS_HA_GUEST_CACHE) return process.env.LVS_HA_GUEST_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'lvs-ha', 'guest');
}

/** What a prepared image consists of (written last, as image.json, so a half-built cache is not "ready"). */
export interface GuestImage {
  /** The kernel release, e.g. 6.1.0-56-amd64. */
  kernelRelease: string;
  /** The Debian package version it came from, e.g. 6.1.192-2. */
  packageVersion: string;
  vmlinuz: string;
  initramfs: string;
  /** Modules loaded at boot, in load order. */
  modules: string[];
  /** Version of the initramfs layout; a newer lab rebuilds older images. */
  format: number;
}

/** Bumped whenever the initramfs's init or module list changes. */
export const GUEST_IMAGE_FORMAT = 1;

export interface GuestImageStatus {
  ready: boolean;
  /** Not ready, but this machine has what building it needs (root, apt-get, dpkg-deb, busybox). */
  preparable: boolean;
  image?: GuestImage;
  reason: string;
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function guestImageStatus(dir = guestCacheDir()): GuestImageStatus {
  const manifest = join(dir, 'image.json');
  if (existsSync(manifest)) {
    try {
      const image = JSON.parse(readFileSync(manifest, 'utf8')) as GuestImage;
      if (image.format === GUEST_IMAGE_FORMAT && existsSync(image.vmlinuz) && existsSync(image.initramfs)) {
        return {
          ready: true,
          preparable: true,
          image,
          reason: `guest image ${image.kernelRelease} in ${dir}`,
        };
      }
    } catch {
      // unreadable manifest: rebuild
    }
  }
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  for (const c of ['apt-get', 'dpkg-deb']) if (!have(c)) missing.push(c);
  if (!existsSync('/bin/busybox') && !have('busybox'))
    missing.push('busybox (Debian package busybox-static)');
  if (missing.length > 0) {
    return {
      ready: false,
      preparable: false,
      reason: `not built in ${dir}, and building it needs ${missing.join(', ')} (run scripts/setup-system.sh as root)`,
    };
  }
  return { ready: false, preparable: true, reason: `not built yet in ${dir}; it is built on first boot` };
}
