import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  buildInitramfs,
  chooseAccel,
  decodeCpio,
  encodeCpio,
  guestImageStatus,
  initScript,
  keptDirectories,
  LabError,
  moduleDepends,
  moduleKey,
  orderModules,
  parseModinfo,
  type QemuOptions,
  qemuArgs,
} from '../src/index.js';

const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url));

describe('cpio newc', () => {
  it('round-trips directories, files, symlinks and device nodes with 4-byte alignment', () => {
    const bytes = encodeCpio([
      { type: 'dir', path: 'bin' },
      { type: 'file', path: 'bin/x', data: 'abcde', mode: 0o755 },
      { type: 'symlink', path: 'bin/sh', target: 'x' },
      { type: 'char', path: 'dev/console', major: 5, minor: 1 },
    ]);
    expect(bytes.length % 4).toBe(0);
    expect(new TextDecoder().decode(bytes.subarray(0, 6))).toBe('070701');
    const members = decodeCpio(bytes);
    expect(members.map((m) => [m.path, m.mode.toString(8)])).toEqual([
      ['bin', '40755'],
      ['bin/x', '100755'],
      ['bin/sh', '120777'],
      ['dev/console', '20600'],
    ]);
    expect(new TextDecoder().decode(members[1]!.data)).toBe('abcde');
    expect(new TextDecoder().decode(members[2]!.data)).toBe('x');
    expect([members[3]!.rdevMajor, members[3]!.rdevMinor]).toEqual([5, 1]);
    // The archive ends with the trailer entry.
    expect(new TextDecoder().decode(bytes)).toContain('TRAILER!!!');
  });

  it('rejects paths that would escape the archive root', () => {
    expect(() => encodeCpio([{ type: 'dir', path: '../etc' }])).toThrow(RangeError);
    expect(() => encodeCpio([{ type: 'dir', path: '' }])).toThrow(RangeError);
  });
});

describe('kernel module metadata', () => {
  it("reads a real Debian module's .modinfo", () => {
    const info = parseModinfo(fixture('ip_vs_wrr.ko'));
    expect(info.get('name')).toEqual(['ip_vs_wrr']);
    expect(moduleDepends(info)).toEqual(['ip_vs']);
    expect(info.get('license')).toEqual(['GPL']);
    const crc = parseModinfo(fixture('libcrc32c.ko'));
    expect(crc.get('softdep')?.[0]).toMatch(/pre: crc32c/);
  });

  it('rejects what is not a module', () => {
    expect(() =>
      parseModinfo(new TextEncoder().encode('not an elf file at all, but long enough to read a header')),
    ).toThrow(LabError);
  });

  it('orders modules after their dependencies, keeping the requested order otherwise', () => {
    const deps: Record<string, string[]> = {
      ip_vs: ['nf_conntrack', 'libcrc32c'],
      ip_vs_wrr: ['ip_vs'],
      nf_conntrack: ['nf_defrag_ipv4'],
      nf_defrag_ipv4: [],
      libcrc32c: [],
      crc32c_generic: [],
    };
    expect(orderModules(['crc32c_generic', 'ip_vs_wrr'], (k) => deps[k])).toEqual([
      'crc32c_generic',
      'nf_defrag_ipv4',
      'nf_conntrack',
      'libcrc32c',
      'ip_vs',
      'ip_vs_wrr',
    ]);
    expect(moduleKey('virtio-rng.ko')).toBe('virtio_rng');
    expect(() => orderModules(['ip_vs'], (k) => (k === 'ip_vs' ? ['nope'] : undefined))).toThrow(
      /nope not found/,
    );
    expect(() => orderModules(['a'], (k) => (k === 'a' ? ['b'] : ['a']))).toThrow(/cycle/);
  });
});

