// A ClusterObservation of `virtuals` × `reals` real servers in the shapes
// ClusterNode.observe() returns, for the metrics' unit test and the scrape
// bench (the real thing is read from a running node in the guest test).
import type { ClusterObservation } from '@lvs-ha/cluster';
import { CHECK_DURATION_BUCKETS } from '@lvs-ha/probes';

const stats = (n: number) => ({
  conns: n,
  inPackets: n * 10,
  outPackets: n * 9,
  inBytes: n * 1000,
  outBytes: n * 9000,
  cps: n % 7,
  inPps: n % 11,
  outPps: n % 13,
  inBps: n * 3,
  outBps: n * 5,
});

export function observation(virtuals: number, reals: number): ClusterObservation {
  const virtualReports: ClusterObservation['directors'][number]['virtuals'] = [];
  const table: ClusterObservation['directors'][number]['table'] = [];
  const checks: ClusterObservation['directors'][number]['checks'] = [];
  for (let v = 0; v < virtuals; v++) {
    const address = `192.0.2.${(v % 250) + 1}`;
    const port = 1000 + v;
    const id = `tcp:${address}:${port}`;
    const service = `${address}:${port}/tcp`;
    const rs: ClusterObservation['directors'][number]['virtuals'][number]['reals'] = [];
    const dests: ClusterObservation['directors'][number]['table'][number]['destinations'] = [];
    for (let r = 0; r < reals; r++) {
      const ra = `198.51.100.${(r % 250) + 1}`;
      const rp = 8000 + Math.floor(r / 250);
      const n = v * reals + r;
      const down = n % 10 === 9;
      rs.push({
        address: ra,
        port: rp,
        health: down ? 'down' : 'up',
        configuredWeight: 1 + (n % 3),
        forward: 'gate',
        ...(!down && { kernel: { weight: 1 + (n % 3), activeConns: n % 5, inactiveConns: n % 4 } }),
        last: down
          ? { ok: false, reason: 'refused', detail: 'connect ECONNREFUSED', durationMs: 0.4 }
          : { ok: true, detail: 'HTTP/1.1 200 OK', durationMs: 2 },
        successes: down ? 0 : 3,
        failures: down ? 1 : 0,
      });
      if (!down)
        dests.push({
          address: ra,
          port: rp,
          family: 'inet',
          forward: 'gate',
          weight: 1 + (n % 3),
          upperThreshold: 0,
          lowerThreshold: 0,
          activeConns: n % 5,
          inactiveConns: n % 4,
          persistentConns: 0,
          stats: stats(n),
          stats64: stats(n),
        });
      checks.push({
        id: `${id}/${ra}:${rp}`,
        up: !down,
        successes: down ? 0 : 3,
        failures: down ? 1 : 0,
        rounds: 4,
        checks: {
          results: down ? { ok: 3, refused: 1 } : { ok: 4 },
          buckets: CHECK_DURATION_BUCKETS.map((b) => (b >= 0.005 ? 4 : 1)),
          sum: 0.0084,
          count: 4,
        },
      });
    }
    virtualReports.push({ id, service, scheduler: 'wrr', inKernel: true, reals: rs });
    table.push({
      protocol: 'tcp',
      address,
      port,
      family: 'inet',
      scheduler: 'wrr',
      netmask: '255.255.255.255',
      onePacket: false,
      schedulerFlags: [],
      flags: 2,
      hashed: true,
      stats: stats(v),
      stats64: stats(v),
      destinations: dests,
    });
  }
  return {
    status: {
      node: 'load1',
      nodeStatus: 'active',
      nodeStatusSince: new Date(Date.now() - 60_000).toISOString(),
      peers: [{ name: 'load2', status: 'active', links: { 'bcast eth0': 'up' } }],
      holding: 'local',
      state: 'stable',
      holdingSince: new Date(Date.now() - 50_000).toISOString(),
      groups: [
        { key: 'load1 192.0.2.50', owner: 'load1', heldHere: true },
        { key: 'load2 192.0.2.51', owner: 'load2', heldHere: false },
      ],
      directors: ['/etc/ha.d/ldirectord.cf'],
      vips: ['192.0.2.50'],
    },
    heartbeat: {
      node: 'load1',
      status: 'active',
      packetsSent: 1234,
      bytesSent: 345_678,
      sendErrors: 0,
      packetsReceived: 1200,
      bytesReceived: 340_000,
      rejected: { AUTH_FAILED: 2, MALFORMED: 1 },
      membership: {
        received: 1197,
        duplicates: 3,
        replays: 0,
        stale: 0,
        notForUs: 0,
        unknownNode: 0,
        malformed: 0,
        rexmitRequested: 5,
        rexmitSent: 4,
        naksSent: 0,
        naksReceived: 0,
        lost: 1,
      },
      transitions: { load1: 2, load2: 2 },
      peers: [
        {
          name: 'load2',
          status: 'active',
          lastHeard: Date.now() - 300,
          links: [{ medium: 'bcast eth0', status: 'up', lastHeard: Date.now() - 300 }],
        },
      ],
      at: Date.now(),
    },
    holdingChanges: 1,
    directors: [{ file: '/etc/ha.d/ldirectord.cf', virtuals: virtualReports, table, checks }],
    counters: {
      operations: { 'add-service': virtuals, 'add-destination': virtuals * reals },
      applyErrors: {},
      reloads: { ok: 1, refused: 1 },
    },
  };
}
