// Take a VIP over the way Heartbeat's IPaddr2 + send_arp do, keep watching
// it, and give it back on Ctrl-C / SIGTERM. Run as root in the network
// namespace (or on the host) that should hold the VIP, for example:
//
//   pnpm --filter @lvs-ha/vip build
//   ip netns exec load2 pnpm --filter @lvs-ha/vip exec tsx ../../examples/vip-takeover.ts 192.0.2.50/24/eth0
//
// Prints one JSON line per event.
import { release, takeOver, watchVips } from '@lvs-ha/vip';

const spec = process.argv[2] ?? '192.0.2.50/24/eth0';
const say = (event: string, detail: object = {}) => console.log(JSON.stringify({ event, ...detail }));

// Subscribe before taking over, so a deletion right after is not missed.
const watcher = await watchVips({ vips: [spec] });
watcher.on('error', (e) => say('error', { message: e.message }));
watcher.on('overrun', (s) => say('overrun', s));

const taken = await takeOver(spec, { announce: { count: 5, intervalMs: 200 } });
say('holding', {
  address: taken.announcement.address,
  interface: taken.change.interface,
  mac: taken.announcement.mac,
  added: taken.change.changed,
  probe: taken.probe ? { inUse: taken.probe.inUse, holders: taken.probe.holders } : 'skipped',
  announced: taken.announcement.frames.length,
});

watcher.on('vip-lost', (e) => say('lost', e));
watcher.on('vip-present', (e) => say('present', e));

const keepAlive = setInterval(() => {}, 1 << 30); // the watcher's thread does not hold the process open
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, async () => {
    if (stopping) return;
    stopping = true;
    await watcher.close();
    const r = await release(spec);
    say('released', { removed: r.changed });
    clearInterval(keepAlive);
  });
}
