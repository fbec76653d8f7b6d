// The guest's kernel, modules and initramfs, built from Debian's
// linux-image-amd64 package into a cache directory (never installed on the
// host). Building it is prepareGuestImage(); guestImageStatus() only looks.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LabError } from './errors.js';
import { buildInitramfs } from './initramfs.js';
import { moduleDepends, moduleKey, orderModules, parseModinfo } from './modules.js';
import { runLocal } from './runner.js';

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
export const GUEST_IMAGE_FORMAT = 3;

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

/** Modules loaded at boot, roots only (dependencies are added); order matters where a soft dependency does. */
export const GUEST_MODULES: readonly string[] = [
  // the control channel and the host root over 9p
  'virtio_pci',
  'virtio_console',
  'virtio_rng',
  '9pnet_virtio',
  '9p',
  // what Node, ip, tc and tcpdump need
  'unix',
  'ipv6',
  'af_packet',
  'veth',
  'bridge',
  'dummy',
  'sch_netem',
  // libcrc32c has a soft dependency on a crc32c implementation: load one first
  'crc32c_generic',
  'libcrc32c',
  'nf_conntrack',
  'ip_vs',
  'ip_vs_rr',
  'ip_vs_wrr',
  'ip_vs_lc',
  'ip_vs_wlc',
  'ip_vs_fo',
  'ip_vs_ovf',
  'ip_vs_lblc',
  'ip_vs_lblcr',
  'ip_vs_dh',
  'ip_vs_sh',
  'ip_vs_mh',
  'ip_vs_sed',
  'ip_vs_nq',
];

export interface PrepareOptions {
  dir?: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Use this linux-image-*.deb instead of downloading one (offline machines). */
  kernelDeb?: string;
  /** Rebuild even when a ready image is cached. */
  force?: boolean;
}

async function findFiles(dir: string, suffix: string, out: Map<string, string>): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await findFiles(p, suffix, out);
    else if (e.name.endsWith(suffix)) out.set(moduleKey(e.name), p);
  }
}

/**
 * Builds the guest image into the cache (once; later calls return the cached
 * one): downloads Debian's linux-image-amd64 with `apt-get download` (the
 * kernel is unpacked into the cache, never installed on the host), takes
 * vmlinuz and the modules GUEST_MODULES needs, and writes a busybox
 * initramfs. Concurrent builders write the same files; image.json is
 * written last, atomically.
 */
