// A routed lab on the host: a "router" namespace running BIRD 2 with BGP
// from every director (dynamic sessions from 192.0.2.0/24), BFD, and ECMP
// into its kernel table (merge paths), on a bridge; director namespaces,
// each on a veth into that bridge, each running the BIRD our writer writes,
// under our supervisor, driven by our client.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bridge, hostRunner, Netns, until, veth } from '@lvs-ha/lab';
import {
  type BirdClient,
  BirdProcess,
  checkConfig,
  type DirectorBirdConfig,
  type WrittenBirdConfig,
  writeDirectorConfig,
} from '../../src/index.js';

export const ROUTER_ADDRESS = '192.0.2.1';
export const ROUTER_AS = 64512;
export const DIRECTOR_AS = 64513;

/** The router side: what a user puts on the upstream router (the README's example). */
export const ROUTER_CONFIG = `log stderr all;
router id ${ROUTER_ADDRESS};

protocol device {
}

# The directors' VIPs into the kernel, every equal path as one ECMP route.
protocol kernel {
  ipv4 { import none; export where source = RTS_BGP; };
  merge paths on;
}

protocol bfd {
  interface "*" {
    min rx interval 100 ms;
    min tx interval 100 ms;
    multiplier 3;
  };
}

# One session per director that connects from 192.0.2.0/24 (BIRD's dynamic BGP).
protocol bgp directors {
  local ${ROUTER_ADDRESS} as ${ROUTER_AS};
  neighbor range 192.0.2.0/24 as ${DIRECTOR_AS};
  dynamic name "director";
  hold time 9;
  # Back soon after a failure (BIRD's default waits 60 s, then up to 300 s).
  error wait time 1, 10;
  bfd on;
  ipv4 {
    import where net ~ [ 203.0.113.0/24{32,32} ];
    export none;
  };
}
`;

export interface Director {
  ns: Netns;
  address: string;
  written: WrittenBirdConfig;
  configPath: string;
  socket: string;
  bird: BirdProcess;
  client: BirdClient;
}

export interface RoutedLab {
  router: Netns;
  routerBird: BirdProcess;
  routerClient: BirdClient;
  directors: Director[];
  dir: string;
  /** starts (again) the BIRD of a director, with the same config and socket */
  restart(d: Director): Promise<void>;
  destroy(): Promise<void>;
}

export function directorConfig(address: string, vips: readonly string[]): DirectorBirdConfig {
  return {
    routerId: address,
    localAs: DIRECTOR_AS,
    neighbors: [{ address: ROUTER_ADDRESS, as: ROUTER_AS }],
    vips,
    bfd: { intervalMs: 100, multiplier: 3 },
    holdTime: 9,
  };
}

export interface RouterLab {
  router: Netns;
  routerBird: BirdProcess;
  routerClient: BirdClient;
  /** the director namespaces, each with eth0 on the router's bridge */
  hosts: { ns: Netns; address: string }[];
  dir: string;
  destroy(): Promise<void>;
}

