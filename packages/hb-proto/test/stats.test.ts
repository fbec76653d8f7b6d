// HeartbeatNode.stats(): two real nodes on UDP over loopback (127.0.0.2 and
// 127.0.0.3, no root needed) and a third socket that sends them a forged and
// a garbled packet. What one node counts as sent, the other counts as
// received; what the forger sent is counted by kind and never reaches the
// membership.
import { createSocket } from 'node:dgram';
import { until } from '@lvs-ha/lab';
import { afterEach, expect, it } from 'vitest';
import { Authenticator, encodePacket, F, HeartbeatNode, keyring, message, T } from '../src/index.js';

const PORT = 20_000 + (process.pid % 20_000);
const nodes: HeartbeatNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.close();
});

function node(name: string, address: string, peer: string): HeartbeatNode {
  const n = new HeartbeatNode({
    node: name,
    nodes: ['alpha', 'beta'],
    keepaliveMs: 100,
    deadtimeMs: 1000,
    media: [{ type: 'ucast', interface: 'lo', peer, address, port: PORT }],
    auth: keyring('sha1', 'stats-secret'),
  });
  nodes.push(n);
  return n;
}

/** until() as these tests use it: 10 s, every 20 ms. */
const soon = (what: string, ok: () => boolean) => until(what, ok, 10_000, { everyMs: 20 });

it('counts what it sends, hears and refuses, and when it last heard each peer and link', async () => {
  const a = node('alpha', '127.0.0.2', '127.0.0.3');
  const b = node('beta', '127.0.0.3', '127.0.0.2');
  // beta listens first: every packet alpha sends finds its socket
  await b.start();
  await a.start();
  await soon(
    'each sees the other active',
    () => a.statusOf('beta') === 'active' && b.statusOf('alpha') === 'active',
  );
  const started = Date.now();
  await new Promise((r) => setTimeout(r, 500));

  // a forger on 127.0.0.4: one packet signed with another key, one that is no Heartbeat message
  const forger = createSocket('udp4');
  await new Promise<void>((r) => forger.bind(0, '127.0.0.4', () => r()));
  const forged = encodePacket(
    message([
      [F.type, T.status],
      [F.from, 'alpha'],
    ]),
    {
      auth: new Authenticator(keyring('sha1', 'not-the-key')),
    },
  );
  await new Promise<void>((r, j) => forger.send(forged, PORT, '127.0.0.3', (e) => (e ? j(e) : r())));
  await new Promise<void>((r, j) =>
    forger.send(Buffer.from('garbage\n'), PORT, '127.0.0.3', (e) => (e ? j(e) : r())),
  );
  forger.close();
  await soon('beta refused both', () => Object.values(b.stats().rejected).reduce((x, y) => x + y, 0) === 2);

  // alpha falls silent; what beta heard of it is all alpha sent, plus the forger's two
  await a.close();
  const sa = a.stats();
  await new Promise((r) => setTimeout(r, 200));
  const sb = b.stats();
  expect(sa.packetsSent).toBeGreaterThan(5);
  expect(sb.packetsReceived).toBe(sa.packetsSent + 2);
  expect(sb.bytesReceived).toBe(sa.bytesSent + forged.length + 8);
  expect(sb.rejected).toEqual({ AUTH_FAILED: 1, MALFORMED: 1 });
  // the membership saw alpha's packets only (the refused two never reached it)
  expect(sb.membership.received).toBe(sa.packetsSent);
  expect(sa.sendErrors).toBe(0);
  // alpha: init -> up -> active; beta: up once
  expect(sb.transitions.beta).toBeGreaterThanOrEqual(2);
  expect(sb.transitions.alpha).toBeGreaterThanOrEqual(1);
  const peer = sb.peers.find((p) => p.name === 'alpha');
  expect(peer?.status).toBe('active');
  expect(peer?.lastHeard).toBeGreaterThanOrEqual(started);
  expect(peer?.lastHeard).toBeLessThanOrEqual(sb.at);
  expect(peer?.links).toEqual([
    { medium: 'ucast lo 127.0.0.2', status: 'up', lastHeard: expect.any(Number) },
  ]);
  // alpha's keepalives stop: deadtime later beta says so, and counts the transition
  const before = sb.transitions.alpha ?? 0;
  await soon('beta declares alpha dead', () => b.statusOf('alpha') === 'dead');
  expect(b.stats().transitions.alpha).toBe(before + 1);
  expect(b.stats().peers[0]?.links[0]?.status).toBe('dead');
});
