import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import {
  bridge,
  capabilitiesSync,
  Guest,
  hostRunner,
  Netns,
  removeStaleGuestDirs,
  seedTour,
  tsxLoader,
  veth,
} from '../src/index.js';
import { describeWithLab } from '../src/vitest.js';
import { proofSuite } from './proof.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

// Every step in the guest is a process start under TCG: on a busy 2-core CI
// machine a whole scenario can take far longer than the default 30 s.
vi.setConfig({ testTimeout: 120_000 });

// One guest for the whole file: booted by the first suite that needs it, shut down after the last.
let booted: Promise<Guest> | undefined;
const fileStart = Date.now();
function sharedGuest(): Promise<Guest> {
  booted ??= Guest.boot({ log: (l) => process.stderr.write(`[lab] ${l}\n`) });
  return booted;
}
afterAll(async () => {
  if (!booted) return;
  await (await booted.catch(() => undefined))?.shutdown();
  process.stderr.write(`[lab] guest suites took ${((Date.now() - fileStart) / 1000).toFixed(1)} s\n`);
});

describeWithLab(['guest'], 'in the qemu guest with the IPVS kernel', () => {
  let guest: Guest;
  beforeAll(async () => {
    guest = await sharedGuest();
  });

  describe('the guest runner', () => {
    it('runs commands inside: output, exit code, stdin, env and cwd', async () => {
      const uname = await guest.exec(['uname', '-r']);
      expect(uname.stdout.trim()).toBe(guest.kernel);
      expect(guest.kernel).not.toBe((await import('node:os')).release());
      expect(await guest.exec(['sh', '-c', 'echo out; echo err >&2; exit 7'])).toEqual({
        stdout: 'out\n',
        stderr: 'err\n',
        code: 7,
      });
      const cat = await guest.exec(['sh', '-c', 'cat; echo "$LAB_X"; pwd'], {
        input: 'in\n',
        env: { LAB_X: 'x1' },
        cwd: '/etc',
      });
      expect(cat.stdout).toBe('in\nx1\n/etc\n');
      await expect(guest.exec(['sh', '-c', 'exit 3'], { check: true })).rejects.toMatchObject({
        code: 'COMMAND_FAILED',
      });
      await expect(guest.exec(['/nonexistent'])).rejects.toMatchObject({ code: 'COMMAND_FAILED' });
      const t = Date.now();
      await expect(guest.exec(['sleep', '20'], { timeoutMs: 500 })).rejects.toMatchObject({
        code: 'TIMEOUT',
      });
      expect(Date.now() - t).toBeLessThan(10_000);
    });

    it('has kernel IPVS with every scheduler, and the host tree read-only', async () => {
      const r = await guest.sh(
        'cat /proc/net/ip_vs; ipvsadm -A -t 192.0.2.50:80 -s wrr && ipvsadm -Ln && ipvsadm -C; ls /sys/module | grep ^ip_vs',
      );
      expect(r.stdout).toContain('IP Virtual Server version');
      expect(r.stdout).toContain('TCP  192.0.2.50:80 wrr');
      for (const s of [
        'rr',
        'wrr',
        'lc',
        'wlc',
        'lblc',
        'lblcr',
        'dh',
        'sh',
        'sed',
        'nq',
        'fo',
        'ovf',
        'mh',
      ]) {
        expect(r.stdout).toContain(`ip_vs_${s}\n`);
      }
      // No way out: the guest's only network device is lo (qemu -nic none).
      const links = await guest.exec(['ip', '-o', 'link', 'show'], { check: true });
      expect(
        links.stdout
          .trim()
          .split('\n')
          .map((l) => l.split(': ')[1]),
      ).toEqual(['lo']);
      const ro = await guest.exec(['touch', join(packageDir, 'should-not-exist')]);
      expect(ro.code).not.toBe(0);
      expect(ro.stderr).toMatch(/Read-only file system/);
    });

    it('runs the host Node and resolves the IPVS generic-netlink family with the netlink package', async () => {
      const script = `
      const { createGenericNetlink, genl } = require('netlink');
      const s = createGenericNetlink();
      s.ctrlRequest(genl.Commands.GET_FAMILY, { familyName: 'IPVS' }, {}).then((r) => {
        console.log(JSON.stringify(r.map((f) => ({ name: f.familyName, id: f.familyId, ops: (f.ops || []).length }))));
        process.exit(0);
      }, (e) => { console.error(e.message); process.exit(1); });
    `;
      const r = await guest.exec(['node', '-e', script], { cwd: packageDir });
      expect(r.code, r.stderr).toBe(0);
      const [family] = JSON.parse(r.stdout) as { name: string; id: number; ops: number }[];
      expect(family?.name).toBe('IPVS');
      expect(family?.id).toBeGreaterThan(0x10);
      expect(family?.ops).toBeGreaterThan(10);
    });

    it('runs TypeScript inside with tsx (node --import tsxLoader())', async () => {
      const file = join(guest.shareDir, 'answer.ts');
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder is the guest program's, not ours
      writeFileSync(file, 'const answer: number = 41;\nconsole.log(`${answer + 1} ${process.platform}`);\n');
      const r = await guest.exec(['node', '--import', tsxLoader(), file], { cwd: '/' });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('42 linux\n');
    });

    it('shares a writable directory at the same path on both sides', async () => {
      writeFileSync(join(guest.shareDir, 'from-host'), 'hello guest\n');
      const r = await guest.sh(
        `cat ${guest.shareDir}/from-host; echo hello host > ${guest.shareDir}/from-guest`,
      );
      expect(r.stdout).toBe('hello guest\n');
      expect(readFileSync(join(guest.shareDir, 'from-guest'), 'utf8')).toBe('hello host\n');
    });

    it('creates namespaces, veth pairs and bridges inside the guest', async () => {
      const [a, b, sw] = await Promise.all([
        Netns.create('a', { runner: guest }),
        Netns.create('b', { runner: guest }),
        Netns.create('sw', { runner: guest }),
      ]);
      await veth(a, 'eth0', sw, 'a0');
      await veth(b, 'eth0', sw, 'b0');
      await bridge(sw, 'br0', ['a0', 'b0']);
      await a.addAddress('eth0', '192.0.2.1/24');
      await b.addAddress('eth0', '192.0.2.2/24');
      const ping = await a.exec(['ping', '-c', '1', '-W', '3', '192.0.2.2']);
      expect(ping.code, ping.stdout + ping.stderr).toBe(0);
      // A server started in one namespace answers the other, and stops on request.
      const server = await b.start(['busybox', 'nc', '-l', '-p', '7000', '-e', 'echo', 'from-b']);
      let got = '';
      for (let i = 0; i < 20 && !got.includes('from-b'); i++) {
        got = (await a.exec(['busybox', 'nc', '-w', '2', '192.0.2.2', '7000'])).stdout;
      }
      expect(got).toContain('from-b');
      await server.stop();
      const sleeper = await a.start(['sleep', '30']);
      expect(await sleeper.running()).toBe(true);
      await sleeper.stop();
      expect(await sleeper.running()).toBe(false);
      for (const ns of [a, b, sw]) await ns.destroy();
      const left = await guest.exec(['ip', 'netns', 'list']);
      expect(left.stdout).not.toContain(a.name);
    });
  });
});