/** The router running BIRD, and `directors` namespaces wired to it (192.0.2.11, .12...) with nothing running. */
export async function routerLab(directors: number): Promise<RouterLab> {
  const dir = await mkdtemp(join(tmpdir(), 'lvs-ha-bird-'));
  const labels = ['router', ...Array.from({ length: directors }, (_, i) => `dir${i + 1}`)];
  const [router, ...dns] = await Netns.createMany(labels);
  if (!router) throw new Error('no router namespace');
  await bridge(router, 'br0');
  await router.addAddress('br0', `${ROUTER_ADDRESS}/24`, ['brd', '+']);
  await router.sysctl('net.ipv4.fib_multipath_hash_policy', '1');
  const routerConf = join(dir, 'router.conf');
  await writeFile(routerConf, ROUTER_CONFIG);
  await checkConfig({ file: routerConf });
  const routerBird = await BirdProcess.start({
    config: routerConf,
    socket: join(dir, 'router.ctl'),
    wrap: ['ip', 'netns', 'exec', router.name],
  });
  const routerClient = await routerBird.connect();
  const hosts: RouterLab['hosts'] = [];
  for (const [i, ns] of dns.entries()) {
    const address = `192.0.2.${11 + i}`;
    await veth(router, `d${i + 1}`, ns, 'eth0');
    await router.ip(['link', 'set', `d${i + 1}`, 'master', 'br0']);
    await ns.addAddress('eth0', `${address}/24`, ['brd', '+']);
    hosts.push({ ns, address });
  }
  return {
    router,
    routerBird,
    routerClient,
    hosts,
    dir,
    async destroy() {
      await routerClient.close();
      await routerBird.stop(1000);
      for (const ns of [router, ...dns]) await ns.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function routedLab(options: { directors: number; vips: readonly string[] }): Promise<RoutedLab> {
  const base = await routerLab(options.directors);
  const { router, routerBird, routerClient, dir } = base;
  const directors: Director[] = [];
  for (const [i, { ns, address }] of base.hosts.entries()) {
    const written = writeDirectorConfig(directorConfig(address, options.vips));
    const configPath = join(dir, `director${i + 1}.conf`);
    await writeFile(configPath, written.text);
    await checkConfig({ file: configPath });
    const socket = join(dir, `director${i + 1}.ctl`);
    const bird = await BirdProcess.start({
      config: configPath,
      socket,
      wrap: ['ip', 'netns', 'exec', ns.name],
    });
    directors.push({ ns, address, written, configPath, socket, bird, client: await bird.connect() });
  }

  const lab: RoutedLab = {
    router,
    routerBird,
    routerClient,
    directors,
    dir,
    async restart(d) {
      await d.client.close();
      d.bird = await BirdProcess.start({
        config: d.configPath,
        socket: d.socket,
        wrap: ['ip', 'netns', 'exec', d.ns.name],
      });
      d.client = await d.bird.connect();
    },
    async destroy() {
      for (const d of directors) {
        await d.client.close();
        await d.bird.stop(1000);
      }
      await base.destroy();
    },
  };
  return lab;
}

/** The next hops of `prefix` in the router namespace's kernel table (`ip -j route`), sorted. */
export async function kernelNextHops(router: Netns, prefix: string): Promise<string[]> {
  const r = await hostRunner.exec(['ip', '-n', router.name, '-j', 'route', 'show', prefix], { check: true });
  const routes = JSON.parse(r.stdout || '[]') as { gateway?: string; nexthops?: { gateway: string }[] }[];
  const hops: string[] = [];
  for (const route of routes) {
    if (route.gateway) hops.push(route.gateway);
    for (const n of route.nexthops ?? []) hops.push(n.gateway);
  }
  return hops.sort();
}

/**
 * Polls until `ok` holds for the router's next hops of `prefix`; resolves
 * with the milliseconds it took from `since` (default: now), rejects at the
 * deadline with what the table last said.
 */
export async function waitNextHops(
  router: Netns,
  prefix: string,
  ok: (hops: string[]) => boolean,
  options: { since?: number; deadlineMs?: number; what?: string } = {},
): Promise<number> {
  const since = options.since ?? performance.now();
  await until(
    options.what ?? 'next hops',
    () => kernelNextHops(router, prefix),
    Math.max(0, since + (options.deadlineMs ?? 20_000) - performance.now()),
    {
      everyMs: 5,
      holds: ok,
      detail: (hops) => `the router's kernel has ${JSON.stringify(hops)} for ${prefix}`,
    },
  );
  return performance.now() - since;
}

/** Waits until every BGP protocol of the director is Established. */
export async function waitEstablished(d: Director, deadlineMs = 20_000): Promise<number> {
  const bgp = async () =>
    (await d.client.showProtocols(undefined, { all: true })).filter((r) => r.proto === 'BGP');
  return (
    await until(`${d.address}: BGP established`, bgp, deadlineMs, {
      everyMs: 50,
      holds: (rows) => rows.length > 0 && rows.every((r) => r.bgp?.state === 'Established'),
      detail: (rows) => JSON.stringify(rows.map((r) => [r.name, r.info])),
    })
  ).ms;
}
