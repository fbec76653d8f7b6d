// A director's BGP side as a library (@lvs-ha/bird's BirdRouting): reads a
// bgp.cf, runs BIRD with the configuration written from it (BGP + BFD to
// each router, one static protocol per VIP), announces the VIPs given, and
// prints its status (sessions with their BFD state, what is announced) as
// JSON lines; SIGTERM withdraws every VIP, then stops BIRD. For example, in
// a director's namespace whose router runs BIRD (see packages/bird/README.md):
//
//   ip netns exec dir1 node --import tsx examples/bird-announce.ts bgp.cf 203.0.113.10
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BirdRouting, parseRoutingFile } from '@lvs-ha/bird';

const [file = 'bgp.cf', ...vips] = process.argv.slice(2);
const config = parseRoutingFile(await readFile(file, 'utf8'), file, { vips });
const dir = await mkdtemp(join(tmpdir(), 'bird-announce-'));
const routing = await BirdRouting.start({
  config,
  dir,
  onEvent: (e) =>
    console.log(
      JSON.stringify(
        e.type === 'error'
          ? { type: e.type, error: e.error.message }
          : e.type === 'exited'
            ? { type: e.type, ...e.exit }
            : e,
      ),
    ),
});
await routing.setAnnounced(config.vips);
const timer = setInterval(() => {
  routing.status().then(
    (s) => console.log(JSON.stringify(s)),
    (e: Error) => console.log(JSON.stringify({ type: 'status-error', error: e.message })),
  );
}, 1000);
process.once('SIGTERM', () => {
  clearInterval(timer);
  void routing
    .stop()
    .then(() => rm(dir, { recursive: true, force: true }))
    .then(() => {
      console.log('stopped');
      process.exit(0);
    });
});