export async function prepareGuestImage(opts: PrepareOptions = {}): Promise<GuestImage> {
  const dir = opts.dir ?? guestCacheDir();
  const log = opts.log ?? (() => {});
  const status = guestImageStatus(dir);
  if (status.ready && status.image && !opts.force) return status.image;
  if (!status.preparable) throw new LabError('GUEST_IMAGE', `cannot build the guest image: ${status.reason}`);
  await mkdir(dir, { recursive: true });
  const work = await mkdtemp(join(dir, '.build-'));
  try {
    let deb = opts.kernelDeb ?? process.env.LVS_HA_GUEST_KERNEL_DEB;
    if (!deb) {
      log('downloading linux-image-amd64 from Debian (apt-get download)');
      const meta = await runLocal(['apt-get', 'download', 'linux-image-amd64'], {
        cwd: work,
        timeoutMs: 300_000,
      });
      const metaDeb = (await readdir(work)).find(
        (f) => f.startsWith('linux-image-amd64_') && f.endsWith('.deb'),
      );
      if (meta.code !== 0 || !metaDeb) {
        throw new LabError(
          'GUEST_IMAGE',
          `apt-get download linux-image-amd64 failed (run 'apt-get update' first?): ${meta.stderr.trim()}`,
        );
      }
      const depends = await runLocal(['dpkg-deb', '-f', join(work, metaDeb), 'Depends'], {
        cwd: work,
        check: true,
      });
      const pkg = /linux-image-[0-9][^\s,(]*/.exec(depends.stdout)?.[0];
      if (!pkg)
        throw new LabError('GUEST_IMAGE', `linux-image-amd64 depends on no kernel: ${depends.stdout.trim()}`);
      log(`downloading ${pkg}`);
      const r = await runLocal(['apt-get', 'download', pkg], { cwd: work, timeoutMs: 600_000 });
      deb = (await readdir(work)).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
      if (r.code !== 0 || !deb)
        throw new LabError('GUEST_IMAGE', `apt-get download ${pkg} failed: ${r.stderr.trim()}`);
      deb = join(work, deb);
    }
    const version = (await runLocal(['dpkg-deb', '-f', deb, 'Version'], { check: true })).stdout.trim();
    log(`unpacking ${deb}`);
    const root = join(work, 'root');
    await mkdir(root);
    await runLocal(['dpkg-deb', '-x', deb, root], { check: true, timeoutMs: 300_000 });
    const releases = await readdir(join(root, 'lib', 'modules'));
    const release = releases[0];
    if (!release || releases.length !== 1) {
      throw new LabError(
        'GUEST_IMAGE',
        `expected one kernel in ${deb}, found ${releases.join(', ') || 'none'}`,
      );
    }
    const kos = new Map<string, string>();
    await findFiles(join(root, 'lib', 'modules', release, 'kernel'), '.ko', kos);
    // Debian builds some of what we list into the kernel (unix, virtio...): nothing to load for those.
    const builtin = new Set(
      (await readFile(join(root, 'lib', 'modules', release, 'modules.builtin'), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => moduleKey(l.split('/').at(-1)!)),
    );
    const cache = new Map<string, Uint8Array>();
    const load = async (key: string) => {
      const path = kos.get(key);
      if (!path) return undefined;
      let data = cache.get(key);
      if (!data) {
        data = await readFile(path);
        cache.set(key, data);
      }
      return data;
    };
    // orderModules is synchronous: read every module reachable from the roots first.
    const deps = new Map<string, string[]>();
    const pending = GUEST_MODULES.map(moduleKey);
    while (pending.length > 0) {
      const key = pending.pop()!;
      if (deps.has(key)) continue;
      if (builtin.has(key)) {
        deps.set(key, []);
        continue;
      }
      const data = await load(key);
      if (!data) continue;
      const d = moduleDepends(parseModinfo(data));
      deps.set(key, d);
      pending.push(...d);
    }
    const order = orderModules(GUEST_MODULES, (k) => deps.get(k)).filter((k) => !builtin.has(k));
    const busybox = await readFile(existsSync('/bin/busybox') ? '/bin/busybox' : '/usr/bin/busybox');
    if (busybox.includes('/lib64/ld-linux')) {
      throw new LabError(
        'GUEST_IMAGE',
        'busybox is dynamically linked; install the Debian package busybox-static',
      );
    }
    const cpio = buildInitramfs({ busybox, modules: order.map((key) => ({ key, data: cache.get(key)! })) });
    const vmlinuz = join(dir, `vmlinuz-${release}`);
    const initramfs = join(dir, `initramfs-${release}-f${GUEST_IMAGE_FORMAT}.cpio.gz`);
    await copyFile(join(root, 'boot', `vmlinuz-${release}`), `${vmlinuz}.tmp-${process.pid}`);
    await rename(`${vmlinuz}.tmp-${process.pid}`, vmlinuz);
    await writeFile(`${initramfs}.tmp-${process.pid}`, gzipSync(cpio, { level: 6 }));
    await rename(`${initramfs}.tmp-${process.pid}`, initramfs);
    const image: GuestImage = {
      kernelRelease: release,
      packageVersion: version,
      vmlinuz,
      initramfs,
      modules: order,
      format: GUEST_IMAGE_FORMAT,
    };
    await writeFile(join(dir, `image.json.tmp-${process.pid}`), `${JSON.stringify(image, null, 2)}\n`);
    await rename(join(dir, `image.json.tmp-${process.pid}`), join(dir, 'image.json'));
    log(`guest image ${release} (${version}) ready in ${dir}: ${order.length} modules`);
    return image;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
