// Figures for the README: codec speed, how fast two hb-proto nodes notice a
// death over real UDP sockets (loopback, keepalive 50 ms, deadtime 200 ms),
// and that 30 % packet loss with a 1 s deadtime causes no false death over
// 10 minutes of simulated time (five seeds, so 50 simulated minutes).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bench, describe } from 'vitest';
import { Authenticator, encodePacket, HeartbeatNode, keyring, Membership, openPacket } from '../src/index.js';
import { SimCluster } from '../test/support/sim.js';

const fixture = readFileSync(
  join(import.meta.dirname, '..', 'test', 'fixtures', 'sha1', '00-status-alpha.bin'),
);
const sha1 = new Authenticator(keyring('sha1', 'hb-proto'));
const status = new Membership({
  node: 'alpha',
  nodes: ['alpha', 'beta'],
  keepaliveMs: 1000,
  deadtimeMs: 5000,
}).start(0)[0];

describe('codec', () => {
  bench('encode + sign a status packet (sha1, message auth + trailer)', () => {
    if (status) encodePacket(status, { auth: sha1 });
  });
  bench('decode + verify a captured Heartbeat status packet (sha1)', () => {
    openPacket(fixture, sha1);
  });
});

const detections: number[] = [];
let port = 20694;

async function oneDeath(): Promise<void> {
  port += 2;
  const mk = (node: string, me: string, peer: string) =>
    new HeartbeatNode({
      node,
      nodes: ['alpha', 'beta'],
      keepaliveMs: 50,
      deadtimeMs: 200,
      media: [{ type: 'ucast', interface: 'lo', address: me, peer, port }],
      auth: keyring('sha1', 'bench'),
    });
  const a = mk('alpha', '127.0.0.2', '127.0.0.3');
  const b = mk('beta', '127.0.0.3', '127.0.0.2');
  const bothActive = new Promise<void>((resolve) => {
    b.on('status', (n, s) => {
      if (n === 'alpha' && s === 'active') resolve();
    });
  });
  await a.start();
  await b.start();
  await bothActive;
  const dead = new Promise<number>((resolve) => {
    b.on('status', (n, s) => {
      if (n === 'alpha' && s === 'dead') resolve(performance.now());
    });
  });
  // a crash: alpha falls silent at a random point of its keepalive cycle
  await new Promise((r) => setTimeout(r, Math.random() * 50));
  const crashedAt = performance.now();
  await a.close();
  detections.push((await dead) - crashedAt);
  await b.close();
}

function reportDetections(): void {
  const s = [...detections].sort((x, y) => x - y);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]?.toFixed(1);
  process.stderr.write(
    `[hb-proto] death detected after crash: n=${s.length} min=${at(0)} ms median=${at(0.5)} max=${s.at(-1)?.toFixed(1)} ms (limit 300 ms)\n`,
  );
  if ((s.at(-1) ?? 0) >= 300) throw new Error(`a death took ${s.at(-1)} ms to detect (limit 300 ms)`);
}

describe('death detection over loopback UDP (keepalive 50 ms, deadtime 200 ms)', () => {
  bench(
    'start two nodes, crash one, the other declares it dead',
    async () => {
      await oneDeath();
      if (detections.length === 10) reportDetections();
    },
    { iterations: 10, time: 0, warmupIterations: 0, warmupTime: 0 },
  );
});

const lossRuns: { seed: number; falseDeaths: number; packets: number; rexmits: number }[] = [];

function reportLoss(): void {
  const deaths = lossRuns.reduce((n, r) => n + r.falseDeaths, 0);
  process.stderr.write(
    `[hb-proto] ${lossRuns.length} runs of 10 simulated minutes at 30 % loss: ${deaths} false deaths; ${lossRuns
      .map((r) => `seed ${r.seed}: ${r.packets} packets, ${r.rexmits} rexmit requests`)
      .join('; ')}\n`,
  );
  if (deaths > 0) throw new Error(`${deaths} false deaths at 30 % loss`);
}

describe('30 % loss, keepalive 100 ms, deadtime 1 s: no false death', () => {
  let seed = 0;
  bench(
    '10 minutes of simulated time, two nodes, every packet through the sha1 codec',
    () => {
      seed++;
      const sim = new SimCluster({
        nodes: ['alpha', 'beta'],
        keepaliveMs: 100,
        deadtimeMs: 1000,
        loss: 0.3,
        seed,
      });
      sim.start();
      sim.run(5000); // both active before loss counts
      let falseDeaths = 0;
      for (const name of ['alpha', 'beta']) {
        sim.member(name).on('status', (n, s) => {
          if (n !== name && s === 'dead') falseDeaths++;
        });
      }
      sim.run(5000 + 600_000);
      lossRuns.push({
        seed,
        falseDeaths,
        packets: sim.sent.length,
        rexmits: sim.member('alpha').counters.rexmitRequested + sim.member('beta').counters.rexmitRequested,
      });
      if (lossRuns.length === 5) reportLoss();
    },
    { iterations: 5, time: 0, warmupIterations: 0, warmupTime: 0 },
  );
});
