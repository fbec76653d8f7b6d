// The supervisor and the client against the real BIRD 2 in a namespace:
// start, refusals, exit reports, death with its parent, reconfiguration.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Netns, until } from '@lvs-ha/lab';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  BirdClient,
  BirdClosedError,
  BirdProcess,
  BirdReplyError,
  BirdStartError,
  vipProtocolName,
  writeDirectorConfig,
} from '../src/index.js';
import { describeWithBird } from './support/needs.js';
import { directorConfig } from './support/routing.js';

const VIP = '203.0.113.20';

/** Running: the pid exists and is not a zombie (dead, waiting for whoever adopted it to reap it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

describeWithBird(['root', 'netns'], 'supervisor and client on the real BIRD', () => {
  let ns: Netns;
  let dir: string;
  let config: string;
  const wrap = () => ['ip', 'netns', 'exec', ns.name];

  beforeAll(async () => {
    ns = await Netns.create('bird');
    dir = await mkdtemp(join(tmpdir(), 'lvs-ha-bird-sup-'));
    config = join(dir, 'bird.conf');
    // a director whose router does not exist: BIRD runs, the session waits
    await writeFile(config, writeDirectorConfig(directorConfig('192.0.2.11', [VIP])).text);
  });

  afterAll(async () => {
    await ns?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('start waits for the welcome; stop() is a clean exit and BIRD removes its socket', async () => {
    const socket = join(dir, 'a.ctl');
    const bird = await BirdProcess.start({ config, socket, wrap: wrap() });
    const client = await bird.connect();
    expect(client.welcome).toMatch(/^BIRD 2\.\d+\.\d+ ready\.$/);
    const status = await client.status();
    expect(status).toMatchObject({ routerId: '192.0.2.11', message: 'Daemon is up and running' });
    await client.close();
    const exit = await bird.stop();
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(bird.stopping).toBe(true);
    expect(existsSync(socket)).toBe(false);
  });

  it('a config BIRD refuses: BirdStartError with what BIRD said', async () => {
    const bad = join(dir, 'bad.conf');
    await writeFile(bad, 'router id 192.0.2.11;\nprotocol static { ipv4; route 203.0.113.1/32 nowhere; }\n');
    const e = await BirdProcess.start({ config: bad, socket: join(dir, 'bad.ctl'), wrap: wrap() }).catch(
      (x) => x,
    );
    expect(e).toBeInstanceOf(BirdStartError);
    expect((e as BirdStartError).code).toBe('BIRD_START_FAILED');
    expect((e as BirdStartError).stderr).toMatch(/bad\.conf:2:\d+ syntax error/);
    expect((e as BirdStartError).exitCode).toBe(1);
  });

  it('refuses to start a second BIRD on a socket another one answers on', async () => {
    const socket = join(dir, 'b.ctl');
    const bird = await BirdProcess.start({ config, socket, wrap: wrap() });
    const e = await BirdProcess.start({ config, socket, wrap: wrap() }).catch((x) => x);
    expect(e).toBeInstanceOf(BirdStartError);
    expect((e as Error).message).toMatch(/another BIRD already answers/);
    await bird.stop();
  });

  it('reports a crash: exited resolves with the signal; the client says BIRD_CLOSED', async () => {
    const bird = await BirdProcess.start({ config, socket: join(dir, 'c.ctl'), wrap: wrap() });
    const client = await bird.connect();
    bird.kill('SIGKILL');
    const exit = await bird.exited;
    expect(exit).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(bird.stopping).toBe(false);
    const e = await client.showProtocols().catch((x) => x);
    expect(e).toBeInstanceOf(BirdClosedError);
    expect((e as BirdClosedError).code).toBe('BIRD_CLOSED');
    // and a stale socket file of a dead BIRD is no obstacle to the next start
    const again = await BirdProcess.start({ config, socket: join(dir, 'c.ctl'), wrap: wrap() });
    await again.stop();
  });

  it('BIRD dies with its parent: SIGKILL of the process that started it takes BIRD along', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./child/start-bird.ts', import.meta.url)),
        config,
        join(dir, 'd.ctl'),
        ns.name,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const pid = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(Number(out.trim()));
      });
      child.once('exit', (code) => reject(new Error(`child exited ${code} before starting BIRD`)));
    });
    expect(alive(pid)).toBe(true);
    child.kill('SIGKILL');
    const { ms } = await until(`BIRD pid ${pid} gone`, () => !alive(pid), 2000, { everyMs: 5 });
    process.stderr.write(
      `[bird supervisor] parent SIGKILLed → BIRD pid ${pid} gone in ${ms.toFixed(0)} ms\n`,
    );
  });

  it('enable/disable, and configure: BIRD puts a VIP enabled at run time back to the file\'s "disabled"', async () => {
    const bird = await BirdProcess.start({ config, socket: join(dir, 'e.ctl'), wrap: wrap() });
    const client = await BirdClient.connect(bird.socket);
    const name = vipProtocolName(VIP);
    expect(await client.enable(name)).toBe(true);
    await until(`${name} up`, async () => (await client.protocol(name)).state === 'up', 10_000);
    expect((await client.routes({ for: VIP }))[0]?.paths[0]).toMatchObject({
      type: 'blackhole',
      protocol: name,
    });
    const check = await client.configure({ check: true });
    expect(check.code).toBe(20);
    await client.configure();
    // the reconfigured protocol goes through "flush" on its way down
    await until(`${name} down`, async () => (await client.protocol(name)).state === 'down', 10_000);
    // a file with an error: BIRD keeps running its old one and says where
    const bad = join(dir, 'bad2.conf');
    await writeFile(bad, 'router id 192.0.2.11;\nnonsense;\n');
    const e = await client.configure({ file: bad }).catch((x) => x);
    expect(e).toBeInstanceOf(BirdReplyError);
    expect((e as BirdReplyError).code).toBe('BIRD_CONFIG_FILE_ERROR');
    expect((e as BirdReplyError).text).toMatch(/bad2\.conf:2:\d+/);
    expect((await client.status()).message).toBe('Daemon is up and running');
    // no BFD session yet (the router does not exist), and no route for an unknown net
    expect(await client.routes({ for: '198.51.100.1' })).toEqual([]);
    await client.close();
    await bird.stop();
  });
});