// On a machine whose kernel has IPVS the proof runs there, with no VM.
describeWithLab(['ipvs'], "proof: the seed's IPVS service set up by hand", () => {
  proofSuite(async () => (capabilitiesSync().hostIpvs ? hostRunner : await sharedGuest()));
});

describeWithLab(['ipvs'], 'the guided tour (lvs-ha lab)', () => {
  it('shows the seed network, the balance, the counters and the VIP moving, then tears down', async () => {
    const runner = capabilitiesSync().hostIpvs ? hostRunner : await sharedGuest();
    const lines: string[] = [];
    await seedTour({ requests: 8, runner, say: (l) => lines.push(l) });
    const text = lines.join('\n');
    expect(text).toMatch(/rs1 \(realServer\)\n\s+lo\s+UNKNOWN\s+127\.0\.0\.1\/8 192\.0\.2\.50\/32/);
    expect(text.match(/"Apache Server Status" found/g)).toHaveLength(2);
    expect(text).toMatch(/TCP {2}192\.0\.2\.50:80 wrr\n\s+-> 192\.0\.2\.21:80\s+Route\s+5/);
    expect(text).toContain('answered by rs1: 4, rs2: 4');
    expect(text).toMatch(/TCP {2}192\.0\.2\.50:80\s+8\s+\d+\s+0\s/); // 8 connections, OutPkts 0
    const [before, after] = [...text.matchAll(/ARP entry for 192\.0\.2\.50: (\S+) \((load\d) is (\S+)\)/g)];
    expect(before?.[1]).toBe(before?.[3]);
    expect(after?.[2]).toBe('load2');
    expect(after?.[1]).toBe(after?.[3]);
    expect(text).toContain('8 more requests: answered by rs1: 4, rs2: 4');
    expect(text).toMatch(/Torn down\./);
    // Nothing left behind in the guest (or on this machine).
    const left = await runner.exec(['ip', 'netns', 'list']);
    expect(left.stdout).not.toMatch(/lvsha-\d+-\d+-(client|load1|rs1)/);
    // The tour waits for Heartbeat's deadtime and ldirectord's checks under
    // TCG emulation: on a loaded 2-core machine it took over 120 s once.
  }, 300_000);
});

describeWithLab(['guest'], 'the qemu guest never outlives its parent', () => {
  it('qemu dies when the process that booted it is SIGKILLed', async () => {
    // Plain node with tsx as a loader (not the tsx CLI, which would put a second process between).
    const script = join(mkdtempSync(join(tmpdir(), 'lvsha-kill-')), 'boot.mts');
    writeFileSync(
      script,
      `import { Guest } from ${JSON.stringify(join(packageDir, 'src', 'guest.ts'))};
      Guest.boot({ log: (l) => console.log(l) }).catch((e) => { console.error(e.message); process.exit(1); });
      setInterval(() => {}, 1000);`,
    );
    onTestFinished(() => rmSync(dirname(script), { recursive: true, force: true }));
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    const qemuPid = await new Promise<number>((resolve, reject) => {
      let seen = '';
      child.stdout.on('data', (b: Buffer) => {
        seen += b.toString();
        const m = /qemu pid (\d+) started/.exec(seen);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (c) => reject(new Error(`child exited ${c}: ${seen}`)));
    });
    expect(existsSync(`/proc/${qemuPid}`)).toBe(true);
    // The pid is setpriv's until it execs qemu: wait for the exec.
    const cmdline = () => {
      try {
        return readFileSync(`/proc/${qemuPid}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    };
    for (let i = 0; i < 100 && !cmdline().includes('qemu-system-x86_64'); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(cmdline()).toContain('qemu-system-x86_64');
    child.kill('SIGKILL');
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      await new Promise((r) => setTimeout(r, 100));
      gone =
        !existsSync(`/proc/${qemuPid}`) ||
        /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${qemuPid}/stat`, 'utf8'));
    }
    expect(gone).toBe(true);
    // The next boot removes the directory the killed process left in /tmp.
    expect(removeStaleGuestDirs().some((d) => d.startsWith(`lvsha-guest-${child.pid}-`))).toBe(true);
  });
});