describe('initramfs and qemu command line', () => {
  it('puts busybox, the modules in load order and an executable init in the archive', () => {
    const members = decodeCpio(
      buildInitramfs({
        busybox: new Uint8Array([1, 2, 3]),
        modules: [
          { key: 'crc32c_generic', data: new Uint8Array([4]) },
          { key: 'ip_vs', data: new Uint8Array([5]) },
        ],
      }),
    );
    const byPath = new Map(members.map((m) => [m.path, m]));
    expect(byPath.get('bin/busybox')?.mode).toBe(0o100755);
    expect(byPath.get('init')?.mode).toBe(0o100755);
    expect(byPath.get('dev/console')?.rdevMajor).toBe(5);
    expect(byPath.has('lib/modules/ip_vs.ko')).toBe(true);
    const init = new TextDecoder().decode(byPath.get('init')!.data);
    expect(init).toContain('for m in crc32c_generic ip_vs; do');
    expect(init).toContain('dummy) args=numdummies=0');
    expect(init).toContain('mount -t 9p -o trans=virtio,version=9p2000.L,ro');
    expect(init).toBe(initScript(['crc32c_generic', 'ip_vs']));
  });

  it('builds a qemu command line with no network device and the host root read-only', () => {
    const opts: QemuOptions = {
      image: {
        kernelRelease: 'r',
        packageVersion: 'v',
        vmlinuz: '/c/vmlinuz',
        initramfs: '/c/initrd',
        modules: [],
        format: 1,
      },
      socket: '/t/ctl.sock',
      consoleLog: '/t/console.log',
      share: '/t/share',
      nodePath: '/usr/bin/node',
      agentPath: '/w/agent.mjs',
      memoryMb: 512,
      cpus: 1,
      accel: 'tcg',
      tmpfs: ['/var/lib/heartbeat'],
    };
    const args = qemuArgs(opts);
    const joined = args.join(' ');
    expect(args.slice(args.indexOf('-nic'), args.indexOf('-nic') + 2)).toEqual(['-nic', 'none']);
    expect(joined).toContain('path=/,security_model=none,readonly=on');
    expect(joined).toContain(
      'lab.node=/usr/bin/node lab.agent=/w/agent.mjs lab.share=/t/share lab.tmpfs=/var/lib/heartbeat',
    );
    expect(joined).toContain('tcg,thread=multi');
    expect(joined).not.toMatch(/-netdev|user,|tap/);
    // Paths go on the kernel command line, split at spaces (and tmpfs at commas).
    expect(() => qemuArgs({ ...opts, share: '/a b' })).toThrow(LabError);
    expect(() => qemuArgs({ ...opts, tmpfs: ['/a,b'] })).toThrow(/spaces or commas/);
    expect(qemuArgs({ ...opts, keep: ['/tmp/clone'] }).join(' ')).toContain('lab.keep=/tmp/clone');
  });

  it('keeps a project cloned under a guest tmpfs visible (the first directory below it)', () => {
    expect(keptDirectories(['/tmp/ci-clone/packages/lab', '/tmp/ci-clone/packages/lab/agent/a.mjs'])).toEqual(
      ['/tmp/ci-clone'],
    );
    expect(keptDirectories(['/root/lvs-ha/packages/ipvs', '/work/main/x'])).toEqual(['/root/lvs-ha']);
    expect(keptDirectories(['/srv/x/y'], ['/srv'])).toEqual(['/srv/x']);
    expect(keptDirectories(['/work/main', '/root', '/tmp'])).toEqual([]);
  });

  it('uses KVM only where a probe found it working', () => {
    expect(chooseAccel('tcg', true, { works: true, reason: '' })).toBe('tcg');
    expect(chooseAccel('kvm', false, undefined)).toBe('kvm');
    expect(chooseAccel('auto', false, undefined)).toBe('tcg');
    expect(chooseAccel('auto', true, undefined)).toBe('probe');
    expect(chooseAccel('auto', true, { works: false, reason: 'failed to set MSR' })).toBe('tcg');
    expect(chooseAccel('auto', true, { works: true, reason: 'booted' })).toBe('kvm');
  });

  it('a cached image is reported ready only when complete', () => {
    const st = guestImageStatus('/nonexistent/lvs-ha-cache');
    expect(st.ready).toBe(false);
    expect(st.reason).toMatch(/nonexistent/);
  });
});

it('the cached initramfs (when present) is a gzip newc archive with ip_vs', () => {
  const st = guestImageStatus();
  if (!st.ready || !st.image) return;
  const members = decodeCpio(gunzipSync(readFileSync(st.image.initramfs)));
  expect(members.some((m) => m.path === 'lib/modules/ip_vs.ko')).toBe(true);
  expect(st.image.modules.indexOf('crc32c_generic')).toBeLessThan(st.image.modules.indexOf('libcrc32c'));
});
